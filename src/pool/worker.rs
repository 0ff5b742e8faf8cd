//! A worker thread: its deque, its find-work loop, and the thread-local that
//! lets code running on it find its pool.
//!
//! # Where a worker looks for work, in this order
//!
//! Each worker has three queues of its own:
//!
//! * its *deque*, where the work it submits itself goes (its spawns, and
//!   the tasks woken on it): run newest first;
//! * its *inbox* (FIFO), where the outside work it takes from the injector
//!   goes, a batch at a time, in submission order: run oldest first;
//! * its *later* queue (FIFO), where work goes that asked to wait behind
//!   the rest (a yield, `Submit::Yield`).
//!
//! Two queues are shared: the *woken queue*, where a task woken from
//! outside the pool (a timer, another thread, a reactor) goes, and the
//! *injector*, where new outside work goes. Both are FIFO.
//!
//! "The shared queues" below means: the woken queue, then new outside work
//! (the inbox, then a batch from the injector), except that after
//! [`WOKEN_BURST`] woken tasks taken since the worker last took new outside
//! work (or found the woken queue empty), new outside work comes first,
//! once. So woken work runs before work that never started (it holds memory,
//! locks and deadlines), and a storm of wake-ups cannot starve new work: it
//! gets at least one turn in every `WOKEN_BURST + 1` jobs a worker takes
//! from the shared queues.
//!
//! 1. Every [`INJECTOR_INTERVAL`] jobs, the shared queues first. If they
//!    held work, a *turn* begins: for up to [`OUTSIDE_TURN`] jobs, or until
//!    the shared queues are empty, they come before the jobs that were on
//!    the deque when the turn began, so that woken and outside work never
//!    starve behind a worker that keeps feeding its own deque. Jobs the
//!    worker spawns during the turn still come first (newest first, and
//!    counted against the turn): a job's own spawns run right after it, in
//!    or out of a turn.
//! 2. After [`LATER_INTERVAL`] jobs taken without looking at its later
//!    queue, that queue first, so that yielded work never starves either.
//! 3. Its own deque, newest job first: the job pushed last is the one whose
//!    data is still in cache, and depth-first order keeps a recursive
//!    fan-out's queue short. Popping it writes no shared cache line.
//! 4. The shared queues. The woken queue is mostly empty: a look at its two
//!    indices spares a steal's fence. Outside work comes through the inbox:
//!    one contended steal moves up to a batch of the injector into it, and
//!    the inbox keeps their order, so a worker starts outside submissions in
//!    the order they were made (on a one-thread pool, exactly that order).
//! 5. Its later queue, oldest first: yielded jobs take turns, behind all
//!    other work the worker can see, outside work included. Keeping them on
//!    the worker (rather than on the injector) keeps a yield off the shared
//!    queue's contended cache lines.
//! 6. Its siblings' queues (deque, inbox, then later queue), oldest job
//!    first, about half of a queue at a time, starting at a random sibling:
//!    stealing disturbs a sibling that is busy, so it comes last; the oldest
//!    job of a fan-out is the biggest, so one steal moves the most work. A
//!    stolen job lands in the thief's queue of the same kind, in the same
//!    order.
//!
//! A worker that finds nothing becomes a *searcher*, spins through the same
//! order a few rounds with exponential backoff (most gaps between jobs are
//! shorter than a park and unpark), then sleeps through the protocol in
//! [`super::sleep`].

use super::job::{JobData, JobRef, Ran};
use super::queue::{Steal, Stealer, Worker};
use super::registry::{Registry, ThreadHook, WorkerCounters, WorkerQueues};
use super::sleep::{SleepKind, Wakeup};
use crate::sync::{Arc, Condvar, Mutex, thread_local};
use crate::unwind::{self, AbortIfPanic, Payload};
use std::cell::Cell;
use std::ptr::{self, NonNull};
use std::task::{Wake, Waker};

/// How many jobs a worker takes before it looks at the injector first.
/// A prime, so that it does not beat in step with a program's own period;
/// small, because the look is cheap (an `is_empty` check of the injector's
/// two indices) and an outside job waits behind this many local ones.
pub(super) const INJECTOR_INTERVAL: u32 = 17;

