//! Level 1: a fixed pool of worker threads with work-stealing deques that
//! runs fire-and-forget jobs.
//!
//! This module knows nothing of results, cancellation or futures, and never
//! names level 2 (`src/task/`). Beyond the public API and the seam below,
//! everything in this directory is private to it.
//!
//! # The seam
//!
//! This is all that level 2 (`src/task/`), scopes (`src/scope/`), and
//! `unwind.rs` (which reports a panic to the current worker's pool), use of
//! level 1; the `pub(crate)` items of this directory are exactly these.
//!
//! | item | what level 2 uses it for |
//! |---|---|
//! | [`JobRef::from_pointer`], [`JobRef::into_parts`], [`JobData`], [`Ran`] | queueing a task as a type-erased job, and getting it back from the job's word |
//! | [`submit`], [`Submit`] | queueing a new, woken or yielding task |
//! | [`try_submit_with`], [`Rejected`], `ExecuteError::new` | `try_spawn`: queueing a new task only if the pool takes it now (building it only then), and handing the closure back otherwise |
//! | [`submit_blocking`], [`BlockingRefused`] | queueing a task on the pool's blocking threads (`spawn_blocking`) |
//! | [`current_or_global`], `ThreadPool::registry` | the pool a free function or a pool's method spawns on |
//! | [`Registry`]: `threads`, `report_panic`, `extension`, `debug_allocations` | sizing the live list, reporting unobserved panics, the per-pool live list ([`Extension`]), counting tasks in debug builds |
//! | [`WorkerThread`]: `with_current`, `index`, `registry`, `belongs_to` | which worker, of which pool, this thread is |
//! | [`registry_ref`], [`drop_registry_ref`], `WorkerThread::take_back_newest`, `run_taken_back` | a task's reference to its pool, from a worker's spares; a joiner taking back the task it queued last |
//! | [`WorkerThread`]: `waker`, `wait_until` | a waiting worker serving its pool until a task completes |
//! | [`with_thread_waker`], [`with_own_parker`] (`park.rs`) | blocking until a waker fires, with a token of the wait's own |
//! | scopes (`src/scope/`): `JobRef::from_pointer`, `submit`, `current_or_global`, `report_panic`, `WorkerThread::wait_until`, `with_thread_waker` | queueing a borrowed scoped task, and the scope owner's and joiners' waits |
//! | [`Registry`]: `has_idle_workers` (`join.rs`) | the parallel loops (`src/parallel/`): split a range only while another worker could take the half |
//!
//! | file | what lives there |
//! |---|---|
//! | `builder.rs` | [`Builder`], starting the threads |
//! | `job.rs` | [`JobRef`], the one type-erased job |
//! | `queue.rs` | the shared and per-worker queues (crossbeam's, or a loom stand-in) |
//! | `registry.rs` | what the workers share: queues, sleep state, hooks, counters |
//! | `worker.rs` | a worker's find-work loop and its thread-local |
//! | `blocking.rs` | the elastic set of blocking threads beside the workers |
//! | `bound.rs` | the opt-in bound on queued work (`max_queued`) |
//! | `sleep.rs`, `sleep.md` | sleep and wake-up, and the shutdown protocol |
//! | `park.rs` | how a thread blocks until a waker fires: each wait's own parker |
//! | `join.rs` | [`join()`], fork-join with jobs on the caller's stack |
//! | `install.rs` | `ThreadPool::install`: a closure run on one of the pool's workers |
//! | `global.rs` | the global pool |

mod blocking;
mod bound;
mod builder;
mod global;
mod install;
mod job;
mod join;
mod metrics;
mod park;
mod queue;
mod registry;
mod sleep;
mod worker;

pub use blocking::{DEFAULT_BLOCKING_KEEP_ALIVE, DEFAULT_MAX_BLOCKING_THREADS};
pub use builder::{Builder, MAX_THREADS};
pub use join::join;
pub use metrics::Metrics;

// The seam (see the module doc); `Submit`, `submit` and `current_or_global`
// are at the bottom of this file.
pub(crate) use blocking::{BlockingRefused, submit as submit_blocking};
pub(crate) use job::{JobData, JobRef, Ran};
pub(crate) use park::{with_own_parker, with_thread_waker};
pub(crate) use registry::{Extension, Registry};
pub(crate) use worker::WorkerThread;

