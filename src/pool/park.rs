//! How a thread blocks until a waker fires: the parker each blocking wait
//! owns, and what a worker does instead of sleeping.
//!
//! Level 2's blocking waits (`Task::join`, `Task::wait_timeout`,
//! `block_on`) and a fork-join sent from outside the pool
//! (`join.rs`) all wait here. The machinery needs only a [`Parker`] and
//! the current [`WorkerThread`], so it lives on the pool floor.
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

use super::WorkerThread;
use crate::sync::{AtomicBool, Ordering, Parker, thread_local};
use std::cell::Cell;
use std::sync::Arc as StdArc;
use std::task::{Wake, Waker};

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
pub(crate) fn with_own_parker<R>(f: impl FnOnce(&Parker, &Waker) -> R) -> R {
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
/// On a thread outside any pool, `park` sleeps. On a worker (`block_on`
/// there, or a wait for another pool's work), `park` runs the worker's own
/// pool's work until the waker fires, so a future that waits on this pool's
/// queued work completes, and so do pools that wait on each other.
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