/// How many jobs from the shared queues a worker takes, at most, ahead of
/// the older jobs on its deque after a periodic look found work there (a
/// turn, step 1 of the module doc): the most those jobs wait per look.
/// About one injector batch, the share of outside work one look took when
/// batches went on the deque; larger turns drain a flood of outside work
/// faster but make the worker's own older work (the first polls of tasks it
/// spawned, say) wait longer.
pub(super) const OUTSIDE_TURN: u32 = 32;

/// How many woken tasks a worker takes from the woken queue before it takes
/// one piece of new outside work first (when there is any): the bound that
/// keeps a storm of wake-ups from starving new work. Large enough that a
/// burst of timers firing together runs ahead of a backlog; a prime, like
/// the other intervals.
pub(super) const WOKEN_BURST: u32 = 29;

/// How many jobs a worker takes from elsewhere before it looks at its later
/// queue first: the most a yielded job waits behind work queued after it.
/// A prime other than [`INJECTOR_INTERVAL`], so the two looks rarely meet.
pub(super) const LATER_INTERVAL: u32 = 31;

// The worker running on this thread, or null. Set for the whole life of a
// worker thread's main loop, which owns the pointee on its stack. Read on
// every spawn and free of a task: `const`, so reaching it costs no
// initialisation check (loom's `thread_local!` takes no `const` initializer).
#[cfg(not(loom))]
std::thread_local! {
    static CURRENT: Cell<*const WorkerThread> = const { Cell::new(ptr::null()) };
}
#[cfg(loom)]
thread_local! {
    static CURRENT: Cell<*const WorkerThread> = Cell::new(ptr::null());
}

thread_local! {

    #[allow(clippy::missing_const_for_thread_local)]
    /// The registry whose `on_thread_stop` hook runs on this thread, or
    /// null: the thread is still that pool's worker (a shutdown from it must
    /// not wait for it), though its main loop, and `CURRENT`, are gone.
    static STOPPING: Cell<*const Registry> = Cell::new(ptr::null());
}

/// The thread-side state of one worker; lives on the worker's stack.
pub(crate) struct WorkerThread {
    index: usize,
    registry: Arc<Registry>,
    deque: Worker<JobRef>,
    inbox: Worker<JobRef>,
    later: Worker<JobRef>,
    rng: Cell<u64>,
    tick: Cell<u32>,
    /// Woken tasks taken since this worker last took new outside work or
    /// found the woken queue empty (see [`WOKEN_BURST`]).
    woken_streak: Cell<u32>,
    /// In a turn (step 1 of the module doc): how many more jobs the shared
    /// queues may still take ahead of the deque's older jobs; 0 outside one.
    outside_turn: Cell<u32>,
    /// In a turn: how many of the deque's jobs are older than the turn.
    turn_floor: Cell<usize>,
    /// Jobs taken since the later queue was last looked at.
    later_waited: Cell<u32>,
    /// Inside the shutdown's quiescence hook (see [`Self::quiescence_hook`]).
    in_quiescence_hook: Cell<bool>,
    waker: Waker,
    /// References to `registry` that its `Arc` counts but nobody holds:
    /// handed out by [`Self::registry_ref`] and taken back by
    /// [`Self::keep_registry_ref`], and taken from or given back to the
    /// count in batches, so that what a worker makes and frees (a task
    /// holds its pool) seldom touches the registry's reference count, a
    /// line that every worker and every outside spawner would otherwise
    /// write.
    spare_refs: Cell<usize>,
}

/// Registry references a worker takes at once when it has no spare one.
const SPARE_BATCH: usize = 64;
/// Spare registry references a worker keeps at most.
const SPARE_MAX: usize = 4 * SPARE_BATCH;

impl Drop for WorkerThread {
    fn drop(&mut self) {
        self.release_spare_refs(self.spare_refs.get());
    }
}

/// Wakes one worker out of its sleep inside [`WorkerThread::wait_until`].
///
/// `std::task::Wake` needs `std::sync::Arc`, so this one `Arc` does not come
/// from `crate::sync`; what it wakes (the sleep state) does.
struct WorkerWaker {
    registry: Arc<Registry>,
    index: usize,
}

impl Wake for WorkerWaker {
    fn wake(self: std::sync::Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &std::sync::Arc<Self>) {
        self.registry.sleep.wake_worker(self.index);
    }
}

