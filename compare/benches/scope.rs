//! Scoped tasks: 100k tiny tasks spawned into one scope, each writing its
//! slot of a borrowed vector: taskpool's `scope` against rayon's; pools
//! without a scope are left out. One iteration is one whole scope; see
//! `compare/README.md`.

#[allow(dead_code)] // each bench uses part of the shared harness
#[path = "../examples/compare/harness/mod.rs"]
mod harness;
#[allow(dead_code)]
mod support;

use criterion::Criterion;
use harness::contender::Contender;
use harness::workloads::{Unmeasured, scope};
use std::time::Duration;

const TASKS: usize = 100_000;

struct TinyTasks;

impl support::Workload for TinyTasks {
    fn run<C: Contender>(&self, pool: &C) -> Result<Duration, Unmeasured> {
        Ok(scope::tiny_tasks(pool, TASKS)?.elapsed)
    }
}

fn scope(c: &mut Criterion) {
    support::bench_each(c, "scope/tiny_tasks_100k", Some(TASKS), &TinyTasks).finish();
}

fn main() {
    support::run(support::criterion(), scope);
}
