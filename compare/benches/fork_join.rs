//! Fork-join: fib(25) with a join at every call, the same with a `Task` per
//! fork, fib(30) serial below 20, and the sum of a tree of 2^18-1 nodes
//! split down to 2^10-node subtrees. rayon uses `join` (also where taskpool
//! forks with a `Task`: the bar it is held to), tokio spawns and awaits;
//! pools with neither are left out. One iteration is one whole computation;
//! see `compare/README.md`.

#[allow(dead_code)] // each bench uses part of the shared harness
#[path = "../examples/compare/harness/mod.rs"]
mod harness;
#[allow(dead_code)]
mod support;

use criterion::Criterion;
use harness::contender::Contender;
use harness::workloads::{Unmeasured, fork_join};
use std::time::Duration;

const FIB_TASKS_N: u32 = 25;
const TREE_LEVELS: u32 = 18;
const TREE_SERIAL_LEVELS: u32 = 10;

struct Fib {
    n: u32,
    serial_below: u32,
}

impl support::Workload for Fib {
    fn run<C: Contender>(&self, pool: &C) -> Result<Duration, Unmeasured> {
        Ok(fork_join::fib(pool, self.n, self.serial_below)?.elapsed)
    }
}

struct FibTasks;

impl support::Workload for FibTasks {
    fn run<C: Contender>(&self, pool: &C) -> Result<Duration, Unmeasured> {
        Ok(fork_join::fib_tasks(pool, FIB_TASKS_N)?.elapsed)
    }
}

struct TreeSum;

impl support::Workload for TreeSum {
    fn run<C: Contender>(&self, pool: &C) -> Result<Duration, Unmeasured> {
        Ok(fork_join::tree_sum(pool, TREE_LEVELS, TREE_SERIAL_LEVELS)?.elapsed)
    }
}

fn fork_join(c: &mut Criterion) {
    for (name, n, serial_below) in [
        ("fib_25_no_cutoff", 25, 2),
        ("fib_30_serial_below_20", 30, 20),
    ] {
        let name = format!("fork_join/{name}");
        let mut group = support::bench_each(c, &name, None, &Fib { n, serial_below });
        group.bench_function("serial", |b| {
            b.iter_custom(|k| (0..k).map(|_| fork_join::fib_serial_timed(n)).sum())
        });
        group.finish();
    }
    let mut group = support::bench_each(c, "fork_join/fib_25_tasks", None, &FibTasks);
    group.bench_function("serial", |b| {
        b.iter_custom(|k| {
            (0..k)
                .map(|_| fork_join::fib_serial_timed(FIB_TASKS_N))
                .sum()
        })
    });
    group.finish();
    let mut group = support::bench_each(c, "fork_join/tree_sum", None, &TreeSum);
    group.bench_function("serial", |b| {
        b.iter_custom(|k| {
            (0..k)
                .map(|_| fork_join::tree_sum_serial_timed(TREE_LEVELS))
                .sum()
        })
    });
    group.finish();
}

fn main() {
    support::run(support::criterion(), fork_join);
}