use crate::sync::{Arc, Mutex, thread};
use job::ClosureJob;
use std::fmt;
use std::time::{Duration, Instant};

/// A fixed pool of worker threads with work-stealing deques.
///
/// Level 1 of the crate: [`execute`](Self::execute) queues a closure and
/// returns at once, with no handle, like .NET's
/// `ThreadPool.QueueUserWorkItem`. Level 2 ([`spawn`](Self::spawn) and
/// friends, returning a [`Task`](crate::Task)) runs on the same queues and
/// threads.
///
/// Dropping the pool shuts it down gracefully: it stops taking work from
/// outside, runs everything already queued (and whatever that spawns), joins
/// its threads and returns (see [`shutdown`](Self::shutdown)). The pool is
/// `Send + Sync`; share it by reference or in an `Arc`.
///
/// # Its methods, and where they live
///
/// `impl ThreadPool` is spread over the files of the level each method
/// belongs to, so that the pool's own files never name level 2:
///
/// | group | methods | source |
/// |---|---|---|
/// | construction | [`new`](Self::new), [`builder`](Self::builder) | `src/pool/mod.rs` (the [`Builder`] in `src/pool/builder.rs`) |
/// | level 1 | [`execute`](Self::execute), [`try_execute`](Self::try_execute), [`metrics`](Self::metrics) | `src/pool/mod.rs` |
/// | structured | [`join`](Self::join) | `src/pool/mod.rs` (its stack jobs in `src/pool/join.rs`) |
/// | structured | [`install`](Self::install) | `src/pool/install.rs` |
/// | structured | [`scope`](Self::scope) | `src/scope/mod.rs` |
/// | parallel loops | [`parallel`](Self::parallel) | `src/parallel/mod.rs` |
/// | shutdown | [`shutdown`](Self::shutdown), [`shutdown_timeout`](Self::shutdown_timeout), the drop | `src/pool/mod.rs` |
/// | level 2 | [`spawn`](Self::spawn), [`spawn_with_token`](Self::spawn_with_token), [`spawn_async`](Self::spawn_async) | `src/task/mod.rs` |
/// | level 2, blocking calls | [`spawn_blocking`](Self::spawn_blocking) | `src/task/blocking.rs` (its threads in `src/pool/blocking.rs`) |
///
/// This page lists a module's submodules before its own impl blocks, and
/// `src/task/` and `src/scope/` after `src/pool/`: `install` therefore
/// comes first here, `scope` and level 2's methods last, and the rest of
/// the pool's own are in `src/pool/mod.rs`, in this order.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use std::sync::atomic::{AtomicUsize, Ordering};
/// use taskpool::ThreadPool;
///
/// let pool = ThreadPool::new(4);
/// let done = Arc::new(AtomicUsize::new(0));
/// for _ in 0..100 {
///     let done = done.clone();
///     pool.execute(move || {
///         done.fetch_add(1, Ordering::Relaxed);
///     });
/// }
/// drop(pool); // runs everything queued, then joins the workers
/// assert_eq!(done.load(Ordering::Relaxed), 100);
/// ```
pub struct ThreadPool {
    registry: Arc<Registry>,
    handles: Mutex<Vec<thread::JoinHandle<()>>>,
}

/// [`ThreadPool::try_execute`] (or [`ThreadPool::try_spawn`]) refused a
/// job because the pool is shutting down, or because its queue is full (see
/// [`Builder::max_queued`]); the job is handed back, unrun.
/// [`is_full`](Self::is_full) and [`is_shutdown`](Self::is_shutdown) tell
/// which.
///
/// # Examples
///
/// ```
/// use std::sync::mpsc;
///
/// let pool = taskpool::ThreadPool::new(1);
/// pool.shutdown();
/// let (sender, receiver) = mpsc::channel();
/// let error = pool.try_execute(move || sender.send(42).unwrap()).unwrap_err();
/// assert_eq!(error.to_string(), "the thread pool is shutting down and takes no new work");
/// let job = error.into_inner();
/// job(); // run it here instead
/// assert_eq!(receiver.recv().unwrap(), 42);
/// ```
pub struct ExecuteError<F> {
    job: F,
    why: Rejected,
}

/// Why a `try_` submission was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Rejected {
    /// The pool is shutting down.
    ShutDown,
    /// `max_queued` entries are queued already.
    Full,
}

