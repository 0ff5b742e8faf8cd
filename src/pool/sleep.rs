#![doc = include_str!("sleep.md")]

use super::Submit;
use crate::sync::{AtomicU64, Mutex, Ordering, Parker, fence};
use crossbeam_utils::CachePadded;

/// Bits per count field of the sleep word; enough for [`crate::MAX_THREADS`].
const COUNT_BITS: u32 = 14;
const COUNT_MASK: u64 = (1 << COUNT_BITS) - 1;

const SLEEPING_SHIFT: u32 = 0;
const SEARCHING_SHIFT: u32 = COUNT_BITS;
const BLOCKED_SHIFT: u32 = 2 * COUNT_BITS;

/// Sleep word: one worker in the idle list.
const SLEEPING_ONE: u64 = 1 << SLEEPING_SHIFT;
/// Sleep word: one worker looking for work.
const SEARCHING_ONE: u64 = 1 << SEARCHING_SHIFT;
/// Sleep word: one sleeping worker that is inside a job (waiting in a `join`).
const BLOCKED_ONE: u64 = 1 << BLOCKED_SHIFT;

/// Gate: one thread between `enter_submit` and `leave_submit`.
const SUBMITTING_ONE: u64 = 1;
/// Gate: shutdown began; submissions from outside the pool are refused.
const CLOSED: u64 = 1 << 62;
/// Gate: the pool stopped; every submission is refused and workers exit.
const TERMINATED: u64 = 1 << 63;
const SUBMITTING_MASK: u64 = CLOSED - 1;

const _: () = assert!(crate::MAX_THREADS as u64 <= COUNT_MASK);

/// A decoded copy of the sleep word.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) struct SleepWord(u64);

impl SleepWord {
    pub(super) fn sleeping(self) -> usize {
        ((self.0 >> SLEEPING_SHIFT) & COUNT_MASK) as usize
    }
    pub(super) fn searching(self) -> usize {
        ((self.0 >> SEARCHING_SHIFT) & COUNT_MASK) as usize
    }
    pub(super) fn blocked(self) -> usize {
        ((self.0 >> BLOCKED_SHIFT) & COUNT_MASK) as usize
    }
    /// A submission that sees this word must wake a sleeper.
    fn needs_wake(self) -> bool {
        self.searching() == 0 && self.sleeping() > 0
    }
}

impl std::fmt::Debug for SleepWord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SleepWord")
            .field("sleeping", &self.sleeping())
            .field("searching", &self.searching())
            .field("blocked", &self.blocked())
            .finish()
    }
}

/// A decoded copy of the gate.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) struct Gate(u64);

impl Gate {
    fn submitting(self) -> u64 {
        self.0 & SUBMITTING_MASK
    }
    pub(super) fn is_closed(self) -> bool {
        self.0 & CLOSED != 0
    }
    pub(super) fn is_terminated(self) -> bool {
        self.0 & TERMINATED != 0
    }
}

/// A submission was refused: the pool is closed (for outside submitters) or
/// terminated (for everyone).
#[derive(Debug)]
pub(super) struct Refused;

/// How a worker left [`SleepState::sleep`].
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Wakeup {
    /// Awake and counted as searching: look for work (or at your condition).
    Searching,
    /// The pool terminated; `sweep` is set for the one worker that
    /// terminated it, which must run whatever is still queued before exiting.
    Terminated { sweep: bool },
}

/// Why a worker sleeps; the sleep word counts blocked sleepers apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum SleepKind {
    /// Between jobs: it found nothing to run.
    Idle,
    /// Inside a job (waiting in a `join` or a blocking wait): the pool must
    /// not terminate under it.
    Blocked,
}

#[derive(Debug, Clone, Copy)]
struct Sleeper {
    index: usize,
    kind: SleepKind,
}

impl Sleeper {
    /// What this sleeper adds to the word while it is in the idle list,
    /// relative to being a searcher.
    fn registration(self) -> u64 {
        let blocked = match self.kind {
            SleepKind::Blocked => BLOCKED_ONE,
            SleepKind::Idle => 0,
        };
        (SLEEPING_ONE + blocked).wrapping_sub(SEARCHING_ONE)
    }
}

