//! The results as JSON, written by `--json` and read back by
//! `--scaling-report`.
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
use crate::plan::{Group, Row};
use crate::results::{Cell, Column, Results, RowResult, Setup};
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

/// Reads results that [`write`] wrote.
///
/// # Errors
///
/// If the file cannot be read or is not such a file.
pub fn read(path: &Path) -> Result<Results, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|error| format!("cannot read {}: {error}", path.display()))?;
    let value: Value =
        serde_json::from_str(&text).map_err(|error| format!("{}: {error}", path.display()))?;
    from_value(&value).ok_or_else(|| format!("{}: not a {FORMAT} file", path.display()))
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

fn from_value(value: &Value) -> Option<Results> {
    if value["format"] != FORMAT {
        return None;
    }
    let setup = &value["setup"];
    let count = |key: &str| setup[key].as_u64().and_then(|n| usize::try_from(n).ok());
    let setup = Setup {
        threads: count("threads")?,
        cpus: count("cpus")?,
        quick: setup["quick"].as_bool()?,
        repetitions: count("repetitions")?,
        seconds: setup["seconds"].as_f64()?,
        load: setup["load"].as_f64(),
    };
    let columns = value["columns"]
        .as_array()?
        .iter()
        .map(|column| {
            let role = if column["role"] == "ours" {
                Role::Ours
            } else {
                Role::Peer
            };
            Some(Column {
                name: column["name"].as_str()?.to_owned(),
                role,
            })
        })
        .collect::<Option<Vec<_>>>()?;
    let rows = value["rows"]
        .as_array()?
        .iter()
        .map(|row| {
            let cells = row["cells"]
                .as_array()?
                .iter()
                .map(|cell| match cell["value"].as_f64() {
                    Some(value) => Cell::Value {
                        value,
                        via: via_from_id(cell["via"].as_str()),
                    },
                    None => Cell::Missing {
                        label: cell["missing"].as_str().unwrap_or("n/a").to_owned(),
                        reason: cell["reason"].as_str().unwrap_or_default().to_owned(),
                    },
                })
                .collect();
            Some(RowResult {
                row: Row {
                    id: row["id"].as_str()?.to_owned(),
                    group: Group::from_id(row["group"].as_str()?)?,
                    title: row["title"].as_str()?.to_owned(),
                    unit: row["unit"].as_str()?.to_owned(),
                    indented: row["indented"].as_bool().unwrap_or(false),
                    goals: Vec::new(),
                    about: "",
                    note: "",
                    resolution: row["resolution"].as_f64().unwrap_or(0.0),
                },
                cells,
                serial: row["serial"].as_f64(),
            })
        })
        .collect::<Option<Vec<_>>>()?;
    Some(Results {
        setup,
        columns,
        rows,
    })
}

fn via_id(via: Via) -> &'static str {
    match via {
        Via::Native => "native",
        Via::Channel => "channel",
        Via::SpawnAwait => "spawn_await",
        Via::Requeue => "requeue",
    }
}

fn via_from_id(id: Option<&str>) -> Via {
    [Via::Channel, Via::SpawnAwait, Via::Requeue]
        .into_iter()
        .find(|via| Some(via_id(*via)) == id)
        .unwrap_or(Via::Native)
}
