//! Waiting for a task: the handle's side of the waiter slot, and blocking.
//!
//! # What a waiting worker runs
//!
//! `join` on a worker of the task's own pool first looks at its own deque:
//! if the task's queue entry is the newest job there (a task joined right
//! after it was spawned), the worker takes it back and runs it as it would
//! have next anyway, leaving no stale entry behind. When the handle and that
//! entry are then the task's only references, and nothing has touched it
//! (no cancel, no waker), nobody else can reach the task: the joiner runs
//! the closure, takes the value and frees the block with no atomic
//! transition at all (`RawTask::join_exclusive`): the common case of a
//! recursive computation that spawns a task per fork and joins it. Otherwise
//! it tries to *claim* the task: a closure task that has not started runs
//! inline, right there, exactly as a sequential program would run it (this
//! is .NET's task inlining, and it
//! makes a one-thread pool whose tasks join their children work to any
//! depth). Otherwise the task is running elsewhere, or is an async task, and
//! the worker helps: it runs queued jobs of its pool, its own deque first
//! (newest first, so the waiting task's own children come first), then the
//! injector, then its siblings, and sleeps when there are none (see
//! `WorkerThread::wait_until`).
//!
//! A worker waiting for *another* pool (`join` on that pool's task, a
//! `pool.join` sent to it, `block_on` of its work) never runs the foreign
//! task inline, but serves its own pool the same way until the foreign work
//! completes and its waker wakes the worker: rayon's cross-pool rule. Were
//! it to block instead, two pools whose work waits on each other (pool 1
//! -> pool 2 -> pool 1) would deadlock as soon as every worker of one of
//! them waits.
//!
//! Helping with queued work is what rayon does, and it keeps the re-entrancy
//! hazard of rayon issue #592: a task that holds a lock while it joins may,
//! on the same thread, run an unrelated queued job that takes the same lock,
//! and deadlock. Inlining avoids that for the common case (the target had not
//! started: nothing unrelated runs). It cannot for a target that is already
//! running elsewhere or waits for a wake-up: refusing unrelated work there
//! would deadlock a one-thread pool whose awaited async task is woken through
//! the injector. So: do not hold a lock across `join` on a worker; a thread
//! outside every pool never runs pool work while it waits, and
//! `Task::wait_timeout` never helps either.
//!
//! Each blocking wait parks on a wake-up token of its own, so that waits
//! nested on one thread never take each other's wake-up: that machinery
//! (`with_own_parker`, `with_thread_waker`) is the pool's, in
//! `pool/park.rs`.

use super::raw::{RawTask, TakeBack};
use super::state::JoinDropped;
use crate::error::TaskError;
use crate::pool::{WorkerThread, with_own_parker};
use crate::unwind;
use std::task::Waker;
use std::time::{Duration, Instant};

/// Makes sure `waker` is woken when the task completes. Returns `true` if
/// the task is complete already (then nothing is registered).
pub(crate) fn register_waker(task: &RawTask, waker: &Waker) -> bool {
    let state = task.state().load();
    if state.is_complete() {
        return true;
    }
    if state.is_join_waker_set() {
        // SAFETY: with JOIN_WAKER set, the completer only reads the slot, as
        // we do, until it unsets the flag; only we could clear it.
        let same = task
            .waiter()
            .with(|slot| unsafe { (*slot).as_ref() }.is_some_and(|w| w.will_wake(waker)));
        if same {
            return false;
        }
        if task.state().unset_join_waker().is_err() {
            return true;
        }
    }
    // The slot is ours: JOIN_WAKER is unset.
    let old = task
        .waiter()
        // SAFETY: with JOIN_WAKER unset only the handle touches the slot.
        .with_mut(|slot| unsafe { (*slot).replace(waker.clone()) });
    if let Some(payload) = old.and_then(unwind::drop_caught) {
        task.report_panic(payload);
    }
    task.state().set_join_waker().is_err()
}