impl<F> ExecuteError<F> {
    pub(crate) fn new(job: F, why: Rejected) -> Self {
        Self { job, why }
    }

    /// `true` when the pool refused the job because
    /// [`max_queued`](Builder::max_queued) pieces of work were queued and
    /// not started yet: try again later, or run it elsewhere.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::mpsc;
    ///
    /// let pool = taskpool::ThreadPool::builder().num_threads(1).max_queued(1).build().unwrap();
    /// let (started, wait) = mpsc::channel();
    /// let (release, held) = mpsc::channel::<()>();
    /// pool.execute(move || {
    ///     started.send(()).unwrap();
    ///     held.recv().unwrap();
    /// });
    /// wait.recv().unwrap(); // the worker is busy: the next job stays queued
    /// pool.execute(|| {});
    /// let error = pool.try_execute(|| {}).unwrap_err();
    /// assert!(error.is_full() && !error.is_shutdown());
    /// assert_eq!(error.to_string(), "the thread pool's queue is full (max_queued) and takes no more work now");
    /// release.send(()).unwrap();
    /// ```
    pub fn is_full(&self) -> bool {
        self.why == Rejected::Full
    }

    /// `true` when the pool refused the job because it is shutting down.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = taskpool::ThreadPool::new(1);
    /// pool.shutdown();
    /// let error = pool.try_execute(|| {}).unwrap_err();
    /// assert!(error.is_shutdown() && !error.is_full());
    /// ```
    pub fn is_shutdown(&self) -> bool {
        self.why == Rejected::ShutDown
    }

    /// The refused job, to run elsewhere or drop.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = taskpool::ThreadPool::new(1);
    /// pool.shutdown();
    /// let mut log = Vec::new();
    /// let job = pool.try_execute(|| println!("refused")).unwrap_err().into_inner();
    /// log.push("handed back");
    /// job();
    /// assert_eq!(log, ["handed back"]);
    /// ```
    pub fn into_inner(self) -> F {
        self.job
    }
}

impl<F> fmt::Debug for ExecuteError<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ExecuteError")
            .field("why", &self.why)
            .finish_non_exhaustive()
    }
}

impl<F> fmt::Display for ExecuteError<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self.why {
            Rejected::ShutDown => "the thread pool is shutting down and takes no new work",
            Rejected::Full => {
                "the thread pool's queue is full (max_queued) and takes no more work now"
            }
        })
    }
}

impl<F> std::error::Error for ExecuteError<F> {}

/// Construction.
impl ThreadPool {
    /// A pool of `threads` workers; `0` means one per CPU.
    ///
    /// # Panics
    ///
    /// If the pool cannot be built, with the [`BuildError`](crate::BuildError)'s
    /// message (like `std::thread::spawn`). Use [`ThreadPool::builder`] to get
    /// the error instead.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = taskpool::ThreadPool::new(2);
    /// assert_eq!(pool.metrics().threads, 2);
    /// let all_cpus = taskpool::ThreadPool::new(0);
    /// assert!(all_cpus.metrics().threads >= 1);
    /// ```
    pub fn new(threads: usize) -> ThreadPool {
        match Builder::new().num_threads(threads).build() {
            Ok(pool) => pool,
            Err(error) => panic!("{error}"),
        }
    }

    /// A [`Builder`] to configure a pool before it starts.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = taskpool::ThreadPool::builder().num_threads(2).build().unwrap();
    /// assert_eq!(pool.metrics().threads, 2);
    /// ```
    pub fn builder() -> Builder {
        Builder::new()
    }

    fn from_parts(registry: Arc<Registry>, handles: Vec<thread::JoinHandle<()>>) -> ThreadPool {
        ThreadPool {
            registry,
            handles: Mutex::new(handles),
        }
    }

    pub(crate) fn registry(&self) -> &Arc<Registry> {
        &self.registry
    }
}

