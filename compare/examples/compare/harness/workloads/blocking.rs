//! Blocking calls offloaded from a small pool: taskpool's `spawn_blocking`
//! beside tokio's, the only contenders with a set of blocking threads.
//!
//! Both shapes start from a job on the pool (so the free functions find it,
//! as `tokio::task::spawn_blocking` finds its runtime), and every piece of
//! work counts a latch down; the time runs from the first submission until
//! the latch reaches zero.
//!
//! * offload: `calls` blocking calls that each sleep `nap`;
//! * mixed: `calls` blocking calls that each sleep `nap`, and `cpu_tasks`
//!   tasks of `cpu` busy work each, queued on the workers with
//!   [`Local::execute`] (a detached `spawn` for both).

use super::Unmeasured::{self, NotApplicable};
use crate::harness::contender::{Contender, Local};
use crate::harness::contenders::{TaskpoolL1, TaskpoolL2, Tokio};
use crate::harness::sync::CountLatch;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Queues a blocking call on the blocking threads of the pool the caller
/// runs on, dropping its handle.
type Offload = fn(Box<dyn FnOnce() + Send>);

/// The contender's `spawn_blocking`, or why it has none.
fn offload<C: Contender>() -> Result<Offload, Unmeasured> {
    if C::NAME == TaskpoolL2::NAME {
        Ok(|call| drop(taskpool::spawn_blocking(call)))
    } else if C::NAME == Tokio::NAME {
        Ok(|call| drop(tokio::task::spawn_blocking(call)))
    } else if C::NAME == TaskpoolL1::NAME {
        Err(NotApplicable(
            "spawn_blocking is level 2: it returns a Task",
        ))
    } else {
        Err(NotApplicable("no set of blocking threads"))
    }
}

/// `calls` blocking sleeps of `nap`, offloaded from a job on the pool.
pub fn offload_sleeps<C: Contender>(
    pool: &C,
    calls: usize,
    nap: Duration,
) -> Result<Duration, Unmeasured> {
    mixed(pool, calls, nap, 0, Duration::ZERO)
}

/// `calls` blocking sleeps of `nap` and `cpu_tasks` busy tasks of `cpu`
/// each, all queued by one job on the pool: the blocking calls first.
pub fn mixed<C: Contender>(
    pool: &C,
    calls: usize,
    nap: Duration,
    cpu_tasks: usize,
    cpu: Duration,
) -> Result<Duration, Unmeasured> {
    let offload = offload::<C>()?;
    let latch = Arc::new(CountLatch::new(calls + cpu_tasks));
    let (local, done) = (pool.local(), latch.clone());
    let started = Instant::now();
    pool.execute(move || {
        for _ in 0..calls {
            let done = done.clone();
            offload(Box::new(move || {
                std::thread::sleep(nap);
                done.count_down();
            }));
        }
        for _ in 0..cpu_tasks {
            let done = done.clone();
            local.execute(move || {
                spin(cpu);
                done.count_down();
            });
        }
    });
    latch.wait();
    Ok(started.elapsed())
}

/// Busy work for about `duration`.
fn spin(duration: Duration) {
    let start = Instant::now();
    while start.elapsed() < duration {
        std::hint::spin_loop();
    }
}
