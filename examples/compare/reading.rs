//! A short plain-language reading of the table, generated from its numbers:
//! where each of our columns wins and loses against the best peer, and how
//! it stands against the goals in `benches/README.md` ("Goals").

use crate::harness::workloads::Via;
use crate::plan::Goal;
use crate::render::number;
use crate::results::{Cell, Ratio, Results, RowResult};
use std::collections::BTreeMap;
use std::fmt::Write;

/// Ratios this close to 1 are within the noise of one run on a busy machine.
const TIE: f64 = 0.10;

/// The reading for every "ours" column.
pub fn reading(results: &Results) -> String {
    let mut out = String::new();
    for (column, ours) in results.ours() {
        let name = &ours.name;
        let compared: Vec<(&RowResult, Ratio)> = results
            .rows
            .iter()
            .filter_map(|row| results.ratio(row, column).map(|ratio| (row, ratio)))
            .collect();
        let wins = compared.iter().filter(|(_, r)| r.ratio < 1.0 - TIE).count();
        let losses = compared.iter().filter(|(_, r)| r.ratio > 1.0 + TIE).count();
        let _ = writeln!(
            out,
            "Reading for {name} (its value / the best peer's: under 1x it wins; within {:.0}% is a tie):",
            TIE * 100.0
        );
        if !compared.is_empty() {
            let _ = writeln!(
                out,
                "- It wins on {wins}, ties on {} and loses on {losses} of the {} rows where it and a peer both ran.",
                compared.len() - wins - losses,
                compared.len(),
            );
        }
        if let Some((row, ratio)) = compared
            .iter()
            .find(|(row, _)| row.row.id == "fire_and_forget")
        {
            let _ = writeln!(
                out,
                "- Fire-and-forget costs {} {} against {}'s {}: {:.2}x the best peer; {}.",
                number(ratio.ours),
                row.row.unit,
                ratio.best_peer_name,
                number(ratio.best_peer),
                ratio.ratio,
                match row.serial {
                    Some(serial) => format!(
                        "the same boxed jobs without a pool cost {} {}, so about {} {} is queueing and waking",
                        number(serial),
                        row.row.unit,
                        number(ratio.ours - serial),
                        row.row.unit
                    ),
                    None => "nearly all of it is queueing and waking".to_owned(),
                }
            );
        }
        let best = compared
            .iter()
            .min_by(|a, b| a.1.ratio.total_cmp(&b.1.ratio));
        let worst = compared
            .iter()
            .max_by(|a, b| a.1.ratio.total_cmp(&b.1.ratio));
        if let Some((row, ratio)) = best.filter(|(_, r)| r.ratio < 1.0 - TIE) {
            let _ = writeln!(out, "- Biggest win: {}.", compared_text(row, ratio));
        }
        if let Some((row, ratio)) = worst.filter(|(_, r)| r.ratio > 1.0 + TIE) {
            let _ = writeln!(out, "- Biggest loss: {}.", compared_text(row, ratio));
            for (row, ratio) in compared
                .iter()
                .filter(|(r, ratio)| ratio.ratio > 1.0 + TIE && r.row.id != row.row.id)
            {
                let _ = writeln!(out, "  Also slower: {}.", compared_text(row, ratio));
            }
        }
        let goals = goal_lines(results, column);
        if !goals.is_empty() {
            let _ = writeln!(out, "- Against the goals (benches/README.md, \"Goals\"):");
            for line in goals {
                let _ = writeln!(out, "  {line}");
            }
        }
        // Rows it has no number for, grouped by why: (label, reason) -> titles.
        let mut missing: BTreeMap<(&str, &str), Vec<&str>> = BTreeMap::new();
        for row in &results.rows {
            if let Cell::Missing { label, reason } = &row.cells[column] {
                missing
                    .entry((label, reason))
                    .or_default()
                    .push(&row.row.title);
            }
        }
        for ((label, reason), titles) in missing {
            let _ = writeln!(out, "- {label} ({reason}): {}.", titles.join("; "));
        }
        out.push('\n');
    }
    out
}

fn compared_text(row: &RowResult, ratio: &Ratio) -> String {
    format!(
        "{}, {:.2}x {} ({} vs {} {}), which exercises {}",
        row.row.title,
        ratio.ratio,
        ratio.best_peer_name,
        number(ratio.ours),
        number(ratio.best_peer),
        row.row.unit,
        row.row.exercises,
    )
}

/// "met" / "missed" for every goal a native value of `column` can be held
/// to. A ratio of timings that misses by less than [`TIE`] is "noise": one
/// run cannot tell; a byte count or a CPU time is held to its limit as is.
fn goal_lines(results: &Results, column: usize) -> Vec<String> {
    let mut lines = Vec::new();
    for row in &results.rows {
        let Cell::Value {
            value,
            via: Via::Native,
        } = row.cells[column]
        else {
            continue;
        };
        let title = &row.row.title;
        let unit = &row.row.unit;
        let name = results.columns[column].name.as_str();
        for (only, goal) in &row.row.goals {
            if only.is_some_and(|only| only != name) {
                continue;
            }
            let judged = match *goal {
                Goal::VsBestPeer(limit) => results.ratio(row, column).map(|ratio| {
                    let text = format!("{title}: {:.2}x the best peer, goal {limit}x", ratio.ratio);
                    (verdict(ratio.ratio, limit), text)
                }),
                Goal::VsPeer(peer, limit) => {
                    results.value_of(row, peer).filter(|p| *p > 0.0).map(|p| {
                        let ratio = value / p;
                        (
                            verdict(ratio, limit),
                            format!("{title}: {ratio:.2}x {peer}, goal at most {limit}x"),
                        )
                    })
                }
                Goal::VsOtherRow {
                    row: other,
                    column: other_column,
                    limit,
                } => results
                    .row(other)
                    .and_then(|other| Some((other, results.value_of(other, other_column)?)))
                    .filter(|(_, reference)| *reference > 0.0)
                    .map(|(other, reference)| {
                        let ratio = value / reference;
                        let text = format!(
                            "{title}: {ratio:.2}x {other_column}'s {}, goal at most {limit}x",
                            other.row.title
                        );
                        (verdict(ratio, limit), text)
                    }),
                Goal::AtMost(limit) => Some((
                    if value <= limit { "met:   " } else { "missed:" },
                    format!(
                        "{title}: {} {unit}, goal at most {} {unit}",
                        number(value),
                        number(limit)
                    ),
                )),
            };
            if let Some((verdict, text)) = judged {
                lines.push(format!("{verdict} {text}"));
            }
        }
    }
    lines
}

fn verdict(ratio: f64, limit: f64) -> &'static str {
    if ratio <= limit {
        "met:   "
    } else if ratio <= limit * (1.0 + TIE) {
        "noise: "
    } else {
        "missed:"
    }
}
