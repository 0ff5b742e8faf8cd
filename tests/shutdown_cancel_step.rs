//! User code that runs inside the shutdown's cancel step: the `Drop` of an
//! async task's future that the shutdown cancels because nobody will wake it
//! (`pool/sleep.md`, "Shutdown", step 1).
//!
//! That `Drop` runs on a worker while the pool is about to stop. Whatever it
//! does, the pool must neither lose work it accepts there (issue 10, defect
//! 3) nor hang when it blocks (defect 4). Every wait is bounded by the hang
//! guard of `support`, which turns a hang into a failure; nothing here
//! asserts on timing.

mod support;

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::thread::{self, ThreadId};
use std::time::{Duration, Instant};
use support::{join_guarded, recv_guarded, wait_until, within};
use taskpool::{Task, ThreadPool};

/// A future that is ready once its flag is set; `block_on` it to block a
/// worker until someone calls [`Flag::set`].
#[derive(Clone, Default)]
struct Flag {
    set: Arc<AtomicBool>,
    waker: Arc<Mutex<Option<Waker>>>,
}

impl Flag {
    fn set(&self) {
        self.set.store(true, Ordering::SeqCst);
        if let Some(waker) = self.waker.lock().unwrap().take() {
            waker.wake();
        }
    }
}

impl Future for Flag {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        *self.waker.lock().unwrap() = Some(cx.waker().clone());
        if self.set.load(Ordering::SeqCst) {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }
}

/// A future that is never woken, so the shutdown cancels it; its `Drop`
/// runs `on_drop` (on the worker that cancels it) and it counts its polls.
struct NeverWoken<D: FnMut() + Send> {
    polls: Arc<AtomicUsize>,
    on_drop: D,
}

impl<D: FnMut() + Send> Future for NeverWoken<D> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<()> {
        self.polls.fetch_add(1, Ordering::SeqCst);
        Poll::Pending
    }
}

impl<D: FnMut() + Send> Drop for NeverWoken<D> {
    fn drop(&mut self) {
        (self.on_drop)();
    }
}

/// Issue 10, defect 3. Two workers; worker J waits in `block_on` inside a
/// job, worker K cancels an idle future whose `Drop` first releases J and
/// then, once J had every chance to stop the pool, spawns a task. That task
/// was accepted (on K's own deque), so it must run before the pool stops:
/// its join returns `Ok`.
///
/// Seen failing before the fix: J, released, found every worker counted as
/// asleep (K was, while it ran the cancel step), terminated the pool and
/// exited; K's spawn went on its deque after termination and K left without
/// sweeping: the join hung (the hang guard failed the test).
///
/// Which worker runs the cancel step is up to the pool, so the test repeats
/// until K (the worker not blocked in the job) ran it a few times.
#[test]
fn work_spawned_by_a_future_cancelled_at_shutdown_runs_before_shutdown_returns() {
    let mut exercised = 0;
    for _ in 0..40 {
        if exercised == 3 {
            break;
        }
        if within(
            "one shutdown whose cancel step spawns work",
            spawn_in_cancel_step,
        ) {
            exercised += 1;
        }
    }
    assert!(
        exercised > 0,
        "the cancel step never ran on the worker that was not blocked"
    );
}

