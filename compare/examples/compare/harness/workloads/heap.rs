//! Heap per queued job: the bytes and allocations one queued job costs
//! while it waits.
//!
//! Every worker is held inside a job behind a [`Gate`], so nothing queued
//! meanwhile runs; `jobs` jobs are queued, each capturing one
//! pointer-sized value, and the counting allocator reports what that did
//! to the heap. Then the gate opens and everything runs.

use super::Unmeasured::{self, NotApplicable};
use super::Via;
use crate::harness::contender::{Contender, SpawnHandles};
use crate::harness::counting_alloc::CountingAllocator;
use crate::harness::sync::{CountLatch, Gate};
use std::sync::{Arc, mpsc};
use std::time::Duration;

/// How long to wait for every worker to take a gate job.
const HOLD_TIMEOUT: Duration = Duration::from_secs(10);

/// What one queued job costs, averaged over many.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PerJob {
    /// Heap bytes still held once the job is queued.
    pub bytes: f64,
    /// Allocation calls made to queue it.
    pub allocations: f64,
    /// How the jobs were queued.
    pub via: Via,
}

/// Queues `jobs` fire-and-forget jobs on a pool of `threads` held workers.
///
/// # Errors
///
/// [`NotApplicable`] if the pool did not take one gate job per worker
/// within [`HOLD_TIMEOUT`].
pub fn per_job<C: Contender>(
    pool: &C,
    threads: usize,
    jobs: usize,
    allocator: &CountingAllocator,
) -> Result<PerJob, Unmeasured> {
    let latch = Arc::new(CountLatch::new(jobs));
    let delta = while_held(pool, threads, || {
        allocator
            .measure(|| {
                for _ in 0..jobs {
                    let latch = latch.clone();
                    pool.execute(move || latch.count_down());
                }
            })
            .1
    })?;
    latch.wait();
    Ok(per(delta, jobs, Via::Native))
}

/// Queues `tasks` tasks with a result on a pool of `threads` held workers:
/// with handles where the contender has them (the handles count, the
/// vector that holds them does not), else as jobs holding a channel's
/// sender ([`Via::Channel`]).
///
/// # Errors
///
/// As [`per_job`].
pub fn per_task<C: Contender>(
    pool: &C,
    threads: usize,
    tasks: usize,
    allocator: &CountingAllocator,
) -> Result<PerJob, Unmeasured> {
    match pool.handles() {
        Some(spawner) => {
            let mut handles = Vec::with_capacity(tasks);
            let delta = while_held(pool, threads, || {
                allocator
                    .measure(|| {
                        for index in 0..tasks {
                            handles.push(spawner.spawn(move || index));
                        }
                    })
                    .1
            })?;
            spawner.join_all(handles, drop);
            Ok(per(delta, tasks, Via::Native))
        }
        None => {
            let (sender, receiver) = mpsc::channel();
            let delta = while_held(pool, threads, || {
                allocator
                    .measure(|| {
                        for index in 0..tasks {
                            let sender = sender.clone();
                            pool.execute(move || {
                                // The receiver drains below; a send cannot fail.
                                let _ = sender.send(index);
                            });
                        }
                    })
                    .1
            })?;
            receiver.iter().take(tasks).for_each(drop);
            Ok(per(delta, tasks, Via::Channel))
        }
    }
}

/// Holds every worker of `pool` at a gate while `f` runs, then opens it.
fn while_held<C: Contender, R>(
    pool: &C,
    threads: usize,
    f: impl FnOnce() -> R,
) -> Result<R, Unmeasured> {
    let gate = Arc::new(Gate::default());
    for _ in 0..threads {
        let gate = gate.clone();
        pool.execute(move || gate.hold());
    }
    if !gate.wait_until_held(threads, HOLD_TIMEOUT) {
        gate.open();
        return Err(NotApplicable("could not hold every worker"));
    }
    let result = f();
    gate.open();
    Ok(result)
}

fn per(delta: crate::harness::counting_alloc::HeapDelta, count: usize, via: Via) -> PerJob {
    PerJob {
        bytes: delta.net_bytes as f64 / count as f64,
        allocations: delta.allocations as f64 / count as f64,
        via,
    }
}
