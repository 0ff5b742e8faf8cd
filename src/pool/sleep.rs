#![doc = include_str!("sleep.md")]

use crate::sync::{AtomicU64, Mutex, Ordering, Parker, fence};
use crossbeam_utils::CachePadded;

/// Bits per count field of the word; enough for [`crate::MAX_THREADS`].
const COUNT_BITS: u32 = 14;
const COUNT_MASK: u64 = (1 << COUNT_BITS) - 1;

const SLEEPING_SHIFT: u32 = 0;
const SEARCHING_SHIFT: u32 = COUNT_BITS;
const BLOCKED_SHIFT: u32 = 2 * COUNT_BITS;

/// One worker in the idle list.
const SLEEPING_ONE: u64 = 1 << SLEEPING_SHIFT;
/// One worker looking for work.
const SEARCHING_ONE: u64 = 1 << SEARCHING_SHIFT;
/// One sleeping worker that is inside a job (waiting in a `join`).
const BLOCKED_ONE: u64 = 1 << BLOCKED_SHIFT;
/// Shutdown began: submissions from outside the pool are refused.
const CLOSED: u64 = 1 << (3 * COUNT_BITS);
/// The pool stopped: every submission is refused and workers exit.
const TERMINATED: u64 = CLOSED << 1;

const _: () = assert!(crate::MAX_THREADS as u64 <= COUNT_MASK);
const _: () = assert!(TERMINATED.leading_zeros() >= 1);

/// A decoded copy of the coordination word.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct Snapshot(u64);

impl Snapshot {
    pub(crate) fn sleeping(self) -> usize {
        ((self.0 >> SLEEPING_SHIFT) & COUNT_MASK) as usize
    }
    pub(crate) fn searching(self) -> usize {
        ((self.0 >> SEARCHING_SHIFT) & COUNT_MASK) as usize
    }
    pub(crate) fn blocked(self) -> usize {
        ((self.0 >> BLOCKED_SHIFT) & COUNT_MASK) as usize
    }
    pub(crate) fn is_closed(self) -> bool {
        self.0 & CLOSED != 0
    }
    pub(crate) fn is_terminated(self) -> bool {
        self.0 & TERMINATED != 0
    }
    /// A submission that sees this word must wake a sleeper.
    fn needs_wake(self) -> bool {
        self.searching() == 0 && self.sleeping() > 0
    }
}

impl std::fmt::Debug for Snapshot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Snapshot")
            .field("sleeping", &self.sleeping())
            .field("searching", &self.searching())
            .field("blocked", &self.blocked())
            .field("closed", &self.is_closed())
            .field("terminated", &self.is_terminated())
            .finish()
    }
}

/// A submission was refused: the pool is closed (for outside submitters) or
/// terminated (for everyone).
#[derive(Debug)]
pub(crate) struct Refused;

/// The pool terminated while a job was being pushed on the injector: no
/// worker may be left to run it.
#[derive(Debug)]
pub(crate) struct Stranded;

/// How a worker left [`Sleep::sleep`].
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Wakeup {
    /// Awake and counted as searching: look for work (or at your condition).
    Searching,
    /// The pool terminated; `sweep` is set for the one worker that
    /// terminated it, which must run whatever is still queued before exiting.
    Terminated { sweep: bool },
}

#[derive(Debug, Clone, Copy)]
struct Sleeper {
    index: usize,
    blocked: bool,
}

impl Sleeper {
    /// What this sleeper adds to the word while it is in the idle list,
    /// relative to being a searcher.
    fn registration(self) -> u64 {
        let blocked = if self.blocked { BLOCKED_ONE } else { 0 };
        (SLEEPING_ONE + blocked).wrapping_sub(SEARCHING_ONE)
    }
}

/// The sleep/wake state of one pool. See the module doc for the protocol.
#[derive(Debug)]
pub(crate) struct Sleep {
    state: CachePadded<AtomicU64>,
    idle: Mutex<Vec<Sleeper>>,
    parkers: Box<[CachePadded<Parker>]>,
    parks: AtomicU64,
    wakeups: AtomicU64,
}

impl Sleep {
    pub(crate) fn new(threads: usize) -> Self {
        assert!(threads <= crate::MAX_THREADS);
        Self {
            // Workers start as searchers: they look for work before sleeping.
            state: CachePadded::new(AtomicU64::new(threads as u64 * SEARCHING_ONE)),
            idle: Mutex::new(Vec::with_capacity(threads)),
            parkers: (0..threads).map(|_| CachePadded::new(Parker::new())).collect(),
            parks: AtomicU64::new(0),
            wakeups: AtomicU64::new(0),
        }
    }

    fn threads(&self) -> usize {
        self.parkers.len()
    }

