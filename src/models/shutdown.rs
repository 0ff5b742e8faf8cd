//! Shutdown (`pool/sleep.md`, "Shutdown") racing submissions from outside
//! the pool and wake-ups of async tasks.
//!
//! A submission that races `shutdown` is either refused (the closure comes
//! back, unrun) or accepted and run exactly once; a submission after the
//! close is refused; a woken task either runs or is cancelled, and one woken
//! while the pool drains runs. Nothing is lost, and `shutdown` never hangs:
//! a pool that waits for a submitter that already left deadlocks, which
//! loom reports.

use super::flag::{Waiting, set_and_wake, spawn_waiting};
use super::{Count, Signal};
use crate::sync::{Arc, Mutex, thread};
use crate::{Task, ThreadPool};
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// `try_execute` on one thread while the main thread shuts the pool down.
///
/// Planted bug seen caught: `SleepState::leave_submit` not waking a worker
/// when the last submitter leaves a closed pool (`last_in_closed_pool` forced
/// to `false`): the worker that saw the submission in flight did not declare
/// the pool quiescent and sleeps, nobody re-evaluates, and loom reports a
/// deadlock (`shutdown` waits forever).
/// Planted and not caught: the terminating worker skipping its final sweep
/// (`if sweep { self.sweep() }` removed), here and in every shutdown model,
/// also with two workers: under the current gate (enter/leave read-modify-
/// writes), a push that races the termination always changes the word the
/// terminating compare-exchange checks, so the sweep finds nothing.
#[test]
fn try_execute_races_shutdown() {
    super::model(|| {
        let pool = Arc::new(ThreadPool::new(1));
        let (runs, refusals, drops) = (Count::new(), Count::new(), Count::new());
        let submitter = {
            let pool = pool.clone();
            let (runs, refusals) = (runs.clone(), refusals.clone());
            let dropped = drops.tracker();
            thread::spawn(move || {
                let job = move || {
                    let _dropped = dropped;
                    runs.add();
                };
                if let Err(refused) = pool.try_execute(job) {
                    refusals.add();
                    drop(refused.into_inner());
                }
            })
        };
        pool.shutdown();
        let after = pool.try_execute(|| unreachable!("accepted after shutdown returned"));
        assert!(after.is_err(), "a submission after shutdown is refused");
        submitter.join().unwrap();
        // Once both calls returned, the job ran exactly once or came back
        // unrun.
        assert_eq!(runs.get() + refusals.get(), 1);
        assert_eq!(drops.get(), 1);
    });
}

/// `spawn` from outside racing `shutdown`: the task runs, or reports
/// cancelled with its closure dropped unrun; joining it never hangs.
///
/// Planted bug seen caught: `RawTask::submit_to` forgetting a task the
/// pool refused (no cancel on `Err`): the join of a task spawned after the
/// close never returns, and loom reports a deadlock.
#[test]
fn spawn_races_shutdown() {
    super::model(|| {
        let pool = Arc::new(ThreadPool::new(1));
        let (runs, drops) = (Count::new(), Count::new());
        let spawner = {
            let pool = pool.clone();
            let runs = runs.clone();
            let dropped = drops.tracker();
            thread::spawn(move || {
                pool.spawn(move || {
                    let _dropped = dropped;
                    runs.add();
                })
                .join()
            })
        };
        pool.shutdown();
        let after = pool.spawn(|| unreachable!("ran after shutdown returned"));
        assert!(after.join().unwrap_err().is_cancelled());
        let result = spawner.join().unwrap();
        match result {
            Ok(()) => assert_eq!(runs.get(), 1),
            Err(error) => {
                assert!(error.is_cancelled());
                assert_eq!(runs.get(), 0);
            }
        }
        assert_eq!(drops.get(), 1);
    });
}

