//! The goals under the table: each "ours" value held to the goals in
//! `plan.rs`, which `compare/README.md` ("Goals") explains.

use crate::harness::workloads::Via;
use crate::plan::Goal;
use crate::render::number;
use crate::results::{Cell, Results};

/// A timed ratio this close above its goal is within the noise of one run
/// on a busy machine.
const NOISE: f64 = 0.10;

/// ("met" / "missed" / "noise" and the level, what was measured) for every goal a native value of one of our
/// columns can be held to. A byte count or a CPU time is held to its limit
/// as is.
pub fn verdicts(results: &Results) -> Vec<(String, String)> {
    let mut lines = Vec::new();
    for (column, ours) in results.ours() {
        let name = ours.name.as_str();
        let level = name.strip_prefix("taskpool ").unwrap_or(name);
        for row in &results.rows {
            let Cell::Value {
                value,
                via: Via::Native,
            } = row.cells[column]
            else {
                continue;
            };
            let unit = &row.row.unit;
            for (only, goal) in &row.row.goals {
                if only.is_some_and(|only| only != name) {
                    continue;
                }
                let judged = match *goal {
                    Goal::VsBestPeer(limit) => results.ratio(row, column).map(|ratio| {
                        let text = format!(
                            "{:.2}x the best peer ({}), goal at most {limit}x",
                            ratio.ratio, ratio.best_peer_name
                        );
                        (verdict(ratio.ratio, limit), text)
                    }),
                    Goal::VsPeer(peer, limit) => {
                        results.value_of(row, peer).filter(|p| *p > 0.0).map(|p| {
                            let ratio = value / p;
                            let text = format!("{ratio:.2}x {peer}, goal at most {limit}x");
                            (verdict(ratio, limit), text)
                        })
                    }
                    Goal::VsOtherRow {
                        row: other,
                        column: other_column,
                        limit,
                    } => results
                        .row(other)
                        .and_then(|other| results.value_of(other, other_column))
                        .filter(|reference| *reference > 0.0)
                        .map(|reference| {
                            let ratio = value / reference;
                            let other_level = other_column
                                .strip_prefix("taskpool ")
                                .unwrap_or(other_column);
                            let text = format!(
                                "{ratio:.2}x {other_level}'s {other}, goal at most {limit}x"
                            );
                            (verdict(ratio, limit), text)
                        }),
                    Goal::AtMost(limit) => Some((
                        if value <= limit { "met" } else { "missed" },
                        format!(
                            "{} {unit}, goal at most {} {unit}",
                            number(value),
                            number(limit)
                        ),
                    )),
                };
                if let Some((verdict, text)) = judged {
                    lines.push((
                        format!("  {verdict:<6}  {level}  "),
                        format!("{}: {text}", row.row.id),
                    ));
                }
            }
        }
    }
    lines
}

fn verdict(ratio: f64, limit: f64) -> &'static str {
    if ratio <= limit {
        "met"
    } else if ratio <= limit * (1.0 + NOISE) {
        "noise"
    } else {
        "missed"
    }
}
