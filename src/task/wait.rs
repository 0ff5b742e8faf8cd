//! Waiting for a task: the handle's side of the waiter slot, and blocking.
//!
//! # What a waiting worker runs
//!
//! `join` on a worker of the task's own pool first tries to *claim* the task:
//! a closure task that has not started runs inline, right there, exactly as
//! a sequential program would run it (this is .NET's task inlining, and it
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
//! # Every blocking wait has a wake-up token of its own
//!
//! A wait parks on a one-token parker and re-checks what it waits for after
//! each wake-up. Waits nest on one thread: `block_on` polls a future that
//! registers its waker on one task and then, in the same `poll`, blocks in
//! `join` of another, a nested `block_on` or `wait_timeout`. Were the two
//! waits to share a token, the inner one could consume the wake-up meant for
//! the outer one, which would then sleep forever. So each wait owns its
//! token: outside a pool, the thread's cached parker is lent to one wait at
//! a time, and a wait that finds it lent (a nested one) gets a new parker
//! for itself; a worker's `block_on` or cross-pool wait has a per-call flag.
//! A stale wake-up from an earlier wait (a waker a task still holds) only
//! makes a later wait re-check once.
//!
//! A wait in a thread-local's destructor at thread or process exit may run
//! after this module's thread-local is destroyed: it then uses a new parker
//! for that one wait instead of touching the thread-local (which would
//! abort the process).

use super::raw::RawTask;
use crate::pool::WorkerThread;
use crate::sync::{AtomicBool, Ordering, Parker, thread_local};
use crate::unwind;
use std::cell::Cell;
use std::sync::Arc as StdArc;
use std::task::{Wake, Waker};
use std::time::{Duration, Instant};

/// A parker and the waker that unparks it. (`std::task::Wake` needs
/// `std::sync::Arc`; the parker inside is the loom-aware one.)
struct ThreadWaker(Parker);

impl Wake for ThreadWaker {
    fn wake(self: StdArc<Self>) {
        self.0.unpark();
    }

    fn wake_by_ref(self: &StdArc<Self>) {
        self.0.unpark();
    }
}

impl ThreadWaker {
    fn new() -> StdArc<Self> {
        StdArc::new(ThreadWaker(Parker::new()))
    }
}

thread_local! {
    /// This thread's cached parker, lent to one blocking wait at a time:
    /// `None` while a wait holds it.
    static THREAD_WAKER: Cell<Option<StdArc<ThreadWaker>>> = Cell::new(Some(ThreadWaker::new()));
}

/// Gives a parker borrowed from [`THREAD_WAKER`] back when its wait ends,
/// by return or by unwinding.
struct Lent(Option<StdArc<ThreadWaker>>);

impl Drop for Lent {
    fn drop(&mut self) {
        if let Some(thread_waker) = self.0.take() {
            // Fails only while this thread's thread-locals are destroyed:
            // then the parker simply goes.
            let _ = THREAD_WAKER.try_with(|slot| slot.set(Some(thread_waker)));
        }
    }
}

/// Runs `f` with a parker that no other wait uses and a waker that unparks
/// it: this thread's cached one, or, when an enclosing wait on this thread
/// holds that one or the thread-locals are being destroyed, a new one for
/// this wait alone (see the module doc).
fn with_own_parker<R>(f: impl FnOnce(&Parker, &Waker) -> R) -> R {
    // `Err` during thread-local destruction; `Ok(None)` inside a wait that
    // holds the cached parker.
    let lent = Lent(THREAD_WAKER.try_with(Cell::take).ok().flatten());
    let thread_waker = match &lent.0 {
        Some(cached) => cached.clone(),
        None => ThreadWaker::new(),
    };
    let waker = Waker::from(thread_waker.clone());
    f(&thread_waker.0, &waker)
}

/// How a wait started by [`with_thread_waker`] blocks until its waker is
/// woken.
pub(crate) enum Parking<'a> {
    /// A thread outside any pool sleeps on its own parker.
    Thread(&'a Parker),
    /// A worker runs its own pool's work until the wait's flag is set.
    Worker(&'a WorkerThread, &'a WorkerFlag),
}

