//! How big each workload is, and what every workload gets besides the pool.

use crate::harness::counting_alloc::CountingAllocator;
use std::time::Duration;

/// How big each workload is.
#[derive(Debug, Clone)]
pub struct Sizes {
    /// Fire-and-forget jobs, from one submitter or shared by several.
    pub jobs: usize,
    /// Spawned tasks with a result.
    pub tasks: usize,
    /// Tasks waited for as one by `when_all`, and `then` continuations
    /// chained on one task.
    pub when_all: usize,
    pub then_chain: usize,
    /// Levels of the nested fan-out's tree of jobs.
    pub fan_out_levels: u32,
    /// n of fib(n) with a join at every call.
    pub fib_no_cutoff: u32,
    /// n of fib(n), and the n below which it runs serially.
    pub fib_cutoff: (u32, u32),
    /// Levels of the summed tree, and the subtree height summed serially.
    pub tree_levels: u32,
    pub tree_serial_levels: u32,
    /// tokio's `spawn_many_*` and `spawn_many_remote_busy2` sizes.
    pub spawn_many: usize,
    pub busy_spawns: usize,
    /// tokio's `ping_pong`, `yield_many` and `chained_spawn` sizes.
    pub pings: usize,
    pub yield_tasks: usize,
    pub yields: usize,
    pub chain: usize,
    /// Wake-up samples, and the idle time before each.
    pub wakeup_samples: usize,
    pub wakeup_idle: Duration,
    /// Time to let a pool settle, then the idleness measured.
    pub idle_settle: Duration,
    pub idle_window: Duration,
    /// Jobs (and tasks) queued on a held pool for the heap rows.
    pub heap_jobs: usize,
}

impl Sizes {
    /// The sizes of the issue (and of tokio's benchmarks): about 30 s on
    /// two cores with three repetitions.
    pub fn full() -> Self {
        Self {
            jobs: 1_000_000,
            tasks: 200_000,
            when_all: 100_000,
            then_chain: 100_000,
            fan_out_levels: 20,
            fib_no_cutoff: 25,
            fib_cutoff: (30, 20),
            tree_levels: 20,
            tree_serial_levels: 10,
            spawn_many: 10_000,
            busy_spawns: 1_000,
            pings: 1_000,
            yield_tasks: 200,
            yields: 1_000,
            chain: 1_000,
            wakeup_samples: 300,
            wakeup_idle: Duration::from_millis(2),
            idle_settle: Duration::from_millis(50),
            idle_window: Duration::from_secs(1),
            heap_jobs: 100_000,
        }
    }

    /// About a tenth of the work, for CI: about 5 s on two cores.
    pub fn quick() -> Self {
        Self {
            jobs: 100_000,
            tasks: 20_000,
            when_all: 10_000,
            then_chain: 10_000,
            fan_out_levels: 17,
            tree_levels: 16,
            tree_serial_levels: 8,
            yields: 100,
            wakeup_samples: 50,
            idle_settle: Duration::from_millis(20),
            idle_window: Duration::from_millis(200),
            heap_jobs: 10_000,
            ..Self::full()
        }
    }
}

/// Everything a workload needs besides the pool.
#[derive(Debug)]
pub struct Context {
    /// Worker threads per pool.
    pub threads: usize,
    pub sizes: Sizes,
    /// Runs per contender of the timed workloads; the median is reported.
    pub repetitions: usize,
    /// The binary's global allocator, for the heap rows.
    pub allocator: &'static CountingAllocator,
}