/// `Task::join`: blocks until the task is complete (see the module doc for
/// what a worker does meanwhile), then takes its output and ends the handle.
///
/// # Safety
///
/// `task` is the handle's reference, which the handle gives up, `T` is the
/// output type, and the output was not taken before.
pub(crate) unsafe fn join<T>(task: RawTask) -> Result<T, TaskError> {
    if !task.state().load().is_complete() && wait_until_complete(&task) == Waited::OwnsTask {
        // SAFETY: `take_back` found the task `Owned`; forwarded.
        return unsafe { task.join_exclusive() };
    }
    // SAFETY: forwarded; the task is complete.
    unsafe { task.join_output() }
}

/// How `wait_until_complete` ended.
#[derive(PartialEq, Eq)]
enum Waited {
    /// The task is complete.
    Complete,
    /// This worker took the task's queue entry back and is its only user
    /// (`TakeBack::Owned`): the task has not run.
    OwnsTask,
}

fn wait_until_complete(task: &RawTask) -> Waited {
    let waited = WorkerThread::with_current(|worker| {
        let worker = worker?;
        let own_pool = match task.pool() {
            Some(pool) => worker.belongs_to(pool),
            // A task of no pool (`when_all`, `when_any`) waits for tasks
            // that are likely on this worker's pool.
            None => true,
        };
        // Only a task of this pool runs inline: another pool's task runs on
        // that pool's threads. Either way this worker serves its own pool
        // until the task completes and its waker wakes it.
        if own_pool {
            let ran = match task.take_back(worker) {
                TakeBack::Owned => return Some(Waited::OwnsTask),
                TakeBack::Ran => true,
                TakeBack::NotNewest => task.try_run_inline(),
            };
            // The entry of a future may only poll it to `Pending`.
            if ran && task.state().load().is_complete() {
                return Some(Waited::Complete);
            }
        }
        if !register_waker(task, worker.waker()) {
            worker.wait_until(|| task.state().load().is_complete());
        }
        Some(Waited::Complete)
    });
    waited.unwrap_or_else(|| {
        with_own_parker(|parker, waker| {
            if register_waker(task, waker) {
                return;
            }
            while !task.state().load().is_complete() {
                parker.park();
            }
        });
        Waited::Complete
    })
}

/// Blocks until the task is complete or `timeout` passed; never runs work.
pub(crate) fn wait_timeout(task: &RawTask, timeout: Duration) -> bool {
    if task.state().load().is_complete() {
        return true;
    }
    // A timeout too long to add to now waits without a deadline.
    let deadline = Instant::now().checked_add(timeout);
    with_own_parker(|parker, waker| {
        if register_waker(task, waker) {
            return true;
        }
        loop {
            if task.state().load().is_complete() {
                return true;
            }
            match deadline {
                None => parker.park(),
                Some(deadline) => {
                    let now = Instant::now();
                    if now >= deadline {
                        return false;
                    }
                    parker.park_timeout(deadline - now);
                }
            }
        }
    })
}

/// The handle is dropped: give up the join interest, drop what it owns, and
/// release its reference `task` (in the same transition when there is
/// nothing to drop: a detached task costs one atomic step here).
pub(crate) fn drop_handle<T>(task: RawTask) {
    let (drop_output, drop_waker) = match task.state().drop_join_interest::<T>(task.slot()) {
        JoinDropped::Released(released) => return task.release(released),
        JoinDropped::DropOutput => (true, false),
        JoinDropped::DropWaker => (false, true),
        JoinDropped::DropOutputAndWaker => (true, true),
    };
    if drop_output {
        // SAFETY: the task is complete, the output unread, and `T` is its
        // type (the handle's parameter).
        match unsafe { task.take_output::<T>() } {
            Ok(value) => {
                if let Some(payload) = unwind::drop_caught(value) {
                    task.report_panic(payload);
                }
            }
            Err(error) => {
                // A panic nobody joined: unobserved, so the handler gets it.
                if let Ok(payload) = error.try_into_panic() {
                    task.report_panic(payload);
                }
            }
        }
    }
    if drop_waker {
        // SAFETY: `drop_join_interest` gave the slot to us.
        let waker = task.waiter().with_mut(|slot| unsafe { (*slot).take() });
        if let Some(payload) = waker.and_then(unwind::drop_caught) {
            task.report_panic(payload);
        }
    }
    // `task` drops here, releasing the handle's reference.
}