/// Level 1: fire and forget.
impl ThreadPool {
    /// Queues `job` to run on the pool, and returns at once.
    ///
    /// Called on one of this pool's own workers, it pushes on that worker's
    /// deque (and is accepted even while the pool shuts down, so that
    /// draining work can finish recursive work); from any other thread it
    /// pushes on the shared injector. It never blocks, unless the pool has a
    /// [`max_queued`](Builder::max_queued) bound: then, when the queue is
    /// full, a call from outside the pool waits for room, and a call from one
    /// of its own workers runs `job` right there instead (a worker never
    /// waits for its own pool). A panic in `job` goes to the panic handler;
    /// the worker lives on.
    ///
    /// # Panics
    ///
    /// If the pool was shut down (a programming error, like sending on a
    /// closed channel). Use [`try_execute`](Self::try_execute) to get the job
    /// back instead.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::mpsc;
    ///
    /// let pool = taskpool::ThreadPool::new(2);
    /// let (sender, receiver) = mpsc::channel();
    /// pool.execute(move || sender.send(6 * 7).unwrap());
    /// assert_eq!(receiver.recv().unwrap(), 42);
    /// ```
    #[inline]
    pub fn execute<F>(&self, job: F)
    where
        F: FnOnce() + Send + 'static,
    {
        let job = ClosureJob::into_job_ref(job);
        if let Err(job) = submit(&self.registry, job, Submit::New) {
            // SAFETY: `job` is the `ClosureJob<F>` made just above, refused.
            drop(unsafe { ClosureJob::<F>::into_closure(job) });
            panic!("ThreadPool::execute called on a pool that was shut down");
        }
    }

    /// Like [`execute`](Self::execute), but hands `job` back instead of
    /// panicking when the pool is shutting down, and instead of waiting (or
    /// running it in place) when its [`max_queued`](Builder::max_queued)
    /// bound is reached.
    ///
    /// # Errors
    ///
    /// [`ExecuteError`] holding `job`, unrun: once [`shutdown`](Self::shutdown)
    /// began (or the pool was dropped), unless called from one of this pool's
    /// own workers while it still drains ([`ExecuteError::is_shutdown`]); or,
    /// from any thread, while `max_queued` pieces of work are queued and not
    /// started ([`ExecuteError::is_full`]).
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = taskpool::ThreadPool::new(1);
    /// assert!(pool.try_execute(|| {}).is_ok());
    /// pool.shutdown();
    /// assert!(pool.try_execute(|| {}).is_err());
    /// ```
    #[inline]
    pub fn try_execute<F>(&self, job: F) -> Result<(), ExecuteError<F>>
    where
        F: FnOnce() + Send + 'static,
    {
        if self.registry.bound.is_some() {
            let mut job = Some(job);
            return try_submit_with(&self.registry, || {
                ClosureJob::into_job_ref(job.take().expect("made once"))
            })
            .map_err(|why| ExecuteError::new(job.take().expect("refused unmade"), why));
        }
        let job = ClosureJob::into_job_ref(job);
        submit(&self.registry, job, Submit::New).map_err(|job| {
            // SAFETY: `job` is the `ClosureJob<F>` made just above, refused.
            ExecuteError::new(
                unsafe { ClosureJob::<F>::into_closure(job) },
                Rejected::ShutDown,
            )
        })
    }

    /// A snapshot of the pool's counters.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = taskpool::ThreadPool::new(2);
    /// pool.execute(|| panic!("counted"));
    /// pool.shutdown();
    /// let metrics = pool.metrics();
    /// assert_eq!(metrics.threads, 2);
    /// assert_eq!(metrics.executed, 1);
    /// assert_eq!(metrics.panicked, 1);
    /// assert_eq!(metrics.queued, 0);
    /// ```
    pub fn metrics(&self) -> Metrics {
        Metrics::read(&self.registry)
    }
}