impl WorkerThread {
    /// Calls `f` with the worker running on this thread, if any.
    #[inline]
    pub(crate) fn with_current<R>(f: impl FnOnce(Option<&WorkerThread>) -> R) -> R {
        let current = CURRENT.with(Cell::get);
        // SAFETY: CURRENT is non-null only while `main_loop` runs on this
        // thread, and the pointee lives on this thread's stack for all that
        // time; `f` cannot send the reference elsewhere (`WorkerThread` is
        // not `Sync`) nor keep it past this call.
        f(unsafe { current.as_ref() })
    }

    pub(crate) fn index(&self) -> usize {
        self.index
    }

    pub(crate) fn registry(&self) -> &Arc<Registry> {
        &self.registry
    }

    /// A counted reference to this worker's registry, from the spare ones.
    #[inline]
    pub(crate) fn registry_ref(&self) -> Arc<Registry> {
        let mut spare = self.spare_refs.get();
        if spare == 0 {
            for _ in 0..SPARE_BATCH {
                // SAFETY: `self.registry` is a live `Arc`.
                unsafe { Arc::increment_strong_count(Arc::as_ptr(&self.registry)) };
            }
            spare = SPARE_BATCH;
        }
        self.spare_refs.set(spare - 1);
        // SAFETY: one of the spare references, which the count includes and
        // nobody holds, handed over.
        unsafe { Arc::from_raw(Arc::as_ptr(&self.registry)) }
    }

    /// Takes back a reference to this worker's registry as a spare one;
    /// hands it back if it is another pool's.
    ///
    /// A worker that already keeps `SPARE_MAX` gives back all but
    /// `SPARE_BATCH` of them at once. Giving back only the one over the
    /// limit would write the count on every free, while an outside thread
    /// that spawns writes it on every spawn: tasks spawned from outside and
    /// freed on workers would then move the count's line between cores
    /// twice per task.
    #[inline]
    pub(crate) fn keep_registry_ref(&self, registry: Arc<Registry>) -> Option<Arc<Registry>> {
        if !Arc::ptr_eq(&registry, &self.registry) {
            return Some(registry);
        }
        let mut spare = self.spare_refs.get();
        if spare == SPARE_MAX {
            self.release_spare_refs(SPARE_MAX - SPARE_BATCH);
            spare = SPARE_BATCH;
        }
        // The count keeps it; `Drop` releases the spares.
        let _ = Arc::into_raw(registry);
        self.spare_refs.set(spare + 1);
        None
    }

    /// Gives `count` of the spare references back to the registry's count.
    #[cold]
    fn release_spare_refs(&self, count: usize) {
        debug_assert!(count <= self.spare_refs.get());
        self.spare_refs.set(self.spare_refs.get() - count);
        for _ in 0..count {
            // SAFETY: each spare is a reference the `Arc` counts and nobody
            // holds; `self.registry` keeps the pointer valid meanwhile.
            unsafe { Arc::decrement_strong_count(Arc::as_ptr(&self.registry)) };
        }
    }

    /// Is this worker one of `registry`'s?
    #[inline]
    pub(crate) fn belongs_to(&self, registry: &Registry) -> bool {
        ptr::eq(&*self.registry, registry)
    }

    /// Is the current thread one of `registry`'s workers: in its main loop,
    /// or running its `on_thread_stop` hook? Such a thread must never wait
    /// for the pool's workers to exit.
    pub(super) fn is_worker_of(registry: &Registry) -> bool {
        Self::with_current(|worker| worker.is_some_and(|worker| worker.belongs_to(registry)))
            || STOPPING.with(|stopping| ptr::eq(stopping.get(), registry))
    }

    fn counters(&self) -> &WorkerCounters {
        &self.registry.counters[self.index]
    }

    /// Pushes a job on this worker's own deque, waking a sleeper if needed.
    #[inline]
    pub(super) fn push(&self, job: JobRef) {
        self.deque.push(job);
        if !self.in_quiescence_hook.get() {
            self.registry.sleep.notify_pushed_locally();
        }
    }

    /// Pushes the second half of a fork-join on this worker's own deque.
    ///
    /// Unlike [`push`](Self::push) this skips the fence of the wake-up
    /// check: the joining worker never waits for the job without first
    /// trying to pop it back and run it itself, so a wake-up lost to the
    /// race the fence closes costs parallelism, never progress; and a join
    /// is cheap enough that the fence would be a large part of it.
    #[inline]
    pub(super) fn push_for_join(&self, job: JobRef) {
        self.deque.push(job);
        self.registry.sleep.notify_pushed_for_join();
    }

