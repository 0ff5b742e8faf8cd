//! The races of the loom models (`src/models/`), on real threads, many
//! rounds each: a model checks every interleaving of a small case with the
//! lock-based stand-in queues; these check the same case with crossbeam's
//! lock-free queues, real parking and real timing. CI runs them several
//! times over (`cargo nextest run --stress-count`, see `.ci/run`).
//!
//! Each round checks exact counts (runs, drops, outcomes) and, in debug
//! builds, that the pool freed every task (`debug_live_tasks`). A lost
//! wake-up or a lost task shows as a hang: the waits here are bounded, and
//! nextest's slow-timeout stops a test that hangs anyway.

mod support;

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::Instant;
use support::{DropCounter, HANG_GUARD, Tracked, recv_guarded};
use taskpool::{Task, ThreadPool};

/// Rounds per test: fewer in debug builds and far fewer under Miri.
fn rounds(release: usize) -> usize {
    if cfg!(miri) {
        5
    } else if cfg!(debug_assertions) {
        release / 5
    } else {
        release
    }
}

fn assert_no_live_tasks(pool: &ThreadPool) {
    if let Some(live) = pool.debug_live_tasks() {
        assert_eq!(live, 0, "task allocations left after the pool stopped");
    }
}

/// Ready once its flag is set; leaves its waker in a shared slot.
struct WaitForFlag {
    flag: Arc<AtomicBool>,
    slot: Arc<Mutex<Option<Waker>>>,
    _dropped: Tracked,
}

impl Future for WaitForFlag {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        *self.slot.lock().unwrap() = Some(cx.waker().clone());
        if self.flag.load(Ordering::Acquire) {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }
}

fn set_and_wake(flag: &AtomicBool, slot: &Mutex<Option<Waker>>) {
    flag.store(true, Ordering::Release);
    let waker = slot.lock().unwrap().take();
    if let Some(waker) = waker {
        waker.wake();
    }
}

/// Spawns a [`WaitForFlag`] on `pool` and starts a thread that sets its
/// flag and wakes it, at whatever point of a poll it happens to come.
fn spawn_and_wake_from_outside(
    pool: &ThreadPool,
    drops: &DropCounter,
) -> (Task<()>, std::thread::JoinHandle<()>) {
    let flag = Arc::new(AtomicBool::new(false));
    let slot = Arc::new(Mutex::new(None));
    let task = pool.spawn_async(WaitForFlag {
        flag: flag.clone(),
        slot: slot.clone(),
        _dropped: drops.track(),
    });
    let waker = std::thread::spawn(move || set_and_wake(&flag, &slot));
    (task, waker)
}

/// `models::shutdown::wake_races_shutdown`: a future woken from outside
/// while the pool shuts down completes or reports cancelled, is dropped
/// once, and is freed.
#[test]
fn a_wake_racing_shutdown_completes_or_cancels_the_task_once() {
    let (mut completed, mut cancelled) = (0, 0);
    for round in 0..rounds(2_000) {
        let pool = ThreadPool::new(1 + round % 2);
        let drops = DropCounter::new();
        let (task, waker) = spawn_and_wake_from_outside(&pool, &drops);
        pool.shutdown();
        match task.join() {
            Ok(()) => completed += 1,
            Err(error) => {
                assert!(error.is_cancelled(), "round {round}: {error}");
                cancelled += 1;
            }
        }
        assert_eq!(drops.drops(), 1, "round {round}: the future dropped once");
        waker.join().unwrap();
        assert_no_live_tasks(&pool);
    }
    eprintln!("{completed} completed, {cancelled} cancelled by the shutdown");
}

/// `models::waker`: a wake-up before, during or after a poll is never
/// lost; the task completes and is freed, whoever drops the last reference.
#[test]
fn a_wake_from_outside_at_any_point_of_a_poll_is_never_lost() {
    let pool = ThreadPool::new(2);
    for round in 0..rounds(20_000) {
        let drops = DropCounter::new();
        let (task, waker) = spawn_and_wake_from_outside(&pool, &drops);
        if round % 2 == 0 {
            task.join().expect("the future completes");
            assert_eq!(drops.drops(), 1);
        } else {
            // Detached: the waker may hold the last reference.
            drop(task);
        }
        waker.join().unwrap();
    }
    pool.shutdown();
    assert_no_live_tasks(&pool);
}