/// Structured: fork-join (the machinery is in `join.rs`).
impl ThreadPool {
    /// Runs `a` and `b`, in parallel when a worker is free, and returns both
    /// results: fork-join, like `rayon::join`.
    ///
    /// Both closures may borrow from the caller. Called on one of this pool's
    /// workers, `b` is offered to the other workers while this one runs `a`,
    /// and runs here afterwards if nobody took it; nothing is allocated.
    /// From any other thread, the whole join runs on one of the pool's
    /// workers and this thread waits until it is done: a thread outside any
    /// pool blocks, a worker of another pool keeps serving its own pool
    /// meanwhile. If the pool is shut down, both run on the calling thread.
    ///
    /// # Panics
    ///
    /// If `a` or `b` panics, after both have finished, with the panic of `a`
    /// if both did.
    ///
    /// # Examples
    ///
    /// ```
    /// fn sum(pool: &taskpool::ThreadPool, values: &[u64]) -> u64 {
    ///     if values.len() <= 1024 {
    ///         return values.iter().sum();
    ///     }
    ///     let (left, right) = values.split_at(values.len() / 2);
    ///     let (a, b) = pool.join(|| sum(pool, left), || sum(pool, right));
    ///     a + b
    /// }
    ///
    /// let pool = taskpool::ThreadPool::new(2);
    /// let values: Vec<u64> = (1..=100_000).collect();
    /// assert_eq!(sum(&pool, &values), 5_000_050_000);
    /// ```
    pub fn join<A, B, RA, RB>(&self, a: A, b: B) -> (RA, RB)
    where
        A: FnOnce() -> RA + Send,
        B: FnOnce() -> RB + Send,
        RA: Send,
        RB: Send,
    {
        join::join_on(self.registry(), a, b)
    }
}

/// Shutdown.
impl ThreadPool {
    /// Shuts the pool down and waits for it, keeping the `ThreadPool` value.
    ///
    /// From then on outside submissions are refused ([`try_execute`] hands the
    /// job back, [`execute`] panics, `spawn` returns a task that reports
    /// cancelled). Everything already queued runs, and so does whatever it
    /// submits from the pool's own workers, until the queues are empty; async
    /// tasks still waiting for a wake-up at that point are cancelled. Then
    /// every worker runs its `on_thread_stop` hook and exits, and this call
    /// joins them. Calling it again waits again, and returns at once.
    ///
    /// Called from one of the pool's own workers (in a job, or in its
    /// `on_thread_stop` hook), it cannot wait for itself: it begins the
    /// shutdown and returns; the workers stop on their own once the queues
    /// are empty.
    ///
    /// [`try_execute`]: Self::try_execute
    /// [`execute`]: Self::execute
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use std::sync::atomic::{AtomicUsize, Ordering};
    ///
    /// let pool = taskpool::ThreadPool::new(2);
    /// let ran = Arc::new(AtomicUsize::new(0));
    /// for _ in 0..1000 {
    ///     let ran = ran.clone();
    ///     pool.execute(move || {
    ///         ran.fetch_add(1, Ordering::Relaxed);
    ///     });
    /// }
    /// pool.shutdown();
    /// assert_eq!(ran.load(Ordering::Relaxed), 1000);
    /// assert!(pool.try_execute(|| {}).is_err());
    /// ```
    pub fn shutdown(&self) {
        self.shutdown_until(None);
    }

    /// Like [`shutdown`](Self::shutdown), but waits at most `timeout` for the
    /// work still queued or running. Returns `true` if the pool stopped in
    /// time; otherwise the workers finish in the background (they are not
    /// killed: a thread cannot be stopped safely from outside) and a later
    /// `shutdown` or the drop waits for them.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let pool = taskpool::ThreadPool::new(1);
    /// pool.execute(|| std::thread::sleep(Duration::from_millis(300)));
    /// assert!(!pool.shutdown_timeout(Duration::from_millis(10)));
    /// assert!(pool.shutdown_timeout(Duration::from_secs(60)));
    /// ```
    pub fn shutdown_timeout(&self, timeout: Duration) -> bool {
        // A timeout too large to add to now simply means "no deadline".
        self.shutdown_until(Instant::now().checked_add(timeout))
    }

    fn shutdown_until(&self, deadline: Option<Instant>) -> bool {
        self.registry.sleep.close();
        self.registry.blocking.close();
        if let Some(bound) = &self.registry.bound {
            bound.wake_all();
        }
        // On one of the pool's workers (in a job, or in its stop hook), or
        // its blocking threads (which the pool waits for), do not wait for
        // the workers to exit: that thread would wait for itself.
        if WorkerThread::is_worker_of(&self.registry) || blocking::is_thread_of(&self.registry) {
            return false;
        }
        if !self.registry.wait_for_exit(deadline) {
            return false;
        }
        // The pool terminated only after its blocking work ran; its blocking
        // threads are on their way out.
        if !self.registry.blocking.wait_for_exit(deadline) {
            return false;
        }
        let handles = std::mem::take(&mut *self.handles.lock());
        for handle in handles {
            // Worker threads contain every user panic; joining cannot fail.
            let _ = handle.join();
        }
        true
    }
}

