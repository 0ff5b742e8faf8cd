//! Task combinators: `when_all` over 20k tasks spawned from outside, and a
//! chain of 20k `then` continuations on one task. taskpool's level 2 against
//! tokio (a `JoinSet` and `join_all`; spawned tasks that each await the
//! previous `JoinHandle`); the other pools are left out. One iteration is
//! one whole run; see `compare/README.md`.

#[allow(dead_code)] // each bench uses part of the shared harness
#[path = "../examples/compare/harness/mod.rs"]
mod harness;
#[allow(dead_code)]
mod support;

use criterion::Criterion;
use harness::contender::Contender;
use harness::workloads::{Unmeasured, combinators, spawn_join};
use std::time::Duration;

const TASKS: usize = 20_000;
const STEPS: usize = 20_000;

struct WhenAll;

impl support::Workload for WhenAll {
    fn run<C: Contender>(&self, pool: &C) -> Result<Duration, Unmeasured> {
        combinators::when_all(pool, TASKS)
    }
}

struct ThenChain;

impl support::Workload for ThenChain {
    fn run<C: Contender>(&self, pool: &C) -> Result<Duration, Unmeasured> {
        combinators::then_chain(pool, STEPS)
    }
}

fn combinators(c: &mut Criterion) {
    let mut group = support::bench_each(c, "combinators/when_all", Some(TASKS), &WhenAll);
    group.bench_function("serial", |b| {
        b.iter_custom(|n| (0..n).map(|_| spawn_join::serial(TASKS)).sum())
    });
    group.finish();
    support::bench_each(c, "combinators/then_chain", Some(STEPS), &ThenChain).finish();
}

fn main() {
    support::run(support::criterion(), combinators);
}