    /// Queues a job behind all of this worker's other work (a yield),
    /// waking a sleeper if needed.
    #[inline]
    pub(super) fn push_later(&self, job: JobRef) {
        self.later.push(job);
        if !self.in_quiescence_hook.get() {
            self.registry.sleep.notify_pushed_locally();
        }
    }

    /// Pops the newest job of this worker's own deque.
    #[inline]
    pub(super) fn pop_local(&self) -> Option<JobRef> {
        self.deque.pop()
    }

    /// Takes back the job that `JobRef::from_pointer(run, pointer)` made, if
    /// it is the newest on this worker's own deque (a joiner waiting for the
    /// work it queued last, so that no stale entry stays behind); returns
    /// whether it did. A job taken back never runs from the queue: the
    /// caller owns it, and runs it (`run_taken_back`) or ends it itself.
    pub(crate) fn take_back_newest<T>(
        &self,
        run: unsafe fn(JobData) -> Ran,
        pointer: NonNull<T>,
    ) -> bool {
        match self.deque.pop() {
            Some(job) if job.is(run, pointer) => {
                self.registry.job_taken();
                true
            }
            Some(job) => {
                // Back where it was: still the newest, still stealable.
                self.deque.push(job);
                false
            }
            None => false,
        }
    }

    /// Runs a job taken back with `take_back_newest`, here and now, as the
    /// pool would have. Like any work a joiner runs inline, it is not
    /// counted as executed.
    ///
    /// # Safety
    ///
    /// `take_back_newest(run, pointer)` returned `true`, and the job was
    /// not run or ended since.
    pub(crate) unsafe fn run_taken_back<T>(
        &self,
        run: unsafe fn(JobData) -> Ran,
        pointer: NonNull<T>,
    ) {
        // SAFETY: the caller took this job back from the deque: it is ours
        // to run, once.
        let job = unsafe { JobRef::from_pointer(run, pointer) };
        if let Err(payload) = unwind::catch(|| job.run()) {
            self.registry.report_panic(payload);
        }
    }

    /// Runs one job through the unwind door and counts it.
    #[inline]
    pub(super) fn execute(&self, job: JobRef) {
        self.registry.job_taken();
        match unwind::catch(|| job.run()) {
            Ok(Ran::Work) => WorkerCounters::add(&self.counters().executed, 1),
            Ok(Ran::Nothing) => {}
            Err(payload) => {
                WorkerCounters::add(&self.counters().executed, 1);
                self.registry.report_panic(payload);
            }
        }
    }

    /// One pass through the find-work order (see the module doc).
    #[inline]
    pub(super) fn find_work(&self) -> Option<JobRef> {
        let tick = self.tick.get().wrapping_add(1);
        self.tick.set(tick);
        let turn = self.outside_turn.get();
        if turn > 0 {
            if let Some(job) = self.take_in_turn(turn) {
                return Some(job);
            }
        } else if tick % INJECTOR_INTERVAL == 0 {
            if let Some(job) = self.take_shared() {
                self.outside_turn.set(OUTSIDE_TURN);
                self.turn_floor.set(self.deque.len());
                return Some(job);
            }
        }
        let waited = self.later_waited.get() + 1;
        if waited < LATER_INTERVAL {
            self.later_waited.set(waited);
        } else {
            self.later_waited.set(0);
            if let Some(job) = self.later.pop() {
                return Some(job);
            }
        }
        if let Some(job) = self.deque.pop().or_else(|| self.take_shared()) {
            return Some(job);
        }
        self.later_waited.set(0);
        self.later.pop().or_else(|| self.steal_from_siblings())
    }

    /// A job in a turn: the deque's jobs newer than the turn, then the shared
    /// queues; `None` (and the turn is over) when both are empty. Every job
    /// taken counts against the turn, so a job that keeps spawning during
    /// one cannot stretch it past [`OUTSIDE_TURN`] and keep the periodic
    /// look (which a turn replaces) from coming.
    #[inline]
    fn take_in_turn(&self, turn: u32) -> Option<JobRef> {
        self.outside_turn.set(turn - 1);
        // Thieves take the oldest jobs: the floor sinks with them.
        let len = self.deque.len();
        let floor = self.turn_floor.get().min(len);
        self.turn_floor.set(floor);
        if len > floor {
            if let Some(job) = self.deque.pop() {
                return Some(job);
            }
        }
        let job = self.take_shared();
        if job.is_none() {
            self.outside_turn.set(0);
        }
        job
    }

