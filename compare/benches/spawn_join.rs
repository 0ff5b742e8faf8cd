//! Spawn with a result, all joined: tokio spawns and awaits handles; the
//! pools without handles execute jobs that send their result on a channel.
//! One iteration is `TASKS` tasks; see `compare/README.md`.

#[allow(dead_code)] // each bench uses part of the shared harness
#[path = "../examples/compare/harness/mod.rs"]
mod harness;
#[allow(dead_code)]
mod support;

use criterion::Criterion;
use harness::contender::Contender;
use harness::workloads::{Unmeasured, spawn_join};
use std::time::Duration;

const TASKS: usize = 20_000;

struct SpawnJoin;

impl support::Workload for SpawnJoin {
    fn run<C: Contender>(&self, pool: &C) -> Result<Duration, Unmeasured> {
        Ok(spawn_join::run(pool, TASKS).elapsed)
    }
}

fn spawn_join(c: &mut Criterion) {
    let mut group = support::bench_each(c, "spawn_join", Some(TASKS), &SpawnJoin);
    group.bench_function("serial", |b| {
        b.iter_custom(|n| (0..n).map(|_| spawn_join::serial(TASKS)).sum())
    });
    group.finish();
}

fn main() {
    support::run(support::criterion(), spawn_join);
}
