//! What the workers of one pool share: the queues, the sleep state, the
//! hooks and the counters.
//!
//! A [`Registry`] outlives its [`ThreadPool`](crate::ThreadPool) for as long
//! as a worker thread or a level-2 task still refers to it.

use super::Submit;
use super::blocking::BlockingSet;
use super::bound::Bound;
use super::job::JobRef;
use super::queue::{Injector, Steal, Stealer};
use super::sleep::{Refused, SleepState};
use crate::sync::{AtomicU64, Condvar, Mutex, OnceLock, Ordering};
use crate::unwind::{self, Payload};
use crossbeam_utils::CachePadded;

/// Receives the payload of every panic nobody else observes.
pub(super) type PanicHandler = dyn Fn(Payload) + Send + Sync;
/// `on_thread_start` / `on_thread_stop`, given the worker's index.
pub(super) type ThreadHook = dyn Fn(usize) + Send + Sync;

/// State a higher level keeps per pool, without the pool knowing its type.
pub(crate) trait Extension: Send + Sync + 'static {
    /// Runs when a closed pool has run dry and every worker sleeps (see the
    /// shutdown part of `sleep.md`); returns `true` if it made work.
    fn on_quiescent(&self) -> bool;
    /// For the owner to get its own type back.
    fn as_any(&self) -> &dyn std::any::Any;
}

/// The thieves' ends of one worker's three queues (see `worker.rs`).
pub(super) struct WorkerQueues {
    /// Its deque: the work it submitted itself, newest first.
    pub(super) now: Stealer<JobRef>,
    /// Its inbox: outside work it took from the injector, oldest first.
    pub(super) inbox: Stealer<JobRef>,
    /// Its FIFO of yielded work, which waits behind the rest.
    pub(super) later: Stealer<JobRef>,
}

impl WorkerQueues {
    fn is_empty(&self) -> bool {
        self.now.is_empty() && self.inbox.is_empty() && self.later.is_empty()
    }

    fn len(&self) -> usize {
        self.now.len() + self.inbox.len() + self.later.len()
    }
}

/// Counters one worker writes and everyone may read. Only the owner writes,
/// with a plain load and store, so counting costs no read-modify-write.
#[derive(Debug, Default)]
pub(super) struct WorkerCounters {
    pub(super) executed: AtomicU64,
    pub(super) stolen: AtomicU64,
}

impl WorkerCounters {
    /// Adds `n` to a counter only this worker writes.
    #[inline]
    pub(super) fn add(counter: &AtomicU64, n: u64) {
        // ORDERING: Relaxed: the owner is the only writer, readers only want
        // a recent value.
        counter.store(counter.load(Ordering::Relaxed) + n, Ordering::Relaxed);
    }
}

/// The state shared by the workers and handles of one pool.
pub(crate) struct Registry {
    /// New work from outside the pool, oldest first.
    pub(super) injector: Injector<JobRef>,
    /// Tasks woken from outside the pool (a timer, another thread), which
    /// run before new work (see `worker.rs`), oldest first.
    pub(super) woken: Injector<JobRef>,
    pub(super) stealers: Box<[WorkerQueues]>,
    /// The bound on queued work, if `max_queued` was set (`bound.rs`).
    pub(super) bound: Option<Box<Bound>>,
    pub(super) counters: Box<[CachePadded<WorkerCounters>]>,
    pub(super) sleep: SleepState,
    /// The elastic set of blocking threads beside the workers.
    pub(super) blocking: BlockingSet,
    panicked: AtomicU64,
    panic_handler: Option<Box<PanicHandler>>,
    pub(super) on_thread_stop: Option<Box<ThreadHook>>,
    extension: OnceLock<Box<dyn Extension>>,
    exited: Mutex<usize>,
    all_exited: Condvar,
    /// Debug builds: objects a higher level allocated for this pool and has
    /// not freed yet (level 2 counts its tasks here), to catch leaks.
    #[cfg(debug_assertions)]
    pub(crate) debug_allocations: crate::sync::AtomicUsize,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registry")
            .field("threads", &self.stealers.len())
            .field("sleep", &self.sleep.snapshot())
            .field("gate", &self.sleep.gate())
            .finish_non_exhaustive()
    }
}