    /// The shared queues: woken work, then new outside work, with new work
    /// first once after [`WOKEN_BURST`] woken tasks (see the module doc).
    #[inline]
    fn take_shared(&self) -> Option<JobRef> {
        let streak = self.woken_streak.get();
        if streak < WOKEN_BURST {
            if let Some(job) = self.registry.steal_woken() {
                self.woken_streak.set(streak + 1);
                return Some(job);
            }
            // Nothing woken waits: the row is over.
            self.woken_streak.set(0);
            return self.take_new();
        }
        if let Some(job) = self.take_new() {
            self.woken_streak.set(0);
            return Some(job);
        }
        // No new work waits, so none starves: a new row begins.
        let job = self.registry.steal_woken();
        self.woken_streak.set(u32::from(job.is_some()));
        job
    }

    /// New outside work, in submission order: the inbox, then a batch from
    /// the injector through the inbox.
    #[inline]
    fn take_new(&self) -> Option<JobRef> {
        if let Some(job) = self.inbox.pop() {
            return Some(job);
        }
        if self.registry.injector.is_empty() {
            return None;
        }
        self.registry.steal_from_injector(&self.inbox)
    }

    fn steal_from_siblings(&self) -> Option<JobRef> {
        let stealers = &self.registry.stealers;
        let count = stealers.len();
        if count <= 1 {
            return None;
        }
        loop {
            let mut retry = false;
            let start = self.next_random() % count;
            for offset in 0..count {
                let victim = (start + offset) % count;
                if victim == self.index {
                    continue;
                }
                let queues = &stealers[victim];
                // Each queue into this one's queue of the same kind, so
                // each job keeps its place. An inbox or a later queue is
                // often empty: a look at its two indices spares the fence of
                // a steal (a stale look only delays that steal).
                let steal = match self.steal_batch(&queues.now, &self.deque) {
                    Steal::Empty if !queues.inbox.is_empty() => {
                        self.steal_batch(&queues.inbox, &self.inbox)
                    }
                    steal => steal,
                };
                let steal = match steal {
                    Steal::Empty if !queues.later.is_empty() => {
                        self.steal_batch(&queues.later, &self.later)
                    }
                    steal => steal,
                };
                match steal {
                    Steal::Success(job) => return Some(job),
                    Steal::Retry => retry = true,
                    Steal::Empty => {}
                }
            }
            if !retry {
                return None;
            }
        }
    }

    /// Steals one job and about half of the rest of `from` into `into`,
    /// counting them.
    fn steal_batch(&self, from: &Stealer<JobRef>, into: &Worker<JobRef>) -> Steal<JobRef> {
        let before = into.len();
        let steal = from.steal_batch_and_pop(into);
        if steal.is_success() {
            let moved = into.len().saturating_sub(before);
            WorkerCounters::add(&self.counters().stolen, 1 + moved as u64);
        }
        steal
    }

    /// xorshift64: cheap, and good enough to spread thieves over victims.
    fn next_random(&self) -> usize {
        let mut x = self.rng.get();
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.rng.set(x);
        x as usize
    }

    /// Searches a few rounds with exponential backoff before giving up, or
    /// until `stop()` holds.
    fn spin_for_work(&self, stop: impl Fn() -> bool) -> Option<JobRef> {
        #[cfg(not(loom))]
        {
            let backoff = crossbeam_utils::Backoff::new();
            loop {
                if let Some(job) = self.find_work() {
                    return Some(job);
                }
                if backoff.is_completed() || stop() {
                    return None;
                }
                backoff.snooze();
            }
        }
        // A model explores every step: spinning only multiplies its states.
        #[cfg(loom)]
        {
            let _ = stop;
            self.find_work()
        }
    }

    /// A waker that wakes this worker if it sleeps inside [`wait_until`].
    ///
    /// [`wait_until`]: Self::wait_until
    pub(crate) fn waker(&self) -> &Waker {
        &self.waker
    }