/// The idle list, behind the idle lock.
#[derive(Debug)]
struct Idle {
    /// The workers registered as sleeping; a worker is here at most once.
    sleepers: Vec<Sleeper>,
    /// How many times a sleeper was taken off the list (woken, or gone back
    /// to searching on its own). Termination compares it to tell "nobody
    /// woke since I looked" apart from "someone woke and slept again", which
    /// leave the sleep word the same.
    generation: u64,
}

/// What [`SleepState::try_terminate`] found.
#[derive(Debug, PartialEq, Eq)]
enum Terminate {
    /// `TERMINATED` is set; the caller sweeps and exits.
    Done,
    /// A sleeper was taken off the idle list since the caller's evaluation:
    /// what that worker did may have made work for the quiescence hook, so
    /// the caller runs it again.
    Stale,
    /// Nothing changed, but the pool may not stop now (a sleeper is blocked
    /// inside a job, or a submitter is in flight, which wakes a sleeper when
    /// it leaves): park.
    Park,
}

/// What [`SleepState::leave_idle_for_hook`] did.
#[derive(Debug)]
enum ForHook {
    /// Left the idle list at this generation: run the hook.
    Left(u64),
    /// A waker took the worker off the list first; its unpark is on the way.
    Woken,
    /// Some worker is awake after all: it evaluates quiescence when it
    /// sleeps; stay on the list and park.
    SomeoneAwake,
}

/// The sleep/wake state of one pool. See the module doc for the protocol.
#[derive(Debug)]
pub(super) struct SleepState {
    /// The sleep word: written by workers.
    state: CachePadded<AtomicU64>,
    /// The gate: written by threads that push on a shared queue (the
    /// injector or the woken queue), and once each by `close` and
    /// termination.
    gate: CachePadded<AtomicU64>,
    idle: Mutex<Idle>,
    parkers: Box<[CachePadded<Parker>]>,
    parks: AtomicU64,
    wakeups: AtomicU64,
}

impl SleepState {
    pub(super) fn new(threads: usize) -> Self {
        assert!(threads <= crate::MAX_THREADS);
        Self {
            // Workers start as searchers: they look for work before sleeping.
            state: CachePadded::new(AtomicU64::new(threads as u64 * SEARCHING_ONE)),
            gate: CachePadded::new(AtomicU64::new(0)),
            idle: Mutex::new(Idle {
                sleepers: Vec::with_capacity(threads),
                generation: 0,
            }),
            parkers: (0..threads)
                .map(|_| CachePadded::new(Parker::new()))
                .collect(),
            parks: AtomicU64::new(0),
            wakeups: AtomicU64::new(0),
        }
    }

    fn threads(&self) -> usize {
        self.parkers.len()
    }

    pub(super) fn snapshot(&self) -> SleepWord {
        // ORDERING: (S) in the module doc's "Orderings".
        SleepWord(self.state.load(Ordering::SeqCst))
    }

    pub(super) fn gate(&self) -> Gate {
        // ORDERING: (S).
        Gate(self.gate.load(Ordering::SeqCst))
    }

    /// How many times workers parked, and were woken, since the pool started.
    pub(super) fn counts(&self) -> (u64, u64) {
        // ORDERING: (R).
        (
            self.parks.load(Ordering::Relaxed),
            self.wakeups.load(Ordering::Relaxed),
        )
    }

    /// A worker that found no work starts looking for it.
    pub(super) fn start_searching(&self) {
        // ORDERING: (S).
        self.state.fetch_add(SEARCHING_ONE, Ordering::SeqCst);
    }

    /// A searching worker found a job. If it was the last searcher, workers
    /// sleep and more work is queued (`more_work`), wake one: a submitter
    /// may have skipped its wake-up because this worker was searching.
    /// Waking one unconditionally would put a second wake-up on the path of
    /// every lone job that arrives at an idle pool.
    pub(super) fn stop_searching(&self, more_work: impl FnOnce() -> bool) {
        // ORDERING: (S).
        let before = SleepWord(self.state.fetch_sub(SEARCHING_ONE, Ordering::SeqCst));
        debug_assert!(before.searching() > 0, "stop_searching without searching");
        if before.searching() == 1 && before.sleeping() > 0 {
            // ORDERING: (L).
            fence(Ordering::SeqCst);
            if more_work() {
                self.wake_one();
            }
        }
    }