    pub(crate) fn snapshot(&self) -> Snapshot {
        Snapshot(self.state.load(Ordering::SeqCst))
    }

    /// How many times workers parked, and were woken, since the pool started.
    pub(crate) fn counts(&self) -> (u64, u64) {
        (
            self.parks.load(Ordering::Relaxed),
            self.wakeups.load(Ordering::Relaxed),
        )
    }

    /// A worker that found no work starts looking for it.
    pub(crate) fn start_searching(&self) {
        // ORDERING: SeqCst read-modify-write of the word; see the module doc.
        self.state.fetch_add(SEARCHING_ONE, Ordering::SeqCst);
    }

    /// A searching worker found a job. If it was the last searcher and
    /// workers sleep, wake one: a submitter may have skipped its wake-up
    /// because this worker was searching.
    pub(crate) fn stop_searching(&self) {
        // ORDERING: SeqCst read-modify-write of the word; see the module doc.
        let before = Snapshot(self.state.fetch_sub(SEARCHING_ONE, Ordering::SeqCst));
        debug_assert!(before.searching() > 0, "stop_searching without searching");
        if before.searching() == 1 && before.sleeping() > 0 {
            self.wake_one();
        }
    }

    /// A worker pushed on its own deque: wake a sleeper if nobody searches.
    #[inline]
    pub(crate) fn notify_pushed_locally(&self) {
        // ORDERING: pairs with the fence after a sleeper's registration
        // (Dekker): either we see the sleeper, or its recheck sees our push.
        fence(Ordering::SeqCst);
        let now = Snapshot(self.state.load(Ordering::Relaxed));
        if now.needs_wake() {
            self.wake_one();
        }
    }

    /// A worker pushed the second half of a fork-join: like
    /// `notify_pushed_locally` without the fence (see
    /// `WorkerThread::push_for_join` for why that is enough).
    #[inline]
    pub(crate) fn notify_pushed_for_join(&self) {
        let now = Snapshot(self.state.load(Ordering::Relaxed));
        if now.needs_wake() {
            self.wake_one();
        }
    }

    /// Before a push on the injector: refuses it if the pool is closed (for
    /// `from_outside` submissions) or terminated (for all of them: the
    /// others re-queue work the pool already accepted, like a woken task).
    #[inline]
    pub(crate) fn may_inject(&self, from_outside: bool) -> Result<(), Refused> {
        // ORDERING: Relaxed is enough to refuse: a submission that misses a
        // concurrent close is simply accepted, and the fence in
        // `notify_injected` catches one that misses termination.
        let now = Snapshot(self.state.load(Ordering::Relaxed));
        if now.is_terminated() || (from_outside && now.is_closed()) {
            return Err(Refused);
        }
        Ok(())
    }

    /// After a push on the injector: wakes a sleeper if nobody searches.
    /// Returns `Err(Stranded)` if the pool terminated meanwhile; the caller
    /// must then run what is left on the injector itself.
    #[inline]
    pub(crate) fn notify_injected(&self) -> Result<(), Stranded> {
        // ORDERING: pairs with the fence after a sleeper's registration
        // (Dekker): either we see the sleeper, or its recheck sees our push;
        // and with the fence after `try_terminate`: either we see
        // TERMINATED, or the terminating worker's sweep sees our push.
        fence(Ordering::SeqCst);
        let now = Snapshot(self.state.load(Ordering::Relaxed));
        if now.is_terminated() {
            return Err(Stranded);
        }
        if now.needs_wake() {
            self.wake_one();
        }
        Ok(())
    }

    /// Begins shutdown: refuse outside submissions from now on. Returns
    /// `false` if it had already begun.
    pub(crate) fn close(&self) -> bool {
        // ORDERING: SeqCst read-modify-write of the word.
        let before = Snapshot(self.state.fetch_or(CLOSED, Ordering::SeqCst));
        // If everyone sleeps, wake one so that quiescence gets evaluated.
        if !before.is_closed() && before.needs_wake() {
            self.wake_one();
        }
        !before.is_closed()
    }

    /// Wakes one sleeping worker, unless someone is searching already.
    pub(crate) fn wake_one(&self) -> bool {
        let mut idle = self.idle.lock();
        // Under the lock the idle list and the counts agree.
        let now = self.snapshot();
        if now.searching() > 0 || now.is_terminated() {
            return false;
        }
        let Some(sleeper) = idle.pop() else {
            return false;
        };
        self.unregister(sleeper);
        drop(idle);
        self.unpark(sleeper.index);
        true
    }