    /// Runs the pool's queued work on this worker until `done()` holds,
    /// sleeping when there is none. Whatever makes `done()` true must then
    /// wake [`waker`](Self::waker), or this worker may sleep through it.
    ///
    /// While it waits, the worker is *blocked*: counted as asleep inside a
    /// job, so the pool does not terminate under it. It runs any queued job,
    /// in the find-work order (its own deque first, so its own children come
    /// first, then the shared queues, then its siblings): refusing outside
    /// work here could leave a one-thread pool with nobody to run the job
    /// the wait depends on.
    pub(crate) fn wait_until(&self, done: impl Fn() -> bool) {
        // User code in here runs under `catch` (`execute`, the hook); a panic
        // that gets out is ours, and would leave this worker registered as
        // searching or sleeping inside a job that goes on unwinding.
        let guard = AbortIfPanic("a worker's wait inside a job (`wait_until`) panicked");
        let sleep = &self.registry.sleep;
        let mut searching = false;
        while !done() {
            let job = self.find_work().or_else(|| {
                if !searching {
                    sleep.start_searching();
                    searching = true;
                }
                self.spin_for_work(&done)
            });
            if let Some(job) = job {
                if searching {
                    searching = false;
                    sleep.stop_searching(|| self.registry.has_queued_work());
                }
                self.execute(job);
                continue;
            }
            if done() {
                break;
            }
            let wake = sleep.sleep(
                self.index,
                SleepKind::Blocked,
                || done() || self.registry.has_queued_work(),
                || self.quiescence_hook(),
            );
            // A pool never terminates while one of its workers is blocked.
            if wake != Wakeup::Searching {
                unwind::abort("the pool terminated under a worker blocked inside a job");
            }
        }
        if searching {
            sleep.stop_searching(|| self.registry.has_queued_work());
        }
        guard.disarm();
    }

    /// Runs the shutdown's quiescence hook (`sleep.md`, "Shutdown").
    ///
    /// Meanwhile this worker's own pushes wake no sibling (as in
    /// [`push_for_join`](Self::push_for_join), no wake-up is lost: this
    /// worker is awake and looks at its own queues before it sleeps, in a
    /// nested wait or after the hook). So the step cancels every future
    /// that was idle when the queues ran dry, except those its own
    /// cancellations wake, rather than racing a sibling that runs what
    /// those cancellations woke.
    fn quiescence_hook(&self) -> bool {
        let outer = self.in_quiescence_hook.replace(true);
        let made_work = self.registry.run_quiescence_hook();
        self.in_quiescence_hook.set(outer);
        made_work
    }

    /// Finds a job, spinning and then sleeping as long as there is none.
    /// Returns `None` when the pool terminated; `searching` tracks whether
    /// this worker is counted as a searcher.
    fn next_job(&self, searching: &mut bool) -> Option<JobRef> {
        let sleep = &self.registry.sleep;
        loop {
            let job = self.find_work().or_else(|| self.spin_for_work(|| false));
            if job.is_none() && !*searching {
                sleep.start_searching();
                *searching = true;
                if let Some(job) = self.find_work() {
                    *searching = false;
                    sleep.stop_searching(|| self.registry.has_queued_work());
                    return Some(job);
                }
            }
            if let Some(job) = job {
                if *searching {
                    *searching = false;
                    sleep.stop_searching(|| self.registry.has_queued_work());
                }
                return Some(job);
            }
            let wake = sleep.sleep(
                self.index,
                SleepKind::Idle,
                || self.registry.has_queued_work(),
                || self.quiescence_hook(),
            );
            match wake {
                Wakeup::Searching => {}
                Wakeup::Terminated { sweep } => {
                    if sweep {
                        self.sweep();
                    }
                    return None;
                }
            }
        }
    }

    fn main_loop(&self) {
        // Workers start counted as searchers (see `SleepState::new`).
        let mut searching = true;
        while let Some(job) = self.next_job(&mut searching) {
            self.execute(job);
        }
    }

    /// Runs everything still queued anywhere; only the worker that
    /// terminated the pool does this (see the shutdown part of the note).
    fn sweep(&self) {
        while let Some(job) = self.find_work() {
            self.execute(job);
        }
    }
}

/// The handshake between `build` and the threads it starts: each thread
/// reports whether its start hook succeeded, then waits for `build` to say
/// whether the pool goes ahead.
#[derive(Debug, Default)]
pub(super) struct Startup {
    state: Mutex<StartupState>,
    changed: Condvar,
}

#[derive(Debug, Default)]
struct StartupState {
    reported: usize,
    failure: Option<(usize, Payload)>,
    go: Option<bool>,
}

