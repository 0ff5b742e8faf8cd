//! The shapes of tokio's own scheduler benchmarks (`benches/rt_multi_threaded.rs`
//! in the tokio repository), run on every contender that can run them.
//!
//! Spawning shapes use `execute` from outside and [`Local::execute`] from
//! inside for every contender, tokio included (a tokio task per job, its
//! handle dropped); tokio's own versions differ only in who waits and how.
//! `ping_pong` needs futures that await each other, so it is n/a without
//! [`AsyncSpawn`]; `yield_many` needs `yield_now`, and without it each job
//! re-queues itself instead ([`Via::Requeue`]), the nearest thing a pool of
//! closures has.

use super::Unmeasured::{self, NotApplicable};
use super::{Timed, Via, run_on, submit};
use crate::harness::contender::{AsyncSpawn, Contender, Local};
use crate::harness::sync::CountLatch;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// How long a busy job works before it re-spawns itself (tokio's `STALL_DUR`).
const STALL: Duration = Duration::from_micros(10);

/// A pool that runs none of the outside jobs for this long, while its
/// workers keep running their own, starves them.
const NO_PROGRESS: Duration = Duration::from_millis(250);

/// `spawn_many_local`: one job on a worker spawns `jobs` jobs on its own
/// pool, which count a latch down.
pub fn spawn_many_local<C: Contender>(pool: &C, jobs: usize) -> Duration {
    let latch = Arc::new(CountLatch::new(jobs));
    let (local, done) = (pool.local(), latch.clone());
    let started = Instant::now();
    pool.execute(move || {
        for _ in 0..jobs {
            let done = done.clone();
            local.execute(move || done.count_down());
        }
    });
    latch.wait();
    started.elapsed()
}

/// `spawn_many_remote_idle`: `jobs` jobs from outside onto an idle pool.
pub fn spawn_many_remote_idle<C: Contender>(pool: &C, jobs: usize) -> Duration {
    submit::from_one_thread(pool, jobs)
}

/// `spawn_many_remote_busy2`: `jobs` jobs from outside while every worker
/// is kept busy by a chain of jobs that each work for [`STALL`] and then
/// spawn the next.
///
/// A pool that only looks at outside work when its own queue is empty
/// never gets to them: after [`NO_PROGRESS`] without one of them running,
/// this stops the chains and reports [`Unmeasured::Starved`].
pub fn spawn_many_remote_busy<C: Contender>(
    pool: &C,
    busy_chains: usize,
    jobs: usize,
) -> Result<Duration, Unmeasured> {
    let busy = Arc::new(Busy {
        running: AtomicBool::new(true),
        started: CountLatch::new(busy_chains),
        ended: CountLatch::new(busy_chains),
    });
    for _ in 0..busy_chains {
        let (local, busy) = (pool.local(), busy.clone());
        pool.execute(move || {
            busy.started.count_down();
            busy_step(local, busy);
        });
    }
    busy.started.wait();

    let latch = Arc::new(CountLatch::new(jobs));
    let started = Instant::now();
    for _ in 0..jobs {
        let latch = latch.clone();
        pool.execute(move || latch.count_down());
    }
    let mut finished = true;
    let mut remaining = latch.remaining();
    while !latch.wait_timeout(NO_PROGRESS) {
        let now = latch.remaining();
        if now == remaining {
            finished = false;
            break;
        }
        remaining = now;
    }
    let elapsed = started.elapsed();

    busy.running.store(false, Ordering::Relaxed);
    busy.ended.wait();
    // With the chains gone, starved jobs run too.
    latch.wait();
    if finished {
        Ok(elapsed)
    } else {
        Err(Unmeasured::Starved(
            "outside jobs never ran while the workers were busy",
        ))
    }
}

struct Busy {
    running: AtomicBool,
    started: CountLatch,
    ended: CountLatch,
}

fn busy_step<L: Local>(local: L, busy: Arc<Busy>) {
    if !busy.running.load(Ordering::Relaxed) {
        busy.ended.count_down();
        return;
    }
    let started = Instant::now();
    while started.elapsed() < STALL {
        std::thread::yield_now();
    }
    let next = local.clone();
    local.execute(move || busy_step(next, busy));
}

/// `ping_pong`: `pings` times, a task spawns a partner and the two pass a
/// message there and back over oneshot channels.
///
/// # Errors
///
/// [`NotApplicable`] for a contender without futures.
pub fn ping_pong<C: Contender>(pool: &C, pings: usize) -> Result<Duration, Unmeasured> {
    let spawner = pool.async_spawn().ok_or(NotApplicable("no futures"))?;
    let latch = Arc::new(CountLatch::new(pings));
    let done = latch.clone();
    let started = Instant::now();
    run_on(pool, move || {
        for _ in 0..pings {
            drop(spawner.spawn(ping(spawner, done.clone())));
        }
    });
    latch.wait();
    Ok(started.elapsed())
}

async fn ping<A: AsyncSpawn>(spawner: A, done: Arc<CountLatch>) {
    let (ping_sender, ping_receiver) = tokio::sync::oneshot::channel();
    let (pong_sender, pong_receiver) = tokio::sync::oneshot::channel();
    drop(spawner.spawn(async move {
        if ping_receiver.await.is_ok() {
            let _ = pong_sender.send(());
        }
    }));
    let _ = ping_sender.send(());
    if pong_receiver.await.is_err() {
        panic!("ping_pong: the partner task ended without answering");
    }
    done.count_down();
}

/// `yield_many`: `tasks` tasks that each yield `yields` times.
pub fn yield_many<C: Contender>(pool: &C, tasks: usize, yields: usize) -> Timed {
    let latch = Arc::new(CountLatch::new(tasks));
    let done = latch.clone();
    let started = Instant::now();
    let via = match pool.async_spawn() {
        Some(spawner) => {
            run_on(pool, move || {
                for _ in 0..tasks {
                    let done = done.clone();
                    drop(spawner.spawn(async move {
                        for _ in 0..yields {
                            spawner.yield_now().await;
                        }
                        done.count_down();
                    }));
                }
            });
            Via::Native
        }
        None => {
            let local = pool.local();
            run_on(pool, move || {
                for _ in 0..tasks {
                    let (next, done) = (local.clone(), done.clone());
                    local.execute(move || requeue(next, yields, done));
                }
            });
            Via::Requeue
        }
    };
    latch.wait();
    Timed {
        elapsed: started.elapsed(),
        via,
    }
}

fn requeue<L: Local>(local: L, yields_left: usize, done: Arc<CountLatch>) {
    if yields_left == 0 {
        done.count_down();
        return;
    }
    let next = local.clone();
    local.execute(move || requeue(next, yields_left - 1, done));
}

/// `chained_spawn`: a chain of `length` jobs, each spawning the next.
pub fn chained_spawn<C: Contender>(pool: &C, length: usize) -> Duration {
    let latch = Arc::new(CountLatch::new(1));
    let (local, done) = (pool.local(), latch.clone());
    let started = Instant::now();
    pool.execute(move || chain(local, length, done));
    latch.wait();
    started.elapsed()
}

fn chain<L: Local>(local: L, left: usize, done: Arc<CountLatch>) {
    if left == 0 {
        done.count_down();
        return;
    }
    let next = local.clone();
    local.execute(move || chain(next, left - 1, done));
}