    /// A worker pushed on its own deque: wake a sleeper if nobody searches.
    #[inline]
    pub(super) fn notify_pushed_locally(&self) {
        // ORDERING: (D), the pusher's side.
        fence(Ordering::SeqCst);
        let now = SleepWord(self.state.load(Ordering::Relaxed));
        if now.needs_wake() {
            self.wake_one();
        }
    }

    /// A worker pushed the second half of a fork-join: like
    /// `notify_pushed_locally` without the fence (see
    /// `WorkerThread::push_for_join` for why that is enough).
    #[inline]
    pub(super) fn notify_pushed_for_join(&self) {
        // ORDERING: (J).
        let now = SleepWord(self.state.load(Ordering::Relaxed));
        if now.needs_wake() {
            self.wake_one();
        }
    }

    /// Announces a push on a shared queue (the injector, or the woken queue
    /// for a [`Submit::Wake`]). [`Submit::New`] submissions are refused once
    /// the pool is closed; the others (work the pool already accepted, like
    /// a woken task) only once it terminated.
    #[inline]
    pub(super) fn enter_submit(&self, how: Submit) -> Result<(), Refused> {
        // ORDERING: (S).
        let before = Gate(self.gate.fetch_add(SUBMITTING_ONE, Ordering::SeqCst));
        if before.is_terminated() || (how == Submit::New && before.is_closed()) {
            self.leave_submit(false);
            return Err(Refused);
        }
        Ok(())
    }

    /// Ends what `enter_submit` began, without a push or after one on a
    /// queue whose length does not matter, and wakes a sleeper if nobody
    /// searches.
    #[inline]
    pub(super) fn leave_submit(&self, pushed: bool) {
        self.leave_submit_behind(pushed, || 0);
    }

    /// Ends what `enter_submit` began, after the push (or without one) on a
    /// shared queue that now holds `queued()` jobs. Wakes a sleeper if
    /// nobody searches; after a push, also if fewer workers search than
    /// that queue holds jobs (see "Submitting" in `sleep.md`).
    #[inline]
    pub(super) fn leave_submit_behind(&self, pushed: bool, queued: impl FnOnce() -> usize) {
        // ORDERING: (S), and (T): the terminating worker reads this.
        let before = Gate(self.gate.fetch_sub(SUBMITTING_ONE, Ordering::SeqCst));
        // ORDERING: (D), the pusher's side.
        fence(Ordering::SeqCst);
        let now = SleepWord(self.state.load(Ordering::Relaxed));
        // A worker that saw this submission in flight did not declare the
        // pool quiescent; if it was the last in flight, let a worker re-check.
        let last_in_closed_pool = before.is_closed() && before.submitting() == 1;
        if (pushed || last_in_closed_pool) && now.needs_wake() {
            self.wake_one();
        } else if pushed && now.sleeping() > 0 && queued() > now.searching() {
            self.wake_another();
        }
    }

    /// Begins shutdown: refuse outside submissions from now on. Returns
    /// `false` if it had already begun.
    pub(super) fn close(&self) -> bool {
        // ORDERING: (S).
        let before = Gate(self.gate.fetch_or(CLOSED, Ordering::SeqCst));
        // ORDERING: (D), as in `leave_submit`: if everyone sleeps, wake
        // one, so that quiescence gets evaluated.
        fence(Ordering::SeqCst);
        let now = SleepWord(self.state.load(Ordering::Relaxed));
        if !before.is_closed() && now.needs_wake() {
            self.wake_one();
        }
        !before.is_closed()
    }

    /// Wakes one sleeping worker, unless someone is searching already.
    pub(super) fn wake_one(&self) -> bool {
        self.wake_sleeper(|now| now.searching() == 0)
    }

    /// Wakes one sleeping worker even though someone searches: a burst of
    /// outside jobs that the searchers alone would take one at a time.
    #[cold]
    fn wake_another(&self) {
        self.wake_sleeper(|_| true);
    }

    /// Takes a sleeper off the idle list and unparks it, if there is one,
    /// the pool has not terminated, and `still_wanted` holds of the counts.
    fn wake_sleeper(&self, still_wanted: impl FnOnce(SleepWord) -> bool) -> bool {
        let mut idle = self.idle.lock();
        // Under the lock the idle list and the counts agree.
        if !still_wanted(self.snapshot()) || self.gate().is_terminated() {
            return false;
        }
        let Some(sleeper) = idle.sleepers.pop() else {
            return false;
        };
        self.unregister(&mut idle, sleeper);
        drop(idle);
        self.unpark(sleeper.index);
        true
    }