impl Startup {
    /// A thread reports its start; returns whether to run the pool.
    fn report(&self, index: usize, started: Result<(), Payload>) -> bool {
        let mut state = self.state.lock();
        state.reported += 1;
        if let Err(payload) = started {
            if state.failure.is_none() {
                state.failure = Some((index, payload));
            } else {
                unwind::drop_payload(payload);
            }
        }
        self.changed.notify_all();
        loop {
            if let Some(go) = state.go {
                return go;
            }
            self.changed.wait(&mut state);
        }
    }

    /// Waits for `threads` reports; returns the first failure, if any.
    pub(super) fn wait_for_reports(&self, threads: usize) -> Option<(usize, Payload)> {
        let mut state = self.state.lock();
        while state.reported < threads {
            self.changed.wait(&mut state);
        }
        state.failure.take()
    }

    /// Tells every started thread whether the pool goes ahead.
    pub(super) fn decide(&self, go: bool) {
        self.state.lock().go = Some(go);
        self.changed.notify_all();
    }
}

/// The owner's ends of one worker's three queues (see the module doc); the
/// thieves' ends are its [`WorkerQueues`] in the registry.
pub(super) struct OwnQueues {
    deque: Worker<JobRef>,
    inbox: Worker<JobRef>,
    later: Worker<JobRef>,
}

impl OwnQueues {
    pub(super) fn new() -> Self {
        Self {
            deque: Worker::new_lifo(),
            inbox: Worker::new_fifo(),
            later: Worker::new_fifo(),
        }
    }

    /// The thieves' ends, for the registry.
    pub(super) fn stealers(&self) -> WorkerQueues {
        WorkerQueues {
            now: self.deque.stealer(),
            inbox: self.inbox.stealer(),
            later: self.later.stealer(),
        }
    }
}

/// What a worker thread needs besides its registry.
pub(super) struct WorkerStart {
    pub(super) index: usize,
    pub(super) queues: OwnQueues,
    pub(super) startup: Arc<Startup>,
    pub(super) on_start: Option<std::sync::Arc<ThreadHook>>,
}

/// The body of every worker thread.
///
/// Every step of it but the user's hooks (and jobs, in the main loop) is the
/// pool's own code, and ends in `worker_exited`, which `shutdown` waits for:
/// a panic anywhere outside the user's code aborts the process with a
/// message rather than leave `shutdown` waiting forever.
pub(super) fn run_worker(registry: Arc<Registry>, start: WorkerStart) {
    let guard = AbortIfPanic(
        "a worker thread panicked in its main loop or exit bookkeeping; \
         shutdown would wait for it forever",
    );
    let WorkerStart {
        index,
        queues: OwnQueues {
            deque,
            inbox,
            later,
        },
        startup,
        on_start,
    } = start;
    let started = match &on_start {
        Some(hook) => unwind::catch(|| hook(index)),
        None => Ok(()),
    };
    let start_hook_ran = started.is_ok();
    if startup.report(index, started) {
        let worker = WorkerThread {
            index,
            registry: registry.clone(),
            deque,
            inbox,
            later,
            rng: Cell::new(0x9E37_79B9_7F4A_7C15 ^ (index as u64 + 1)),
            tick: Cell::new(0),
            woken_streak: Cell::new(0),
            outside_turn: Cell::new(0),
            turn_floor: Cell::new(0),
            later_waited: Cell::new(0),
            in_quiescence_hook: Cell::new(false),
            waker: Waker::from(std::sync::Arc::new(WorkerWaker {
                registry: registry.clone(),
                index,
            })),
            spare_refs: Cell::new(0),
        };
        CURRENT.with(|current| current.set(&worker));
        worker.main_loop();
        CURRENT.with(|current| current.set(ptr::null()));
    }
    crate::unwind::test_trip("worker_exit");
    if start_hook_ran {
        if let Some(hook) = &registry.on_thread_stop {
            // The hook runs on this pool's worker: a `shutdown` (or the drop
            // of the last handle) in it must begin the shutdown and return,
            // not wait for this thread to exit.
            STOPPING.with(|stopping| stopping.set(&*registry));
            if let Err(payload) = unwind::catch(|| hook(index)) {
                registry.report_panic(payload);
            }
            STOPPING.with(|stopping| stopping.set(ptr::null()));
        }
    }
    registry.worker_exited();
    guard.disarm();
}
