//! Nested fan-out: a binary tree of jobs where every job submits its two
//! children to the pool it runs on. One iteration is one tree of
//! 2^`LEVELS`-1 jobs; see `compare/README.md`.

#[allow(dead_code)] // each bench uses part of the shared harness
#[path = "../examples/compare/harness/mod.rs"]
mod harness;
#[allow(dead_code)]
mod support;

use criterion::Criterion;
use harness::contender::Contender;
use harness::workloads::{Unmeasured, fan_out};
use std::time::Duration;

const LEVELS: u32 = 17;

struct NestedFanOut;

impl support::Workload for NestedFanOut {
    fn run<C: Contender>(&self, pool: &C) -> Result<Duration, Unmeasured> {
        Ok(fan_out::run(pool, LEVELS))
    }
}

fn nested_fan_out(c: &mut Criterion) {
    let jobs = Some(fan_out::jobs(LEVELS));
    let mut group = support::bench_each(c, "nested_fan_out", jobs, &NestedFanOut);
    group.bench_function("serial", |b| {
        b.iter_custom(|n| (0..n).map(|_| fan_out::serial(LEVELS)).sum())
    });
    group.finish();
}

fn main() {
    support::run(support::criterion(), nested_fan_out);
}
