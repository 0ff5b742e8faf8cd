//! The results as JSON, written by `--json` (`scripts/scaling.sh` keeps one
//! file per thread count).
//!
//! ```json
//! { "format": "taskpool-compare/1",
//!   "setup": { "threads": 2, "cpus": 2, "quick": false, "repetitions": 3, "seconds": 31.5, "load": 0 },
//!   "columns": [ { "name": "taskpool L1", "role": "ours" }, ... ],
//!   "rows": [ { "id": "fire_and_forget", "group": "throughput", "title": "...", "unit": "ns/job",
//!               "cells": [ { "value": 212.0, "via": "native" }, { "missing": "n/a", "reason": "no futures" }, ... ],
//!               "serial": 21.3,
//!               "vs_best_peer": { "taskpool L1": { "ratio": 0.75, "best_peer": "threadpool" } } } ] }
//! ```
//!
//! `load` is the number of other programs' threads that kept running through
//! the half second before the start (not the load average).

use crate::harness::contender::Role;
use crate::harness::workloads::Via;
use crate::results::{Cell, Results};
use serde_json::{Map, Value, json};
use std::path::Path;

const FORMAT: &str = "taskpool-compare/1";

/// Writes `results` to `path`.
///
/// # Errors
///
/// If the file cannot be written.
pub fn write(results: &Results, path: &Path) -> Result<(), String> {
    let text = serde_json::to_string_pretty(&to_value(results))
        .map_err(|error| format!("cannot encode the results: {error}"))?;
    std::fs::write(path, text + "\n")
        .map_err(|error| format!("cannot write {}: {error}", path.display()))
}

fn to_value(results: &Results) -> Value {
    let setup = &results.setup;
    let rows: Vec<Value> = results
        .rows
        .iter()
        .map(|row| {
            let cells: Vec<Value> = row
                .cells
                .iter()
                .map(|cell| match cell {
                    Cell::Value { value, via } => json!({ "value": value, "via": via_id(*via) }),
                    Cell::Missing { label, reason } => {
                        json!({ "missing": label, "reason": reason })
                    }
                })
                .collect();
            let ratios: Map<String, Value> = results
                .ours()
                .filter_map(|(index, column)| {
                    let ratio = results.ratio(row, index)?;
                    Some((
                        column.name.clone(),
                        json!({ "ratio": ratio.ratio, "best_peer": ratio.best_peer_name }),
                    ))
                })
                .collect();
            json!({
                "id": row.row.id,
                "group": row.row.group.id(),
                "title": row.row.title,
                "unit": row.row.unit,
                "indented": row.row.indented,
                "resolution": row.row.resolution,
                "cells": cells,
                "serial": row.serial,
                "vs_best_peer": ratios,
            })
        })
        .collect();
    json!({
        "format": FORMAT,
        "setup": {
            "threads": setup.threads,
            "cpus": setup.cpus,
            "quick": setup.quick,
            "repetitions": setup.repetitions,
            "seconds": setup.seconds,
            "load": setup.load,
        },
        "columns": results.columns.iter().map(|column| json!({
            "name": column.name,
            "role": if column.role == Role::Ours { "ours" } else { "peer" },
        })).collect::<Vec<_>>(),
        "rows": rows,
    })
}

fn via_id(via: Via) -> &'static str {
    match via {
        Via::Native => "native",
        Via::Channel => "channel",
        Via::SpawnAwait => "spawn_await",
        Via::Requeue => "requeue",
        Via::Join => "join",
    }
}