    /// Wakes worker `index` if it sleeps (a `join` it waits in may be done).
    /// A worker that is awake checks its condition before it sleeps again.
    pub(crate) fn wake_worker(&self, index: usize) {
        let mut idle = self.idle.lock();
        let Some(position) = idle.iter().position(|s| s.index == index) else {
            return;
        };
        let sleeper = idle.remove(position);
        self.unregister(sleeper);
        drop(idle);
        self.unpark(sleeper.index);
    }

    /// Stops the pool at once (a build that failed before any work existed).
    pub(crate) fn terminate_now(&self) {
        let idle = self.idle.lock();
        // ORDERING: SeqCst read-modify-write of the word.
        self.state.fetch_or(CLOSED | TERMINATED, Ordering::SeqCst);
        self.unpark_all(idle);
    }

    /// Puts worker `index` to sleep until it is woken, and returns how it
    /// left. The caller must be counted as searching (it is again on
    /// `Wakeup::Searching`). `blocked` says the worker is inside a job (so the
    /// pool must not terminate under it). `has_work` is the recheck: every
    /// queue, plus whatever else the caller waits for. `on_quiescent` runs
    /// when this worker finds the closed pool empty and everyone asleep; it
    /// returns `true` if it made work.
    pub(crate) fn sleep(
        &self,
        index: usize,
        blocked: bool,
        has_work: impl Fn() -> bool,
        on_quiescent: impl FnOnce() -> bool,
    ) -> Wakeup {
        let sleeper = Sleeper { index, blocked };
        let registered = {
            let mut idle = self.idle.lock();
            if self.snapshot().is_terminated() {
                return Wakeup::Terminated { sweep: false };
            }
            idle.push(sleeper);
            // ORDERING: SeqCst read-modify-write of the word.
            let before = self
                .state
                .fetch_add(sleeper.registration(), Ordering::SeqCst);
            Snapshot(before.wrapping_add(sleeper.registration()))
        };
        // ORDERING: pairs with the fence in `notify_pushed_locally` (Dekker):
        // either the pusher sees our registration or we see its push.
        fence(Ordering::SeqCst);
        if has_work() {
            return self.cancel_sleep(sleeper);
        }
        if registered.is_closed() && registered.sleeping() == self.threads() {
            if on_quiescent() || has_work() {
                return self.cancel_sleep(sleeper);
            }
            if registered.blocked() == 0 && self.try_terminate(registered) {
                return Wakeup::Terminated { sweep: true };
            }
        }
        self.parks.fetch_add(1, Ordering::Relaxed);
        self.parkers[index].park();
        if self.snapshot().is_terminated() {
            Wakeup::Terminated { sweep: false }
        } else {
            Wakeup::Searching
        }
    }

    /// Takes a registered sleeper back off the idle list; if a waker took it
    /// off first, consumes that waker's token instead.
    fn cancel_sleep(&self, sleeper: Sleeper) -> Wakeup {
        let mut idle = self.idle.lock();
        if let Some(position) = idle.iter().position(|s| s.index == sleeper.index) {
            idle.remove(position);
            self.unregister(sleeper);
            return Wakeup::Searching;
        }
        drop(idle);
        self.parkers[sleeper.index].park();
        if self.snapshot().is_terminated() {
            Wakeup::Terminated { sweep: false }
        } else {
            Wakeup::Searching
        }
    }

    /// Sets `TERMINATED` if the word is still exactly `registered`.
    fn try_terminate(&self, registered: Snapshot) -> bool {
        let idle = self.idle.lock();
        // ORDERING: SeqCst; see the fence below.
        let swapped = self.state.compare_exchange(
            registered.0,
            registered.0 | TERMINATED,
            Ordering::SeqCst,
            Ordering::SeqCst,
        );
        if swapped.is_err() {
            return false;
        }
        self.unpark_all(idle);
        // ORDERING: pairs with the fence in `notify_injected`: a push that
        // this worker's sweep does not see is one whose pusher sees
        // TERMINATED and runs it.
        fence(Ordering::SeqCst);
        true
    }

    fn unpark_all(&self, mut idle: crate::sync::MutexGuard<'_, Vec<Sleeper>>) {
        let sleepers: Vec<Sleeper> = idle.drain(..).collect();
        drop(idle);
        for sleeper in sleepers {
            self.unpark(sleeper.index);
        }
    }

    /// Moves a sleeper just taken off the idle list back to searching.
    /// Called with the idle lock held.
    fn unregister(&self, sleeper: Sleeper) {
        // ORDERING: SeqCst read-modify-write of the word.
        self.state
            .fetch_sub(sleeper.registration(), Ordering::SeqCst);
    }

    fn unpark(&self, index: usize) {
        self.wakeups.fetch_add(1, Ordering::Relaxed);
        self.parkers[index].unpark();
    }
}
