//! Latency under load, where the order of the queues shows.
//!
//! * Timers behind a backlog: async tasks sleep to deadlines spread over
//!   [`SPREAD`] while outside jobs of [`BACKLOG_JOB`] each keep every
//!   worker busy; how late each task runs after its timer is due (polled
//!   minus requested). A pool that queues a woken task behind work that
//!   never started makes it wait out the backlog. With no backlog, the
//!   same measures the timer's own precision. Needs an async `sleep`:
//!   taskpool level 2's and tokio's; n/a elsewhere.
//! * Queue wait under a steady outside stream: one outside thread submits
//!   [`STREAM_BURST`] jobs every [`STREAM_PERIOD`], on an absolute schedule;
//!   how long each job waited between its submit and its first
//!   instruction. A light load (a tenth of two cores), so that the tail
//!   shows the order the queues keep, not a backlog that a busy machine
//!   builds up: jobs that start out of submission order stretch it.

use super::Unmeasured::{self, NotApplicable};
use super::wakeup::quantile;
use crate::harness::contender::{AsyncSpawn, Contender};
use crate::harness::contenders::{TaskpoolL2, Tokio};
use crate::harness::sync::CountLatch;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// The earliest sleeper's deadline, from the start of a run.
const FIRST: Duration = Duration::from_millis(2);
/// The sleepers' deadlines spread over this much time after [`FIRST`].
pub const SPREAD: Duration = Duration::from_millis(80);
/// How long one backlog job works (spinning).
pub const BACKLOG_JOB: Duration = Duration::from_micros(50);
/// The stream's jobs come in bursts of this many...
pub const STREAM_BURST: usize = 8;
/// ...one burst every this long.
pub const STREAM_PERIOD: Duration = Duration::from_millis(1);
/// How long one stream job works (spinning).
pub const STREAM_JOB: Duration = Duration::from_micros(25);

/// The median and the 99th percentile of a run's samples.
#[derive(Debug, Clone, Copy)]
pub struct Tail {
    pub p50: Duration,
    pub p99: Duration,
}

impl Tail {
    fn of(samples: &mut [Duration]) -> Tail {
        Tail {
            p50: quantile(samples, 0.5),
            p99: quantile(samples, 0.99),
        }
    }
}

/// Works for `duration` on this thread.
fn spin(duration: Duration) {
    let started = Instant::now();
    while started.elapsed() < duration {
        std::hint::spin_loop();
    }
}

/// How many backlog jobs keep `threads` workers busy for [`SPREAD`] and a
/// little more: every sleeper's timer fires while the backlog waits.
pub fn backlog_for(threads: usize) -> usize {
    let per_worker = (SPREAD + FIRST * 5).as_nanos() / BACKLOG_JOB.as_nanos();
    per_worker as usize * threads
}

/// The contender's own async sleep, for the contenders that have one.
async fn sleep_on<C: Contender>(duration: Duration) {
    match C::NAME {
        TaskpoolL2::NAME => taskpool::sleep(duration).await,
        Tokio::NAME => tokio::time::sleep(duration).await,
        _ => unreachable!("checked by `timers`"),
    }
}

/// `sleepers` async tasks, submitted from this (outside) thread, each sleep
/// until its own deadline (spread over [`SPREAD`]), while `backlog` jobs of
/// [`BACKLOG_JOB`] are queued from here right after them.
/// Returns how late the tasks ran after their deadlines, fixed when they
/// were spawned (polled minus requested).
///
/// # Errors
///
/// [`NotApplicable`] for a contender without futures or an async sleep.
pub fn timers<C: Contender>(pool: &C, sleepers: usize, backlog: usize) -> Result<Tail, Unmeasured> {
    if C::NAME != TaskpoolL2::NAME && C::NAME != Tokio::NAME {
        return Err(NotApplicable("no async sleep"));
    }
    let spawner = pool.async_spawn().ok_or(NotApplicable("no futures"))?;
    let late = Arc::new(Mutex::new(Vec::with_capacity(sleepers)));
    let slept = Arc::new(CountLatch::new(sleepers));
    let started = Instant::now();
    for i in 0..sleepers {
        let deadline = started + FIRST + SPREAD * i as u32 / sleepers.max(1) as u32;
        let (late, slept) = (late.clone(), slept.clone());
        // Each sleeper comes from outside, like a request: a job that
        // spawns it on the worker that runs it (its first poll follows).
        pool.execute(move || {
            // Lateness counts from the deadline fixed here, so that a first
            // poll that waited in a queue counts too. The handle is
            // dropped; the task goes on.
            drop(spawner.spawn(async move {
                sleep_on::<C>(deadline.saturating_duration_since(Instant::now())).await;
                let lateness = Instant::now().saturating_duration_since(deadline);
                late.lock().unwrap().push(lateness);
                slept.count_down();
            }));
        });
    }
    let drained = Arc::new(CountLatch::new(backlog));
    for _ in 0..backlog {
        let drained = drained.clone();
        pool.execute(move || {
            spin(BACKLOG_JOB);
            drained.count_down();
        });
    }
    slept.wait();
    drained.wait();
    let mut late = std::mem::take(&mut *late.lock().unwrap());
    Ok(Tail::of(&mut late))
}

/// `bursts` bursts of [`STREAM_BURST`] jobs of [`STREAM_JOB`], one burst
/// every [`STREAM_PERIOD`], from this (outside) thread; returns how long
/// the jobs waited between their submit and their start.
pub fn queue_wait<C: Contender>(pool: &C, bursts: usize) -> Tail {
    let jobs = bursts * STREAM_BURST;
    let origin = Instant::now();
    // Each job's wait, in nanoseconds, in its own slot.
    let waits: Arc<Vec<AtomicU64>> = Arc::new((0..jobs).map(|_| AtomicU64::new(0)).collect());
    let done = Arc::new(CountLatch::new(jobs));
    for burst in 0..bursts {
        let due = origin + STREAM_PERIOD * burst as u32;
        if let Some(ahead) = due.checked_duration_since(Instant::now()) {
            thread::sleep(ahead);
        }
        for k in 0..STREAM_BURST {
            let slot = burst * STREAM_BURST + k;
            let (waits, done) = (waits.clone(), done.clone());
            let submitted = Instant::now();
            pool.execute(move || {
                let waited = submitted.elapsed().as_nanos() as u64;
                waits[slot].store(waited, Ordering::Relaxed);
                spin(STREAM_JOB);
                done.count_down();
            });
        }
    }
    done.wait();
    let mut waits: Vec<Duration> = waits
        .iter()
        .map(|wait| Duration::from_nanos(wait.load(Ordering::Relaxed)))
        .collect();
    Tail::of(&mut waits)
}
