//! Runs the plan: every workload on every contender, each on a fresh pool,
//! repetitions interleaved across contenders so that a slow patch of a
//! noisy machine hurts them all alike.

use crate::context::Context;
use crate::harness::contender::{Contender, Role};
use crate::harness::contenders::{self, ForEach};
use crate::harness::workloads::{Unmeasured, warm_up};
use crate::plan::{Measured, Workload};
use crate::results::{Cell, Column, RowResult, median};
use std::io::{IsTerminal, Write};

/// A contender, type-erased down to what the driver needs.
struct Contestant {
    name: &'static str,
    role: Role,
    measure: fn(Workload, &Context) -> Result<Measured, Unmeasured>,
}

/// Starts a fresh pool of `C`, warms it up, runs `workload` once, and
/// drops the pool (stopping its threads) before returning.
fn measure_on_fresh_pool<C: Contender>(
    workload: Workload,
    context: &Context,
) -> Result<Measured, Unmeasured> {
    let pool = C::start(context.threads);
    warm_up(&pool);
    workload.run(&pool, context)
}

struct Contestants(Vec<Contestant>);

impl ForEach for Contestants {
    fn contender<C: Contender>(&mut self) {
        self.0.push(Contestant {
            name: C::NAME,
            role: C::ROLE,
            measure: measure_on_fresh_pool::<C>,
        });
    }
}

/// The table's columns, in order.
pub fn columns() -> Vec<Column> {
    contestants()
        .into_iter()
        .map(|contestant| Column {
            name: contestant.name.to_owned(),
            role: contestant.role,
        })
        .collect()
}

fn contestants() -> Vec<Contestant> {
    let mut all = Contestants(Vec::new());
    contenders::for_each(&mut all);
    all.0
}

/// Measures every workload of `plan` on every contender, showing progress
/// on stderr when it is a terminal.
pub fn run(plan: &[Workload], context: &Context) -> Vec<RowResult> {
    let contestants = contestants();
    let progress = Progress {
        shown: std::io::stderr().is_terminal(),
    };
    let mut rows = Vec::new();
    for (step, &workload) in plan.iter().enumerate() {
        let specs = workload.rows(context);
        progress.show(&format!("[{}/{}] {}", step + 1, plan.len(), specs[0].title));
        // runs[contender][repetition]
        let mut runs: Vec<Vec<Result<Measured, Unmeasured>>> =
            contestants.iter().map(|_| Vec::new()).collect();
        for _ in 0..workload.repetitions(context) {
            for (contestant, runs) in contestants.iter().zip(&mut runs) {
                runs.push((contestant.measure)(workload, context));
            }
        }
        // serial[repetition][row], for the workloads that have a baseline.
        let serial: Option<Vec<Vec<f64>>> = (0..workload.repetitions(context))
            .map(|_| workload.serial(context))
            .collect();
        for (index, spec) in specs.into_iter().enumerate() {
            let cells = runs.iter().map(|runs| cell(runs, index)).collect();
            let serial = serial.as_ref().map(|runs| {
                median(&mut runs.iter().map(|values| values[index]).collect::<Vec<_>>())
            });
            rows.push(RowResult {
                row: spec,
                cells,
                serial,
            });
        }
    }
    progress.show("");
    rows
}

/// One status line, rewritten in place.
struct Progress {
    shown: bool,
}

impl Progress {
    fn show(&self, line: &str) {
        if self.shown {
            eprint!("\r\x1b[K{line}");
            let _ = std::io::stderr().flush();
        }
    }
}

/// The median of value `index` over the runs, or why there is none.
fn cell(runs: &[Result<Measured, Unmeasured>], index: usize) -> Cell {
    let mut values = Vec::new();
    let mut via = None;
    for run in runs {
        match run {
            Ok(measured) => {
                values.push(measured.values[index]);
                via = Some(measured.via);
            }
            Err(unmeasured) => {
                return Cell::Missing {
                    label: unmeasured.label().to_owned(),
                    reason: unmeasured.reason().to_owned(),
                };
            }
        }
    }
    match via {
        Some(via) => Cell::Value {
            value: median(&mut values),
            via,
        },
        None => Cell::Missing {
            label: "-".to_owned(),
            reason: "not run".to_owned(),
        },
    }
}