    /// Wakes worker `index` if it sleeps (a `join` it waits in may be done).
    /// A worker that is awake checks its condition before it sleeps again.
    pub(super) fn wake_worker(&self, index: usize) {
        let mut idle = self.idle.lock();
        let Some(position) = idle.sleepers.iter().position(|s| s.index == index) else {
            return;
        };
        let sleeper = idle.sleepers.remove(position);
        self.unregister(&mut idle, sleeper);
        drop(idle);
        self.unpark(sleeper.index);
    }

    /// Stops the pool at once (a build that failed before any work existed).
    pub(super) fn terminate_now(&self) {
        let idle = self.idle.lock();
        // ORDERING: (S).
        self.gate.fetch_or(CLOSED | TERMINATED, Ordering::SeqCst);
        self.unpark_all(idle);
    }

    /// Puts worker `index` to sleep until it is woken, and returns how it
    /// left. The caller must be counted as searching (it is again on
    /// `Wakeup::Searching`). `kind` says whether the worker is inside a job
    /// (so the pool must not terminate under it). `has_work` is the recheck: every
    /// queue, plus whatever else the caller waits for. `on_quiescent` runs
    /// when this worker finds the closed pool empty and everyone asleep; it
    /// returns `true` if it made work.
    ///
    /// `on_quiescent` runs user code (the `Drop` of cancelled futures, which
    /// may submit work or block in a nested wait), so this worker leaves the
    /// idle list to run it, counted as neither sleeping nor searching, like
    /// a worker inside a job: meanwhile no other worker sees every worker
    /// asleep, so none terminates the pool under it.
    pub(super) fn sleep(
        &self,
        index: usize,
        kind: SleepKind,
        has_work: impl Fn() -> bool,
        on_quiescent: impl Fn() -> bool,
    ) -> Wakeup {
        let sleeper = Sleeper { index, kind };
        // Once this worker ran the hook and it made nothing: the idle list's
        // generation just after this worker left the list to run it.
        let mut hook_ran_at = None;
        loop {
            let Some(registered) = self.register(sleeper) else {
                return Wakeup::Terminated { sweep: false };
            };
            // ORDERING: (D), the sleeper's side.
            fence(Ordering::SeqCst);
            // Read the gate before the recheck: if it shows CLOSED, every push
            // that happened before the close is visible to the recheck (see
            // the module doc, "Reading the gate before the recheck").
            let gate = self.gate();
            if has_work() {
                return self.cancel_sleep(sleeper);
            }
            let quiescent = registered.sleeping() == self.threads()
                && gate.is_closed()
                && gate.submitting() == 0;
            if !quiescent {
                break;
            }
            if let Some(generation) = hook_ran_at {
                match self.try_terminate(registered, generation) {
                    Terminate::Done => return Wakeup::Terminated { sweep: true },
                    Terminate::Park => break,
                    Terminate::Stale => {}
                }
            }
            // Run the hook awake (see the doc above).
            let generation = match self.leave_idle_for_hook(sleeper) {
                ForHook::Left(generation) => generation,
                ForHook::Woken => return self.consume_wakeup(index),
                ForHook::SomeoneAwake => break,
            };
            self.stop_searching(&has_work);
            let made_work = on_quiescent();
            self.start_searching();
            if made_work {
                return Wakeup::Searching;
            }
            hook_ran_at = Some(generation);
        }
        // ORDERING: (R).
        self.parks.fetch_add(1, Ordering::Relaxed);
        self.parkers[index].park();
        if self.gate().is_terminated() {
            Wakeup::Terminated { sweep: false }
        } else {
            Wakeup::Searching
        }
    }

    /// Puts `sleeper` on the idle list and moves it from searching to
    /// sleeping; returns the sleep word just after, or `None` if the pool
    /// terminated.
    fn register(&self, sleeper: Sleeper) -> Option<SleepWord> {
        let mut idle = self.idle.lock();
        if self.gate().is_terminated() {
            return None;
        }
        debug_assert!(
            idle.sleepers.iter().all(|s| s.index != sleeper.index),
            "worker {} registered to sleep twice",
            sleeper.index
        );
        idle.sleepers.push(sleeper);
        // ORDERING: (S).
        let before = self
            .state
            .fetch_add(sleeper.registration(), Ordering::SeqCst);
        Some(SleepWord(before.wrapping_add(sleeper.registration())))
    }