impl Parking<'_> {
    /// Returns once the wait's waker was woken since the last return (a
    /// one-token parker, like [`Parker::park`]); may also return spuriously,
    /// so callers check what they wait for in a loop.
    pub(crate) fn park(&self) {
        match self {
            Parking::Thread(parker) => parker.park(),
            Parking::Worker(worker, flag) => {
                // ORDERING: Relaxed: only says when to stop helping; the
                // swap below acquires the wake-up.
                worker.wait_until(|| flag.woken.load(Ordering::Relaxed));
                // ORDERING: Acquire pairs with the Release store in `wake`:
                // what the waker's caller wrote before waking is visible to
                // the caller's next check. A read-modify-write, so a wake-up
                // after the load above is either taken here or left set.
                flag.woken.swap(false, Ordering::Acquire);
            }
        }
    }
}

/// The token of one wait of a worker in [`with_thread_waker`]: a flag,
/// and the worker's own waker to wake it out of its sleep.
pub(crate) struct WorkerFlag {
    woken: AtomicBool,
    worker: Waker,
}

impl Wake for WorkerFlag {
    fn wake(self: StdArc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &StdArc<Self>) {
        // ORDERING: Release pairs with the Acquire swap in `Parking::park`.
        self.woken.store(true, Ordering::Release);
        self.worker.wake_by_ref();
    }
}

/// Runs `f` with a way to block until a waker fires, and that waker, for
/// one blocking wait of this thread (`block_on`, a fork-join sent to a
/// pool): the token is this wait's own, so a nested wait never takes it.
///
/// On a thread outside any pool, `park` sleeps. On a worker (this is then
/// a wait for another pool's work), `park` runs the worker's own pool's
/// work until the waker fires, so pools that wait on each other complete.
pub(crate) fn with_thread_waker<R>(f: impl FnOnce(&Parking<'_>, &Waker) -> R) -> R {
    WorkerThread::with_current(|worker| match worker {
        Some(worker) => {
            let flag = StdArc::new(WorkerFlag {
                woken: AtomicBool::new(false),
                worker: worker.waker().clone(),
            });
            let waker = Waker::from(flag.clone());
            f(&Parking::Worker(worker, &flag), &waker)
        }
        None => with_own_parker(|parker, waker| f(&Parking::Thread(parker), waker)),
    })
}

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

/// Blocks until the task is complete (see the module doc for what a worker
/// does meanwhile).
pub(crate) fn join(task: &RawTask) {
    if task.state().load().is_complete() {
        return;
    }
    let waited = WorkerThread::with_current(|worker| {
        let Some(worker) = worker else {
            return false;
        };
        let own_pool = match task.pool() {
            Some(pool) => worker.belongs_to(pool),
            // A task of no pool (`when_all`, `when_any`) waits for tasks
            // that are likely on this worker's pool.
            None => true,
        };
        // Only a task of this pool runs inline: another pool's task runs on
        // that pool's threads. Either way this worker serves its own pool
        // until the task completes and its waker wakes it.
        if own_pool && task.try_run_inline() {
            return true;
        }
        if !register_waker(task, worker.waker()) {
            worker.wait_until(|| task.state().load().is_complete());
        }
        true
    });
    if !waited {
        with_own_parker(|parker, waker| {
            if register_waker(task, waker) {
                return;
            }
            while !task.state().load().is_complete() {
                parker.park();
            }
        });
    }
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
    // With JOIN_WAKER unset only the handle writes the slot; with it set,
    // the completer only reads it: reading it here is safe either way.
    // SAFETY: as above.
    let has_waker = task.waiter().with(|slot| unsafe { (*slot).is_some() });
    let dropped = task
        .state()
        .drop_join_interest(has_waker, std::mem::needs_drop::<T>());
    if let Some(last) = dropped.released {
        let header = task.into_raw();
        if last {
            RawTask::dealloc_released(header);
        }
        return;
    }
    if dropped.drop_output {
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
    if dropped.drop_waker {
        // SAFETY: `drop_join_interest` gave the slot to us.
        let waker = task.waiter().with_mut(|slot| unsafe { (*slot).take() });
        if let Some(payload) = waker.and_then(unwind::drop_caught) {
            task.report_panic(payload);
        }
    }
    // `task` drops here, releasing the handle's reference.
}