impl Registry {
    pub(super) fn new(
        stealers: Box<[WorkerQueues]>,
        panic_handler: Option<Box<PanicHandler>>,
        on_thread_stop: Option<Box<ThreadHook>>,
        blocking: BlockingSet,
        bound: Option<Box<Bound>>,
    ) -> Self {
        let threads = stealers.len();
        Self {
            injector: Injector::new(),
            woken: Injector::new(),
            counters: (0..threads).map(|_| CachePadded::default()).collect(),
            stealers,
            bound,
            sleep: SleepState::new(threads),
            blocking,
            panicked: AtomicU64::new(0),
            panic_handler,
            on_thread_stop,
            extension: OnceLock::new(),
            exited: Mutex::new(0),
            all_exited: Condvar::new(),
            #[cfg(debug_assertions)]
            debug_allocations: crate::sync::AtomicUsize::new(0),
        }
    }

    pub(crate) fn threads(&self) -> usize {
        self.stealers.len()
    }

    /// Pushes a job submitted from outside the pool: a woken task on the
    /// woken queue, anything else on the injector. [`Submit::New`]
    /// submissions are refused once shutdown began; the others (work the
    /// pool already accepted, like a woken task) only once the pool
    /// terminated. Both queues wake a sleeper the same way (`sleep.md`).
    ///
    /// A blocking thread of this pool runs work the pool accepted, and the
    /// pool does not terminate while it does (see `blocking.rs`): what it
    /// submits is accepted while the pool drains, like a worker's.
    #[inline]
    pub(super) fn inject(&self, job: JobRef, how: Submit) -> Result<(), JobRef> {
        if let Err(Refused) = self.enter_submit(how) {
            return Err(job);
        }
        let queue = match how {
            Submit::Wake => &self.woken,
            Submit::New | Submit::Yield => &self.injector,
        };
        queue.push(job);
        self.sleep.leave_submit_behind(true, || queue.len());
        Ok(())
    }

    /// The gate's `enter_submit`, with the rule above for blocking threads.
    /// A success must be followed by `sleep.leave_submit`.
    #[inline]
    pub(super) fn enter_submit(&self, how: Submit) -> Result<(), Refused> {
        self.sleep.enter_submit(how).or_else(|Refused| {
            if how == Submit::New && self.drain_accepts_from_here() {
                self.sleep.enter_submit(Submit::Wake)
            } else {
                Err(Refused)
            }
        })
    }

    /// Does this pool refuse new work from this thread now (shut down, and
    /// not one of its blocking threads)? Asked by submitters waiting for
    /// room, which are never the pool's workers.
    pub(super) fn refuses_new_work(&self) -> bool {
        self.sleep.gate().is_closed() && !self.drain_accepts_from_here()
    }

    /// [`queued`](Self::queued), for metrics: with a bound, no more than
    /// the bound's count, which is never below the true number.
    pub(super) fn queued_bounded(&self) -> usize {
        let queued = self.queued();
        match &self.bound {
            Some(bound) => queued.min(bound.pending()),
            None => queued,
        }
    }

    /// A queue entry is about to be pushed that the pool accepts whatever
    /// the bound (`bound.rs`): count it.
    #[inline]
    pub(super) fn job_queued(&self) {
        if let Some(bound) = &self.bound {
            bound.add();
        }
    }

    /// A queue entry was taken off a queue to run: uncount it.
    #[inline]
    pub(super) fn job_taken(&self) {
        if let Some(bound) = &self.bound {
            bound.release();
        }
    }

    /// Is this thread one of this pool's blocking threads, whose
    /// submissions a draining pool accepts? (Off the fast path: asked only
    /// after a refusal.)
    #[cold]
    fn drain_accepts_from_here(&self) -> bool {
        super::blocking::is_thread_of(self)
    }