impl Drop for ThreadPool {
    /// Shuts the pool down and waits for it; see [`ThreadPool::shutdown`].
    /// Dropped on one of its own workers, it begins the shutdown and returns
    /// without waiting (the threads are then detached).
    fn drop(&mut self) {
        self.shutdown();
    }
}

impl fmt::Debug for ThreadPool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.registry.sleep.gate();
        f.debug_struct("ThreadPool")
            .field("threads", &self.registry.threads())
            .field("queued", &self.registry.queued())
            .field("shutting_down", &state.is_closed())
            .field("terminated", &state.is_terminated())
            .finish()
    }
}

/// Queues `job` on the global pool, or, on a worker thread of any pool, on
/// that worker's own pool; on a blocking thread (see
/// [`spawn_blocking`](crate::spawn_blocking)), on the pool it belongs to.
///
/// The global pool is built with the default settings on first use, unless
/// [`Builder::build_global`] built it before. To use a pool of your own
/// instead, call this inside [`ThreadPool::install`] (or use
/// [`ThreadPool::execute`]).
///
/// # Examples
///
/// ```
/// use std::sync::mpsc;
///
/// let (sender, receiver) = mpsc::channel();
/// taskpool::execute(move || sender.send("hello from the global pool").unwrap());
/// assert_eq!(receiver.recv().unwrap(), "hello from the global pool");
/// ```
pub fn execute<F>(job: F)
where
    F: FnOnce() + Send + 'static,
{
    let job = ClosureJob::into_job_ref(job);
    let pushed = WorkerThread::with_current(|worker| match worker {
        Some(worker) if worker.registry().bound.is_none() => {
            worker.push(job);
            None
        }
        Some(worker) => {
            if submit(worker.registry(), job, Submit::New).is_err() {
                unreachable!("a pool never refuses its own worker's work");
            }
            None
        }
        None => Some(job),
    });
    if let Some(job) = pushed {
        let refused = outside_worker(|registry| submit(registry, job, Submit::New).is_err());
        if refused {
            unreachable!(
                "the global pool is never shut down, and a pool accepts what its blocking work submits"
            );
        }
    }
}

/// The pool a free function uses off the workers: a blocking thread's own
/// pool, or the global one.
fn outside_worker<R>(f: impl FnOnce(&Arc<Registry>) -> R) -> R {
    let mut f = Some(f);
    let result =
        blocking::with_current(|registry| registry.map(|r| (f.take().expect("called once"))(r)));
    match result {
        Some(result) => result,
        None => (f.take().expect("called once"))(global::pool().registry()),
    }
}

// ---------------------------------------------------------------------------
// The seam level 2 uses (the rest of it is re-exported at the top).
// ---------------------------------------------------------------------------

/// How a job is submitted: where it is queued, and when the pool refuses it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Submit {
    /// New work (a level-1 job, a new task): refused once shutdown began,
    /// unless submitted from one of the pool's own workers. From outside,
    /// it goes on the injector, and a worker starts such work in the order
    /// it was submitted.
    New,
    /// Work the pool accepted already (a woken task): refused only once the
    /// pool terminated. From outside, it goes on the woken queue, which the
    /// workers take ahead of new work from the injector (within the bound
    /// `worker.rs` documents).
    Wake,
    /// Accepted work that yields: behind the work already queued, so that
    /// the rest runs first (on a worker, its later queue; see `worker.rs`).
    /// Refused like [`Submit::Wake`].
    Yield,
}

/// Queues `job` on `registry`'s pool. On one of its own workers, the job goes
/// on that worker's deque (its later queue for [`Submit::Yield`]) and is
/// always accepted. From elsewhere it goes on the woken queue
/// ([`Submit::Wake`]) or the injector (the others), and is refused
/// (`Err(job)`) as [`Submit`] says.
///
/// With a bound on queued work, a [`Submit::New`] job that finds the queue
/// full waits for room from outside the pool, and runs right here on one of
/// its workers; the other kinds are counted and never wait (`bound.rs`).
#[inline]
pub(crate) fn submit(registry: &Registry, job: JobRef, how: Submit) -> Result<(), JobRef> {
    if let Some(bound) = &registry.bound {
        return submit_bounded(registry, bound, job, how);
    }
    let job = WorkerThread::with_current(|worker| match worker {
        Some(worker) if worker.belongs_to(registry) => {
            match how {
                Submit::New | Submit::Wake => worker.push(job),
                Submit::Yield => worker.push_later(job),
            }
            None
        }
        _ => Some(job),
    });
    match job {
        None => Ok(()),
        Some(job) => registry.inject(job, how),
    }
}

