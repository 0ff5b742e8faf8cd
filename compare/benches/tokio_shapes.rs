//! The shapes of tokio's own scheduler benchmarks (`benches/rt_multi_threaded.rs`
//! in tokio), on every pool that can run them, at tokio's sizes. One
//! iteration is one run of the shape; see `compare/README.md`.

#[allow(dead_code)] // each bench uses part of the shared harness
#[path = "../examples/compare/harness/mod.rs"]
mod harness;
#[allow(dead_code)]
mod support;

use criterion::Criterion;
use harness::contender::Contender;
use harness::workloads::{Unmeasured, tokio_shapes};
use std::time::Duration;

const SPAWN_MANY: usize = 10_000;
const BUSY_SPAWNS: usize = 1_000;
const PINGS: usize = 1_000;
const YIELD_TASKS: usize = 200;
const YIELDS: usize = 1_000;
const CHAIN: usize = 1_000;

#[derive(Clone, Copy)]
enum Shape {
    SpawnManyLocal,
    SpawnManyRemoteIdle,
    SpawnManyRemoteBusy,
    PingPong,
    YieldMany,
    ChainedSpawn,
}

impl Shape {
    const ALL: [Shape; 6] = [
        Shape::SpawnManyLocal,
        Shape::SpawnManyRemoteIdle,
        Shape::SpawnManyRemoteBusy,
        Shape::PingPong,
        Shape::YieldMany,
        Shape::ChainedSpawn,
    ];

    fn name(self) -> &'static str {
        match self {
            Shape::SpawnManyLocal => "spawn_many_local",
            Shape::SpawnManyRemoteIdle => "spawn_many_remote_idle",
            Shape::SpawnManyRemoteBusy => "spawn_many_remote_busy",
            Shape::PingPong => "ping_pong",
            Shape::YieldMany => "yield_many",
            Shape::ChainedSpawn => "chained_spawn",
        }
    }

    /// Jobs, pings or yields per run.
    fn elements(self) -> usize {
        match self {
            Shape::SpawnManyLocal | Shape::SpawnManyRemoteIdle => SPAWN_MANY,
            Shape::SpawnManyRemoteBusy => BUSY_SPAWNS,
            Shape::PingPong => PINGS,
            Shape::YieldMany => YIELD_TASKS * YIELDS,
            Shape::ChainedSpawn => CHAIN,
        }
    }
}

impl support::Workload for Shape {
    fn run<C: Contender>(&self, pool: &C) -> Result<Duration, Unmeasured> {
        Ok(match self {
            Shape::SpawnManyLocal => tokio_shapes::spawn_many_local(pool, SPAWN_MANY),
            Shape::SpawnManyRemoteIdle => tokio_shapes::spawn_many_remote_idle(pool, SPAWN_MANY),
            Shape::SpawnManyRemoteBusy => {
                tokio_shapes::spawn_many_remote_busy(pool, support::threads(), BUSY_SPAWNS)?
            }
            Shape::PingPong => tokio_shapes::ping_pong(pool, PINGS)?,
            Shape::YieldMany => tokio_shapes::yield_many(pool, YIELD_TASKS, YIELDS).elapsed,
            Shape::ChainedSpawn => tokio_shapes::chained_spawn(pool, CHAIN),
        })
    }
}

fn tokio_shapes(c: &mut Criterion) {
    for shape in Shape::ALL {
        let name = format!("tokio_shapes/{}", shape.name());
        support::bench_each(c, &name, Some(shape.elements()), &shape).finish();
    }
}

fn main() {
    support::run(support::criterion(), tokio_shapes);
}
