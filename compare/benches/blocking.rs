//! Blocking calls offloaded from the pool with `spawn_blocking`, beside
//! tokio's: 100 sleeps of 10 ms, and 40 sleeps of 50 ms mixed with 400
//! tasks of 2 ms CPU work. One iteration is one run of the shape; the
//! contenders without blocking threads are left out. See
//! `compare/README.md`.

#[allow(dead_code)] // each bench uses part of the shared harness
#[path = "../examples/compare/harness/mod.rs"]
mod harness;
#[allow(dead_code)]
mod support;

use harness::contender::Contender;
use harness::workloads::{Unmeasured, blocking};
use std::time::Duration;

#[derive(Clone, Copy)]
enum Shape {
    Offload,
    Mixed,
}

impl support::Workload for Shape {
    fn run<C: Contender>(&self, pool: &C) -> Result<Duration, Unmeasured> {
        match self {
            Shape::Offload => blocking::offload_sleeps(pool, 100, Duration::from_millis(10)),
            Shape::Mixed => blocking::mixed(
                pool,
                40,
                Duration::from_millis(50),
                400,
                Duration::from_millis(2),
            ),
        }
    }
}

fn main() {
    support::run(support::criterion(), |criterion| {
        for (name, shape) in [
            ("blocking_offload", Shape::Offload),
            ("blocking_mixed", Shape::Mixed),
        ] {
            support::bench_each(criterion, name, None, &shape).finish();
        }
    });
}