    /// Takes one job from the injector, moving a batch more to `dest` (a
    /// worker's inbox, which keeps their order).
    pub(super) fn steal_from_injector(
        &self,
        dest: &super::queue::Worker<JobRef>,
    ) -> Option<JobRef> {
        loop {
            match self.injector.steal_batch_and_pop(dest) {
                Steal::Success(job) => return Some(job),
                Steal::Empty => return None,
                Steal::Retry => crate::sync::thread::yield_now(),
            }
        }
    }

    /// Takes the oldest woken task, if any. A look at the queue's two
    /// indices first spares the fence of a steal when it is empty, which
    /// is almost always (a stale look only delays the task to the next
    /// look, and a sleeper's recheck looks after its fence).
    #[inline]
    pub(super) fn steal_woken(&self) -> Option<JobRef> {
        if self.woken.is_empty() {
            return None;
        }
        loop {
            match self.woken.steal() {
                Steal::Success(job) => return Some(job),
                Steal::Empty => return None,
                Steal::Retry => crate::sync::thread::yield_now(),
            }
        }
    }

    /// Is any queue of the pool non-empty?
    pub(super) fn has_queued_work(&self) -> bool {
        !self.injector.is_empty()
            || !self.woken.is_empty()
            || self.stealers.iter().any(|s| !s.is_empty())
    }

    /// Jobs waiting in all queues (a snapshot; it may be stale at once).
    pub(super) fn queued(&self) -> usize {
        self.injector.len()
            + self.woken.len()
            + self.stealers.iter().map(|s| s.len()).sum::<usize>()
    }

    /// Hands a panic nobody observed to the pool's panic handler, counting
    /// it. A panicking handler is contained: its panic is dropped (the panic
    /// hook has printed it already).
    pub(crate) fn report_panic(&self, payload: Payload) {
        // ORDERING: Relaxed: a statistic, read only by `metrics`.
        self.panicked.fetch_add(1, Ordering::Relaxed);
        match &self.panic_handler {
            Some(handler) => {
                if let Err(second) = unwind::catch(|| handler(payload)) {
                    unwind::drop_payload(second);
                }
            }
            None => unwind::drop_payload(payload),
        }
    }

    pub(super) fn panicked(&self) -> u64 {
        // ORDERING: Relaxed: as in `report_panic`.
        self.panicked.load(Ordering::Relaxed)
    }

    /// The pool's extension, made by `make` on first use. Level 2 keeps its
    /// per-pool state here.
    pub(crate) fn extension(&self, make: impl FnOnce() -> Box<dyn Extension>) -> &dyn Extension {
        &**self.extension.get_or_init(make)
    }

    pub(super) fn run_quiescence_hook(&self) -> bool {
        match self.extension.get() {
            Some(extension) => match unwind::catch(|| extension.on_quiescent()) {
                Ok(made_work) => made_work,
                Err(payload) => {
                    // Report it, and do not claim work: a hook that panics
                    // every time must not keep the pool from stopping.
                    self.report_panic(payload);
                    false
                }
            },
            None => false,
        }
    }

    /// Called by each worker thread as its very last step.
    pub(super) fn worker_exited(&self) {
        let mut exited = self.exited.lock();
        *exited += 1;
        if *exited == self.threads() {
            self.all_exited.notify_all();
        }
    }

    /// Blocks until every worker thread has exited, or `deadline` passes.
    /// Returns `true` if they all exited.
    pub(super) fn wait_for_exit(&self, deadline: Option<std::time::Instant>) -> bool {
        let mut exited = self.exited.lock();
        while *exited < self.threads() {
            match deadline {
                None => self.all_exited.wait(&mut exited),
                Some(deadline) => {
                    let now = std::time::Instant::now();
                    if now >= deadline {
                        return false;
                    }
                    self.all_exited.wait_for(&mut exited, deadline - now);
                }
            }
        }
        true
    }
}
