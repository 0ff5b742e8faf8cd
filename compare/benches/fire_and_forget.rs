//! Fire-and-forget from one outside thread: tiny jobs that each count a
//! shared latch down, submitted one after another, then waited for.
//! One iteration is one batch of `JOBS` jobs; see `compare/README.md`.

#[allow(dead_code)] // each bench uses part of the shared harness
#[path = "../examples/compare/harness/mod.rs"]
mod harness;
#[allow(dead_code)]
mod support;

use criterion::Criterion;
use harness::contender::Contender;
use harness::workloads::{Unmeasured, submit};
use std::time::Duration;

const JOBS: usize = 100_000;

struct FireAndForget;

impl support::Workload for FireAndForget {
    fn run<C: Contender>(&self, pool: &C) -> Result<Duration, Unmeasured> {
        Ok(submit::from_one_thread(pool, JOBS))
    }
}

fn fire_and_forget(c: &mut Criterion) {
    let mut group = support::bench_each(c, "fire_and_forget", Some(JOBS), &FireAndForget);
    group.bench_function("serial", |b| {
        b.iter_custom(|n| (0..n).map(|_| submit::serial(JOBS)).sum())
    });
    group.finish();
}

fn main() {
    support::run(support::criterion(), fire_and_forget);
}