/// A submission from outside after `shutdown` began is refused even while
/// the pool still drains: here the shutdown is begun by a job on the pool's
/// own worker (which does not wait), and the main thread submits once it
/// knows the close happened.
///
/// Planted bug seen caught: `SleepState::enter_submit` refusing outside
/// submissions only once `TERMINATED` (the `Submit::New` test before `is_closed`
/// removed): the submission is accepted while the pool drains, and the
/// assertion fails (the accepted closure even runs, and panics).
#[test]
fn submit_after_close_is_refused_while_draining() {
    super::model(|| {
        let pool = Arc::new(ThreadPool::new(1));
        let closed = Arc::new(Signal::default());
        {
            let (pool_in_job, closed) = (pool.clone(), closed.clone());
            pool.execute(move || {
                pool_in_job.shutdown(); // on its own worker: closes, returns
                drop(pool_in_job);
                closed.set();
            });
        }
        closed.wait();
        let refused = pool.try_execute(|| unreachable!("accepted after the close"));
        assert!(refused.is_err());
        drop(pool);
    });
}

/// An async task woken from outside while the pool shuts down: shutdown
/// cancels a future that still waits when the queues run dry, so the task
/// either completes (woken in time) or reports cancelled; a wake-up after
/// that finds it complete, or is refused by the terminated pool, and the
/// task is freed either way.
///
/// Planted bug seen caught: the live list keeping completed async tasks
/// (`LiveSlot::on_complete` not removing them): every task keeps a reference
/// to itself through its pool's registry; loom reports "Arc leaked".
#[test]
fn wake_races_shutdown() {
    super::model(|| {
        let pool = ThreadPool::new(1);
        let Waiting {
            task,
            flag,
            slot,
            future_drops,
            ..
        } = spawn_waiting(&pool);
        let waker_thread = thread::spawn(move || set_and_wake(&flag, &slot));
        pool.shutdown();
        match task.join() {
            Ok(_) => {}
            Err(error) => assert!(error.is_cancelled()),
        }
        assert_eq!(future_drops.get(), 1);
        waker_thread.join().unwrap();
        drop(pool);
    });
}

/// A wake-up that arrives after the shutdown began, while the pool still
/// drains, is accepted (the pool accepted that task already): the woken task
/// runs to completion instead of being cancelled. The shutdown is begun by a
/// job on the pool's own worker, which then holds the pool open until the
/// main thread has woken the task.
///
/// Planted bug seen caught: wake-ups submitted like outside work
/// (`Submit::Wake` refused like `Submit::New`): the wake-up is refused once
/// the pool is closed, the task is cancelled instead of completed, and the
/// assertion fails. (`wake_races_shutdown` cannot tell: there, either outcome
/// is allowed.)
#[test]
fn wake_while_draining_is_accepted_and_the_task_completes() {
    super::model(|| {
        let pool = Arc::new(ThreadPool::new(1));
        // Queued first: the worker polls it (pending) before the job below.
        let Waiting {
            task,
            flag,
            slot,
            future_drops,
            ..
        } = spawn_waiting(&pool);
        let (closed, release) = (Arc::new(Signal::default()), Arc::new(Signal::default()));
        {
            let (pool_in_job, closed, release) = (pool.clone(), closed.clone(), release.clone());
            pool.execute(move || {
                pool_in_job.shutdown(); // on its own worker: closes, returns
                drop(pool_in_job);
                closed.set();
                release.wait();
            });
        }
        closed.wait();
        set_and_wake(&flag, &slot);
        release.set();
        let result = task.join();
        assert!(result.is_ok(), "woken while draining, yet {result:?}");
        assert_eq!(future_drops.get(), 1);
        drop(pool);
    });
}

/// A future that nobody will ever wake does not keep the pool from
/// stopping: the shutdown cancels it, and its join returns cancelled.
///
/// Planted bug seen caught: the quiescence hook cancelling nothing
/// (`LiveTasks::on_quiescent` dropping its list unread): the pool terminates
/// with the task still pending, its join never returns, and loom reports a
/// deadlock.
#[test]
fn never_woken_future_is_cancelled_by_shutdown() {
    super::model(|| {
        let pool = ThreadPool::new(1);
        let Waiting {
            task,
            slot,
            future_drops,
            ..
        } = spawn_waiting(&pool);
        pool.shutdown();
        assert!(task.join().unwrap_err().is_cancelled());
        assert_eq!(future_drops.get(), 1);
        // The waker the future left behind still holds a reference: drop
        // it, so loom sees the task freed.
        drop(slot.lock().take());
        drop(pool);
    });
}