    /// Takes a registered sleeper back off the idle list; if a waker took it
    /// off first, consumes that waker's token instead.
    fn cancel_sleep(&self, sleeper: Sleeper) -> Wakeup {
        let mut idle = self.idle.lock();
        let Some(position) = idle.sleepers.iter().position(|s| s.index == sleeper.index) else {
            drop(idle);
            return self.consume_wakeup(sleeper.index);
        };
        // Unregister the entry that is there: a worker is on the list at
        // most once, so it is this sleeper's own registration.
        let removed = idle.sleepers.remove(position);
        self.unregister(&mut idle, removed);
        Wakeup::Searching
    }

    /// Takes `sleeper` off the idle list to run the quiescence hook, like
    /// [`cancel_sleep`](Self::cancel_sleep), but only if every worker is
    /// still on the list: the snapshot that made the caller quiescent may be
    /// stale, and a worker that woke since will evaluate quiescence itself
    /// when it sleeps again (see the module doc, "Reading the gate before
    /// the recheck", for why this matters).
    fn leave_idle_for_hook(&self, sleeper: Sleeper) -> ForHook {
        let mut idle = self.idle.lock();
        let Some(position) = idle.sleepers.iter().position(|s| s.index == sleeper.index) else {
            return ForHook::Woken;
        };
        if idle.sleepers.len() != self.threads() {
            return ForHook::SomeoneAwake;
        }
        let removed = idle.sleepers.remove(position);
        self.unregister(&mut idle, removed);
        ForHook::Left(idle.generation)
    }

    /// Waits for the unpark of the waker that took worker `index` off the
    /// idle list (it is on its way), and says how the worker left.
    fn consume_wakeup(&self, index: usize) -> Wakeup {
        self.parkers[index].park();
        if self.gate().is_terminated() {
            Wakeup::Terminated { sweep: false }
        } else {
            Wakeup::Searching
        }
    }

    /// Sets `TERMINATED` if nobody left the idle list since generation
    /// `generation` (when the caller left it to run the quiescence hook,
    /// which made nothing), the sleep word is still the caller's
    /// `registered`, no sleeper is blocked inside a job, the pool is closed,
    /// and nobody is submitting.
    fn try_terminate(&self, registered: SleepWord, generation: u64) -> Terminate {
        let idle = self.idle.lock();
        // Under the idle lock, with every worker asleep, neither the sleep
        // word nor the generation can change: only wake-ups and
        // registrations change them, and they take this lock.
        if idle.generation != generation || self.snapshot() != registered {
            return Terminate::Stale;
        }
        if registered.blocked() != 0 {
            // The pool never terminates while a worker waits inside a job;
            // that worker's wait ends with a wake-up, and it sleeps again.
            return Terminate::Park;
        }
        let gate = self.gate();
        if !gate.is_closed() || gate.submitting() != 0 {
            return Terminate::Park;
        }
        // ORDERING: (T).
        let swapped = self.gate.compare_exchange(
            gate.0,
            gate.0 | TERMINATED,
            Ordering::SeqCst,
            Ordering::SeqCst,
        );
        if swapped.is_err() {
            return Terminate::Park;
        }
        self.unpark_all(idle);
        Terminate::Done
    }

    fn unpark_all(&self, mut idle: crate::sync::MutexGuard<'_, Idle>) {
        let sleepers: Vec<Sleeper> = idle.sleepers.drain(..).collect();
        drop(idle);
        for sleeper in sleepers {
            self.unpark(sleeper.index);
        }
    }

    /// Moves a sleeper just taken off the idle list back to searching, and
    /// counts the change of generation. `idle` is the held idle lock.
    fn unregister(&self, idle: &mut Idle, sleeper: Sleeper) {
        idle.generation += 1;
        // ORDERING: (S).
        self.state
            .fetch_sub(sleeper.registration(), Ordering::SeqCst);
    }

    fn unpark(&self, index: usize) {
        self.wakeups.fetch_add(1, Ordering::Relaxed);
        self.parkers[index].unpark();
    }
}