/// `models::task::inline_join_races_steal`: a child joined on the worker
/// that spawned it runs inline, while the other workers try to steal its
/// queue entry; the child runs once and is dropped once.
#[test]
fn an_inline_join_racing_thieves_runs_the_child_once() {
    let pool = ThreadPool::new(3);
    let runs = Arc::new(AtomicUsize::new(0));
    let drops = DropCounter::new();
    let parents = rounds(50_000);
    let outer: Vec<_> = (0..parents)
        .map(|_| {
            let (runs, captured) = (runs.clone(), drops.track());
            pool.spawn(move || {
                let inner = taskpool::spawn(move || {
                    let _captured = captured;
                    runs.fetch_add(1, Ordering::Relaxed);
                    21
                });
                inner.join().expect("the child completes") * 2
            })
        })
        .collect();
    for task in outer {
        assert_eq!(task.join().unwrap(), 42);
    }
    assert_eq!(runs.load(Ordering::Relaxed), parents);
    assert_eq!(drops.drops(), parents);
    pool.shutdown();
    assert_no_live_tasks(&pool);
}

/// `models::shutdown::submit_after_close_is_refused_while_draining`: once
/// a job on the pool began the shutdown, an outside submission is refused
/// (handed back unrun), even though the pool is still draining.
#[test]
fn an_outside_submission_after_a_close_from_a_worker_is_refused() {
    for round in 0..rounds(2_000) {
        let pool = Arc::new(ThreadPool::new(1 + round % 2));
        let (closed_sender, closed) = std::sync::mpsc::channel();
        let drain = Arc::new(AtomicUsize::new(0));
        {
            let (pool_in_job, drain) = (pool.clone(), drain.clone());
            pool.execute(move || {
                // Keep the pool draining for a while after the close.
                for _ in 0..8 {
                    let drain = drain.clone();
                    taskpool::execute(move || {
                        drain.fetch_add(1, Ordering::Relaxed);
                    });
                }
                pool_in_job.shutdown(); // on its own worker: closes, returns
                drop(pool_in_job);
                closed_sender.send(()).unwrap();
            });
        }
        recv_guarded("the job ran", &closed);
        let ran = Arc::new(AtomicBool::new(false));
        let ran_in_job = ran.clone();
        let refused = pool.try_execute(move || ran_in_job.store(true, Ordering::SeqCst));
        assert!(refused.is_err(), "round {round}: accepted after the close");
        let pool = wait_for_sole_owner(pool);
        pool.shutdown();
        assert!(!ran.load(Ordering::SeqCst));
        assert_eq!(
            drain.load(Ordering::Relaxed),
            8,
            "round {round}: the drain ran"
        );
    }
}

/// The job's clone of the pool is dropped before it signals, but the
/// closure itself (and so the `Arc`'s count) may lag a moment behind.
fn wait_for_sole_owner(mut pool: Arc<ThreadPool>) -> ThreadPool {
    let deadline = Instant::now() + HANG_GUARD;
    loop {
        match Arc::try_unwrap(pool) {
            Ok(pool) => return pool,
            Err(shared) => {
                assert!(Instant::now() < deadline, "the job kept its pool");
                pool = shared;
                std::thread::yield_now();
            }
        }
    }
}

/// `models::shutdown::never_woken_future_is_cancelled_by_shutdown`, with
/// many such futures, some awaiting each other: shutdown cancels them all,
/// drops each future once and returns.
#[test]
fn futures_nobody_wakes_are_cancelled_by_shutdown_and_dropped_once() {
    for round in 0..rounds(500) {
        let pool = ThreadPool::new(1 + round % 3);
        let drops = DropCounter::new();
        let mut slots = Vec::new();
        let tasks: Vec<_> = (0..16)
            .map(|_| {
                let slot = Arc::new(Mutex::new(None));
                slots.push(slot.clone());
                pool.spawn_async(WaitForFlag {
                    flag: Arc::new(AtomicBool::new(false)),
                    slot,
                    _dropped: drops.track(),
                })
            })
            .collect();
        // A task awaiting the first of them (a `Task` is a future).
        let mut tasks = tasks.into_iter();
        let first = tasks.next().unwrap();
        let chained = pool.spawn_async(first);
        pool.shutdown();
        for task in tasks {
            assert!(task.join().unwrap_err().is_cancelled());
        }
        // The awaiting task is cancelled itself, or sees the cancel of the
        // one it awaits (then completes with that error).
        match chained.join() {
            Ok(inner) => assert!(inner.unwrap_err().is_cancelled(), "round {round}"),
            Err(error) => assert!(error.is_cancelled(), "round {round}: {error}"),
        }
        assert_eq!(drops.drops(), 16);
        // The wakers the futures left behind hold references: drop them.
        drop(slots);
        assert_no_live_tasks(&pool);
    }
}
