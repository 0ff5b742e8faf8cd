//! Injector contention: the fire-and-forget jobs of `fire_and_forget.rs`,
//! submitted by 1, 2 and one-per-CPU threads at once, each its share.
//! One iteration is one batch of `JOBS` jobs in all; see `compare/README.md`.

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

struct Submitters(usize);

impl support::Workload for Submitters {
    fn run<C: Contender>(&self, pool: &C) -> Result<Duration, Unmeasured> {
        Ok(submit::from_threads(pool, self.0, JOBS))
    }
}

fn contention(c: &mut Criterion) {
    let mut counts = vec![1, 2, harness::default_threads()];
    counts.dedup();
    for submitters in counts {
        let name = format!("contention/{submitters}_submitters");
        support::bench_each(c, &name, Some(JOBS), &Submitters(submitters)).finish();
    }
}

fn main() {
    support::run(support::criterion(), contention);
}