/// A job queued before `shutdown` began runs before the shutdown's cancel
/// step: the idle future it wakes completes instead of being cancelled
/// ("run everything already queued, then cancel the futures still waiting").
///
/// Planted and not caught, as `pool/sleep.md` ("Reading the gate before the
/// recheck") argues it cannot be: a sleeper reading the gate after its
/// recheck instead of before (issue 10, planted bug 3); with one worker, the
/// submitter's wake-up takes the sleeper off the idle list before the close,
/// so it never runs the hook on a stale view.
#[test]
fn queued_job_wakes_a_future_before_shutdown_cancels_it() {
    super::model(|| {
        let pool = ThreadPool::new(1);
        let Waiting {
            task,
            flag,
            slot,
            future_drops,
            ..
        } = spawn_waiting(&pool);
        pool.execute(move || set_and_wake(&flag, &slot));
        pool.shutdown();
        let result = task.join();
        assert!(
            result.is_ok(),
            "woken by a job queued before the shutdown, yet {result:?}"
        );
        assert_eq!(future_drops.get(), 1);
    });
}

/// A task woken from another thread before `shutdown` begins completes: its
/// wake-up waits on the woken queue, which counts as queued work, so the
/// shutdown runs it instead of cancelling it as idle.
///
/// Planted and not caught: `Registry::has_queued_work` not looking at the
/// woken queue (5,203 interleavings pass): here the close wakes the worker,
/// the quiescence hook cancels only idle futures (a woken one is not), and
/// the terminating worker's sweep runs the woken task. The sleep model
/// `outside_wake_wakes_a_worker_falling_asleep` catches that bug (a
/// deadlock); this one guards the outcome users rely on.
#[test]
fn task_woken_before_shutdown_completes() {
    super::model(|| {
        let pool = ThreadPool::new(1);
        let waiting = spawn_waiting(&pool);
        let (flag, slot) = (waiting.flag.clone(), waiting.slot.clone());
        thread::spawn(move || set_and_wake(&flag, &slot))
            .join()
            .unwrap();
        pool.shutdown();
        let result = waiting.task.join();
        assert!(result.is_ok(), "woken before the shutdown, yet {result:?}");
        assert_eq!(waiting.future_drops.get(), 1);
    });
}

/// Never ready; its `Drop` (run by the shutdown's cancel step) spawns a
/// task on the current worker and leaves its handle in `spawned`.
struct SpawnOnDrop {
    spawned: Arc<Mutex<Option<Task<()>>>>,
}

impl Future for SpawnOnDrop {
    type Output = ();

    fn poll(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<()> {
        Poll::Pending
    }
}

impl Drop for SpawnOnDrop {
    fn drop(&mut self) {
        *self.spawned.lock() = Some(crate::spawn(|| ()));
    }
}

/// Two workers: one blocked in a job on an idle task A, the other running
/// the shutdown's cancel step, which cancels A (waking the blocked worker)
/// and an idle future B whose `Drop` spawns a task C. C was accepted, so it
/// runs before the pool terminates: its join returns.
///
/// Planted bug seen caught (issue 10, defect 3, the code before the fix):
/// the worker running the cancel step counted as asleep, so the worker A's
/// cancellation woke could terminate the pool meanwhile; C went on a deque
/// nobody swept, and loom reports a deadlock (C's join never returns).
///
/// The costliest shutdown model: two workers make it about 800,000
/// interleavings at `LOOM_MAX_PREEMPTIONS=2` (100 to 250 s in release on a
/// shared 2-core machine).
#[test]
fn work_spawned_while_cancelling_idle_futures_runs() {
    super::model(|| {
        let pool = ThreadPool::new(2);
        let Waiting { task: a, .. } = spawn_waiting(&pool);
        pool.execute(move || {
            assert!(a.join().unwrap_err().is_cancelled());
        });
        let spawned = Arc::new(Mutex::new(None));
        let b = pool.spawn_async(SpawnOnDrop {
            spawned: spawned.clone(),
        });
        pool.shutdown();
        assert!(b.join().unwrap_err().is_cancelled());
        let c = spawned.lock().take().expect("B's drop ran");
        assert!(c.join().is_ok());
    });
}