/// One round of the scenario above; `true` if the cancel step ran on the
/// worker that was not blocked in the job.
fn spawn_in_cancel_step() -> bool {
    let stopped = Arc::new(AtomicUsize::new(0));
    let pool = {
        let stopped = stopped.clone();
        ThreadPool::builder()
            .num_threads(2)
            .on_thread_stop(move |_| {
                stopped.fetch_add(1, Ordering::SeqCst);
            })
            .build()
            .unwrap()
    };
    // Worker J: blocked in a job until the cancelled future's `Drop` sets
    // the flag.
    let flag = Flag::default();
    let (blocked_on, blocked) = mpsc::channel::<ThreadId>();
    let released = Arc::new(AtomicBool::new(false));
    {
        let (flag, released) = (flag.clone(), released.clone());
        pool.execute(move || {
            blocked_on.send(thread::current().id()).unwrap();
            taskpool::block_on(flag);
            released.store(true, Ordering::SeqCst);
        });
    }
    let blocked_worker = recv_guarded("the blocking job starts", &blocked);

    // The idle future the shutdown cancels, and what its `Drop` does.
    let polls = Arc::new(AtomicUsize::new(0));
    let (spawned_from_drop, spawned) = mpsc::channel::<Option<Task<u32>>>();
    let on_drop = {
        let stopped = stopped.clone();
        move || {
            if thread::current().id() == blocked_worker {
                // The blocked worker cancels the future itself: not the
                // interleaving this test is after.
                flag.set();
                spawned_from_drop.send(None).unwrap();
                return;
            }
            flag.set();
            // Give J every chance to stop the pool under us: wait until a
            // worker ran its stop hook, or a while. (This wait only makes
            // the bug likely to show; the test passes either way when the
            // pool is right.)
            let start = Instant::now();
            while stopped.load(Ordering::SeqCst) == 0
                && start.elapsed() < Duration::from_millis(300)
            {
                thread::sleep(Duration::from_millis(1));
            }
            let task = taskpool::spawn(|| 42);
            spawned_from_drop.send(Some(task)).unwrap();
        }
    };
    let idle = pool.spawn_async(NeverWoken {
        polls: polls.clone(),
        on_drop,
    });
    wait_until("the idle future is polled once", || {
        polls.load(Ordering::SeqCst) == 1
    });

    pool.shutdown();
    assert!(released.load(Ordering::SeqCst), "the blocked job finished");
    assert!(
        join_guarded("the idle task", idle)
            .unwrap_err()
            .is_cancelled()
    );
    match recv_guarded("the cancelled future's drop", &spawned) {
        None => false,
        Some(task) => {
            assert_eq!(
                join_guarded("the task spawned in the cancel step", task).unwrap(),
                42
            );
            true
        }
    }
}

/// Issue 10, defect 4. One worker, one async task that is never woken and
/// whose future's `Drop` blocks on a short sleep: the shutdown cancels it,
/// the `Drop` waits for its sleep (a nested wait of the worker inside the
/// cancel step), and the shutdown returns.
///
/// Seen failing before the fix (the hang guard fired): the nested wait
/// registered the worker as sleeping a second time; the timer's wake-up took
/// the outer registration off the idle list, and `cancel_sleep` then took
/// the inner one off with the outer one's registration, leaving a `blocked`
/// count that was never subtracted, so the pool never terminated.
#[test]
fn shutdown_returns_when_a_cancelled_futures_drop_blocks_on_a_sleep() {
    within("shutdown with a blocking drop in the cancel step", || {
        let pool = ThreadPool::new(1);
        let polls = Arc::new(AtomicUsize::new(0));
        let slept = Arc::new(AtomicBool::new(false));
        let task = {
            let slept = slept.clone();
            pool.spawn_async(NeverWoken {
                polls: polls.clone(),
                on_drop: move || {
                    taskpool::block_on(taskpool::sleep(Duration::from_millis(10)));
                    slept.store(true, Ordering::SeqCst);
                },
            })
        };
        wait_until("the idle future is polled once", || {
            polls.load(Ordering::SeqCst) == 1
        });
        pool.shutdown();
        assert!(slept.load(Ordering::SeqCst), "the drop's sleep ended");
        assert!(
            join_guarded("the cancelled task", task)
                .unwrap_err()
                .is_cancelled()
        );
    });
}

/// Defect 4 with two workers and a `Drop` that blocks on a task it spawns
/// (a closure: an async task waiting for a timer would be cancelled too):
/// the nested wait runs that task (or a sibling does), and the shutdown
/// returns.
#[test]
fn shutdown_returns_when_a_cancelled_futures_drop_joins_a_task_it_spawns() {
    within("shutdown with a drop that joins a task", || {
        let pool = ThreadPool::new(2);
        let polls = Arc::new(AtomicUsize::new(0));
        let joined = Arc::new(AtomicBool::new(false));
        let task = {
            let joined = joined.clone();
            pool.spawn_async(NeverWoken {
                polls: polls.clone(),
                on_drop: move || {
                    let inner = taskpool::spawn(|| {
                        thread::sleep(Duration::from_millis(5));
                        7
                    });
                    assert_eq!(taskpool::block_on(inner).unwrap(), 7);
                    joined.store(true, Ordering::SeqCst);
                },
            })
        };
        wait_until("the idle future is polled once", || {
            polls.load(Ordering::SeqCst) == 1
        });
        pool.shutdown();
        assert!(joined.load(Ordering::SeqCst), "the drop's join returned");
        assert!(
            join_guarded("the cancelled task", task)
                .unwrap_err()
                .is_cancelled()
        );
    });
}