/// [`submit`] for a pool with a bound on queued work.
#[inline(never)]
fn submit_bounded(
    registry: &Registry,
    bound: &bound::Bound,
    job: JobRef,
    how: Submit,
) -> Result<(), JobRef> {
    let job = WorkerThread::with_current(|worker| match worker {
        Some(worker) if worker.belongs_to(registry) => {
            match how {
                Submit::New if !bound.try_reserve() => {
                    // Full: a worker never waits for its own pool. Counted
                    // as queued for the instant `execute` takes it back.
                    bound.add();
                    worker.execute(job);
                    return None;
                }
                Submit::New => {}
                Submit::Wake | Submit::Yield => bound.add(),
            }
            match how {
                Submit::New | Submit::Wake => worker.push(job),
                Submit::Yield => worker.push_later(job),
            }
            None
        }
        _ => Some(job),
    });
    let Some(job) = job else {
        return Ok(());
    };
    match how {
        Submit::New => {
            if !bound.reserve_waiting(|| registry.refuses_new_work()) {
                return Err(job);
            }
        }
        Submit::Wake | Submit::Yield => bound.add(),
    }
    registry.inject(job, how).inspect_err(|_| bound.release())
}

/// Queues the job `make` builds, only if the pool takes it now: refused
/// (and `make` never called) when the pool is shutting down (unless this is
/// one of its own workers, or its blocking threads, while it drains) or, with
/// a bound on queued work, when the queue is full. Never waits.
pub(crate) fn try_submit_with(
    registry: &Registry,
    make: impl FnOnce() -> JobRef,
) -> Result<(), Rejected> {
    let bound = registry.bound.as_deref();
    let mut make = Some(make);
    let on_worker = WorkerThread::with_current(|worker| match worker {
        Some(worker) if worker.belongs_to(registry) => {
            if bound.is_some_and(|bound| !bound.try_reserve()) {
                return Some(Err(Rejected::Full));
            }
            worker.push((make.take().expect("made once"))());
            Some(Ok(()))
        }
        _ => None,
    });
    if let Some(outcome) = on_worker {
        return outcome;
    }
    if registry.enter_submit(Submit::New).is_err() {
        return Err(Rejected::ShutDown);
    }
    if bound.is_some_and(|bound| !bound.try_reserve()) {
        registry.sleep.leave_submit(false);
        return Err(Rejected::Full);
    }
    registry.injector.push((make.take().expect("made once"))());
    registry
        .sleep
        .leave_submit_behind(true, || registry.injector.len());
    Ok(())
}

/// The pool a free function should use: the current worker's, the current
/// blocking thread's, or the global one.
/// A counted reference to `registry`, for something that holds its pool
/// (a task): on one of the pool's workers, one of the worker's spare
/// references, so the registry's shared count is not written.
#[inline]
pub(crate) fn registry_ref(registry: &Arc<Registry>) -> Arc<Registry> {
    WorkerThread::with_current(|worker| match worker {
        Some(worker) if worker.belongs_to(registry) => worker.registry_ref(),
        _ => registry.clone(),
    })
}

/// Gives up a reference that `registry_ref` (or a clone) made: kept as a
/// spare by a worker of its pool, dropped elsewhere.
#[inline]
pub(crate) fn drop_registry_ref(registry: Arc<Registry>) {
    let unkept = WorkerThread::with_current(|worker| match worker {
        Some(worker) => worker.keep_registry_ref(registry),
        None => Some(registry),
    });
    drop(unkept);
}

pub(crate) fn current_or_global<R>(f: impl FnOnce(&Arc<Registry>) -> R) -> R {
    let mut f = Some(f);
    let result = WorkerThread::with_current(|worker| {
        worker.map(|worker| (f.take().expect("called once"))(worker.registry()))
    });
    match result {
        Some(result) => result,
        None => outside_worker(f.take().expect("called once")),
    }
}
