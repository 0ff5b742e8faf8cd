//! Configuring and starting a pool.

use super::blocking::{
    BlockingConfig, BlockingSet, DEFAULT_BLOCKING_KEEP_ALIVE, DEFAULT_MAX_BLOCKING_THREADS,
};
use super::bound::Bound;
use super::registry::{PanicHandler, Registry, ThreadHook};
use super::worker::{self, OwnQueues, Startup, WorkerStart};
use super::{ThreadPool, global};
use crate::error::{BuildError, BuildErrorKind};
use crate::sync::{Arc, thread};
use crate::unwind;
use std::any::Any;
use std::fmt;
use std::time::Duration;

/// The most worker threads one pool may have.
///
/// Far beyond any machine's core count; a larger request is almost surely a
/// bug, and [`Builder::build`] refuses it with
/// [`BuildErrorKind::TooManyThreads`] instead of trying to start it.
pub const MAX_THREADS: usize = 4096;

/// The smallest stack a worker gets: a smaller [`Builder::stack_size`] is
/// raised to it, since a worker needs some stack of its own to run jobs and
/// to contain their panics.
const MIN_STACK_SIZE: usize = 64 * 1024;

/// Worker `index`'s thread name: from the user's `thread_name` closure
/// (which may panic, or return a name the system refuses), or the default.
fn thread_name_for(
    thread_name: &mut Option<Box<dyn FnMut(usize) -> String>>,
    index: usize,
) -> Result<String, BuildErrorKind> {
    let Some(name) = thread_name else {
        return Ok(format!("taskpool-worker-{index}"));
    };
    let name = unwind::catch(|| name(index)).map_err(|payload| {
        let message = unwind::payload_message(&*payload).map_or_else(
            || "the closure panicked".to_owned(),
            |m| format!("the closure panicked: {m}"),
        );
        unwind::drop_payload(payload);
        BuildErrorKind::InvalidThreadName { index, message }
    })?;
    if name.contains('\0') {
        return Err(BuildErrorKind::InvalidThreadName {
            index,
            message: format!("{name:?} contains a NUL byte"),
        });
    }
    Ok(name)
}

/// Configures a [`ThreadPool`] before it starts.
///
/// Every setting has a default: one thread per CPU, threads named
/// `taskpool-worker-{index}`, the platform's default stack size, no hooks and
/// no panic handler (panics are then counted in the metrics and otherwise
/// dropped; the standard panic hook has printed them already), up to 512
/// blocking threads each kept 10 s when idle, and no bound on queued work.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use std::sync::atomic::{AtomicUsize, Ordering};
///
/// let started = Arc::new(AtomicUsize::new(0));
/// let counter = started.clone();
/// let pool = taskpool::ThreadPool::builder()
///     .num_threads(3)
///     .thread_name(|index| format!("render-{index}"))
///     .on_thread_start(move |_index| {
///         counter.fetch_add(1, Ordering::SeqCst);
///     })
///     .build()
///     .expect("three threads start");
/// assert_eq!(started.load(Ordering::SeqCst), 3);
/// assert_eq!(pool.metrics().threads, 3);
/// ```
#[must_use = "a builder does nothing until `build` or `build_global` is called"]
pub struct Builder {
    num_threads: usize,
    thread_name: Option<Box<dyn FnMut(usize) -> String>>,
    stack_size: Option<usize>,
    /// Shared by every starting thread. A `std` `Arc`: loom's cannot hold
    /// a `dyn` value, and this is configuration, not synchronisation.
    on_thread_start: Option<std::sync::Arc<ThreadHook>>,
    on_thread_stop: Option<Box<ThreadHook>>,
    panic_handler: Option<Box<PanicHandler>>,
    max_blocking_threads: usize,
    blocking_keep_alive: Duration,
    max_queued: Option<usize>,
}

impl Default for Builder {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for Builder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Builder")
            .field("num_threads", &self.num_threads)
            .field("thread_name", &self.thread_name.as_ref().map(|_| ".."))
            .field("stack_size", &self.stack_size)
            .field("on_thread_start", &self.on_thread_start.is_some())
            .field("on_thread_stop", &self.on_thread_stop.is_some())
            .field("panic_handler", &self.panic_handler.is_some())
            .field("max_blocking_threads", &self.max_blocking_threads)
            .field("blocking_keep_alive", &self.blocking_keep_alive)
            .field("max_queued", &self.max_queued)
            .finish()
    }
}

impl Builder {
    /// A builder with every setting at its default; the same as
    /// [`ThreadPool::builder`].
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = taskpool::Builder::new().num_threads(1).build().unwrap();
    /// assert_eq!(pool.metrics().threads, 1);
    /// ```
    pub fn new() -> Self {
        Self {
            num_threads: 0,
            thread_name: None,
            stack_size: None,
            on_thread_start: None,
            on_thread_stop: None,
            panic_handler: None,
            max_blocking_threads: DEFAULT_MAX_BLOCKING_THREADS,
            blocking_keep_alive: DEFAULT_BLOCKING_KEEP_ALIVE,
            max_queued: None,
        }
    }

    /// The number of worker threads; `0` (the default) means one per CPU.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = taskpool::ThreadPool::builder().num_threads(2).build().unwrap();
    /// assert_eq!(pool.metrics().threads, 2);
    /// ```
    pub fn num_threads(mut self, threads: usize) -> Self {
        self.num_threads = threads;
        self
    }

    /// How to name worker `index`'s thread. If the closure panics, or gives
    /// a name with a NUL byte, `build` fails with
    /// [`BuildErrorKind::InvalidThreadName`].
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = taskpool::ThreadPool::builder()
    ///     .num_threads(1)
    ///     .thread_name(|index| format!("io-{index}"))
    ///     .build()
    ///     .unwrap();
    /// let (sender, receiver) = std::sync::mpsc::channel();
    /// pool.execute(move || {
    ///     sender.send(std::thread::current().name().map(String::from)).unwrap();
    /// });
    /// assert_eq!(receiver.recv().unwrap().as_deref(), Some("io-0"));
    /// ```
    pub fn thread_name(mut self, name: impl FnMut(usize) -> String + 'static) -> Self {
        self.thread_name = Some(Box::new(name));
        self
    }

    /// The stack size of each worker thread, in bytes (at least 64 KiB:
    /// smaller sizes are raised to it).
    ///
    /// Deeply nested blocking joins run on one worker's stack (see
    /// [`Task::join`](crate::Task::join)); give such programs a bigger stack.
    /// A size the system cannot provide makes `build` fail with
    /// [`BuildErrorKind::ThreadSpawn`].
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = taskpool::ThreadPool::builder()
    ///     .num_threads(1)
    ///     .stack_size(16 << 20)
    ///     .build()
    ///     .unwrap();
    /// assert_eq!(pool.metrics().threads, 1);
    /// ```
    pub fn stack_size(mut self, bytes: usize) -> Self {
        self.stack_size = Some(bytes);
        self
    }

    /// Runs `hook(index)` on each worker thread when it starts, before it
    /// runs any work. If the hook panics, `build` stops every thread it
    /// started and returns [`BuildErrorKind::StartHookPanicked`].
    ///
    /// Only the fixed workers run it (`index` is the worker's, below
    /// [`num_threads`](Self::num_threads)); the elastic blocking threads
    /// of [`ThreadPool::spawn_blocking`] come and go with the load and do
    /// not, unlike tokio's hook of the same name.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::{Arc, Mutex};
    ///
    /// let seen = Arc::new(Mutex::new(Vec::new()));
    /// let record = seen.clone();
    /// let pool = taskpool::ThreadPool::builder()
    ///     .num_threads(2)
    ///     .on_thread_start(move |index| record.lock().unwrap().push(index))
    ///     .build()
    ///     .unwrap();
    /// let mut indices = seen.lock().unwrap().clone();
    /// indices.sort();
    /// assert_eq!(indices, [0, 1]);
    /// # drop(pool);
    /// ```
    pub fn on_thread_start(mut self, hook: impl Fn(usize) + Send + Sync + 'static) -> Self {
        self.on_thread_start = Some(std::sync::Arc::new(hook));
        self
    }

    /// Runs `hook(index)` on each worker thread just before it exits, after
    /// the pool has run all its work. A panic in it goes to the panic
    /// handler. As with [`on_thread_start`](Self::on_thread_start), the
    /// blocking threads do not run it.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use std::sync::atomic::{AtomicUsize, Ordering};
    ///
    /// let stopped = Arc::new(AtomicUsize::new(0));
    /// let counter = stopped.clone();
    /// let pool = taskpool::ThreadPool::builder()
    ///     .num_threads(2)
    ///     .on_thread_stop(move |_| {
    ///         counter.fetch_add(1, Ordering::SeqCst);
    ///     })
    ///     .build()
    ///     .unwrap();
    /// drop(pool); // joins the workers
    /// assert_eq!(stopped.load(Ordering::SeqCst), 2);
    /// ```
    pub fn on_thread_stop(mut self, hook: impl Fn(usize) + Send + Sync + 'static) -> Self {
        self.on_thread_stop = Some(Box::new(hook));
        self
    }

    /// Receives the payload of every panic nobody else observes: a level-1
    /// job that panicked, and a task that panicked while its
    /// [`Task`](crate::Task) was dropped without being joined. A panic in the
    /// handler itself is contained and dropped.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::mpsc;
    ///
    /// let (sender, receiver) = mpsc::channel::<String>();
    /// let sender = std::sync::Mutex::new(sender);
    /// let pool = taskpool::ThreadPool::builder()
    ///     .num_threads(1)
    ///     .panic_handler(move |payload| {
    ///         let text = payload.downcast_ref::<&str>().copied().unwrap_or("?");
    ///         sender.lock().unwrap().send(text.to_string()).unwrap();
    ///     })
    ///     .build()
    ///     .unwrap();
    /// pool.execute(|| panic!("boom"));
    /// assert_eq!(receiver.recv().unwrap(), "boom");
    /// ```
    pub fn panic_handler(
        mut self,
        handler: impl Fn(Box<dyn Any + Send>) + Send + Sync + 'static,
    ) -> Self {
        self.panic_handler = Some(Box::new(handler));
        self
    }

    /// The most blocking threads the pool runs at once for
    /// [`spawn_blocking`](ThreadPool::spawn_blocking), beside its fixed
    /// workers; default [`DEFAULT_MAX_BLOCKING_THREADS`](crate::DEFAULT_MAX_BLOCKING_THREADS)
    /// (512). Blocking threads start on demand, one per blocking call that
    /// finds none idle, up to this many; beyond it, blocking calls wait in
    /// submission order for a thread to come free. `0` makes `build` fail
    /// with [`BuildErrorKind::InvalidSetting`].
    ///
    /// Blocking threads are named after the workers: `taskpool-blocking` by
    /// default, or, with [`thread_name`](Self::thread_name), the name it gave
    /// worker 0 followed by `-blocking`. They use the workers'
    /// [`stack_size`](Self::stack_size). The `on_thread_start` and
    /// `on_thread_stop` hooks do not run on them: their `index` names a
    /// worker, and a blocking thread is not one.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::{Arc, Mutex};
    ///
    /// let pool = taskpool::ThreadPool::builder()
    ///     .num_threads(1)
    ///     .max_blocking_threads(1)
    ///     .build()
    ///     .unwrap();
    /// // One blocking thread: the calls run one at a time, in order.
    /// let order = Arc::new(Mutex::new(Vec::new()));
    /// let tasks: Vec<_> = (0..4)
    ///     .map(|i| {
    ///         let order = order.clone();
    ///         pool.spawn_blocking(move || order.lock().unwrap().push(i))
    ///     })
    ///     .collect();
    /// for task in tasks {
    ///     task.join().unwrap();
    /// }
    /// assert_eq!(*order.lock().unwrap(), [0, 1, 2, 3]);
    /// assert!(pool.metrics().blocking_threads <= 1);
    /// ```
    pub fn max_blocking_threads(mut self, threads: usize) -> Self {
        self.max_blocking_threads = threads;
        self
    }

    /// How long an idle blocking thread waits for more blocking work
    /// before it exits; default
    /// [`DEFAULT_BLOCKING_KEEP_ALIVE`](crate::DEFAULT_BLOCKING_KEEP_ALIVE)
    /// (10 s). At shutdown, idle blocking threads exit at once.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let pool = taskpool::ThreadPool::builder()
    ///     .num_threads(1)
    ///     .blocking_keep_alive(Duration::from_millis(1))
    ///     .build()
    ///     .unwrap();
    /// pool.spawn_blocking(|| ()).join().unwrap();
    /// // The thread retires soon after: poll for it, with a generous bound.
    /// let start = std::time::Instant::now();
    /// while pool.metrics().blocking_threads > 0 {
    ///     assert!(start.elapsed() < Duration::from_secs(60));
    ///     std::thread::sleep(Duration::from_millis(1));
    /// }
    /// ```
    pub fn blocking_keep_alive(mut self, keep_alive: Duration) -> Self {
        self.blocking_keep_alive = keep_alive;
        self
    }

    /// Bounds the work queued on the pool and not started yet to `n`
    /// pieces (opt-in; by default the queues grow without limit).
    ///
    /// When `n` are queued, a new submission is held back:
    /// [`try_execute`](ThreadPool::try_execute) and
    /// [`try_spawn`](ThreadPool::try_spawn) hand the closure back with an
    /// [`ExecuteError`](crate::ExecuteError) whose
    /// [`is_full`](crate::ExecuteError::is_full) is `true`;
    /// [`execute`](ThreadPool::execute), [`spawn`](ThreadPool::spawn) and
    /// the other submissions wait for room when called from outside the
    /// pool, and run the closure in place, on the calling thread, when
    /// called from one of the pool's own workers (a worker never waits for
    /// its own pool's queue). A wait ends when a worker starts a queued
    /// piece of work, or at shutdown (the submission is then refused as
    /// after any shutdown).
    ///
    /// Work the pool has accepted already is never held back: a woken or
    /// yielding async task, a fork-join half, a continuation's re-queue
    /// when its antecedent ends. It is counted while queued, so it takes
    /// room from new submissions, and the queues may then briefly hold more
    /// than `n`. A continuation ([`Task::then`](crate::Task::then)) is a new
    /// task when `then` is called, and counts as one. Blocking calls
    /// ([`spawn_blocking`](ThreadPool::spawn_blocking)) have their own
    /// queue and are not bounded by this. Without this setting the
    /// submission path touches no shared counter at all.
    ///
    /// `0` makes `build` fail with [`BuildErrorKind::InvalidSetting`].
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::mpsc;
    ///
    /// let pool = taskpool::ThreadPool::builder().num_threads(1).max_queued(2).build().unwrap();
    /// let (started, wait) = mpsc::channel();
    /// let (release, held) = mpsc::channel::<()>();
    /// pool.execute(move || {
    ///     started.send(()).unwrap();
    ///     held.recv().unwrap();
    /// });
    /// wait.recv().unwrap(); // the only worker is busy from now on
    /// assert!(pool.try_execute(|| {}).is_ok());
    /// assert!(pool.try_execute(|| {}).is_ok());
    /// let refused = pool.try_execute(|| {}).unwrap_err();
    /// assert!(refused.is_full());
    /// assert!(pool.metrics().queued <= 2);
    /// release.send(()).unwrap();
    /// pool.execute(refused.into_inner()); // waits for room, then queues it
    /// ```
    pub fn max_queued(mut self, n: usize) -> Self {
        self.max_queued = Some(n);
        self
    }

    /// Starts the pool's threads.
    ///
    /// Returns once every thread has started and run its start hook.
    ///
    /// # Errors
    ///
    /// [`BuildErrorKind::TooManyThreads`] above [`MAX_THREADS`];
    /// [`BuildErrorKind::ThreadSpawn`] if the system refuses a thread;
    /// [`BuildErrorKind::InvalidThreadName`] if `thread_name` fails;
    /// [`BuildErrorKind::StartHookPanicked`] if a start hook panics;
    /// [`BuildErrorKind::InvalidSetting`] for a limit of zero. In each
    /// case the threads already started are stopped and joined first.
    ///
    /// # Examples
    ///
    /// ```
    /// use taskpool::BuildErrorKind;
    ///
    /// let error = taskpool::ThreadPool::builder()
    ///     .num_threads(1)
    ///     .stack_size(usize::MAX / 2)
    ///     .build()
    ///     .unwrap_err();
    /// assert!(matches!(error.kind(), BuildErrorKind::ThreadSpawn { index: 0, .. }));
    /// ```
    pub fn build(self) -> Result<ThreadPool, BuildError> {
        let threads = match self.num_threads {
            0 => num_cpus::get().clamp(1, MAX_THREADS),
            n if n > MAX_THREADS => {
                return Err(BuildError::new(BuildErrorKind::TooManyThreads {
                    requested: n,
                    max: MAX_THREADS,
                }));
            }
            n => n,
        };
        if self.max_queued == Some(0) {
            return Err(BuildError::new(BuildErrorKind::InvalidSetting {
                setting: "max_queued",
                message: "must be at least 1 (leave it unset for no bound)",
            }));
        }
        if self.max_blocking_threads == 0 {
            return Err(BuildError::new(BuildErrorKind::InvalidSetting {
                setting: "max_blocking_threads",
                message: "must be at least 1",
            }));
        }
        let Builder {
            num_threads: _,
            mut thread_name,
            stack_size,
            on_thread_start,
            on_thread_stop,
            panic_handler,
            max_blocking_threads,
            blocking_keep_alive,
            max_queued,
        } = self;
        // Worker 0's name first: blocking threads are named after it.
        let mut first_name = Some(thread_name_for(&mut thread_name, 0).map_err(BuildError::new)?);
        let blocking = BlockingSet::new(BlockingConfig {
            max_threads: max_blocking_threads,
            keep_alive: blocking_keep_alive,
            name: match thread_name {
                Some(_) => format!("{}-blocking", first_name.as_deref().unwrap_or_default()),
                None => "taskpool-blocking".to_owned(),
            },
            stack_size: stack_size.map(|bytes| bytes.max(MIN_STACK_SIZE)),
        });

        let queues: Vec<OwnQueues> = (0..threads).map(|_| OwnQueues::new()).collect();
        let stealers = queues.iter().map(OwnQueues::stealers).collect();
        let registry = Arc::new(Registry::new(
            stealers,
            panic_handler,
            on_thread_stop,
            blocking,
            max_queued.map(|n| Box::new(Bound::new(n))),
        ));
        let startup = Arc::new(Startup::default());

        let mut handles = Vec::with_capacity(threads);
        let mut spawn_error = None;
        for (index, queues) in queues.into_iter().enumerate() {
            let named = match first_name.take() {
                Some(name) => Ok(name),
                None => thread_name_for(&mut thread_name, index),
            };
            let name = match named {
                Ok(name) => name,
                Err(kind) => {
                    spawn_error = Some(kind);
                    break;
                }
            };
            let mut builder = thread::Builder::new().name(name);
            if let Some(bytes) = stack_size {
                builder = builder.stack_size(bytes.max(MIN_STACK_SIZE));
            }
            let start = WorkerStart {
                index,
                queues,
                startup: startup.clone(),
                on_start: on_thread_start.clone(),
            };
            let thread_registry = registry.clone();
            match builder.spawn(move || worker::run_worker(thread_registry, start)) {
                Ok(handle) => handles.push(handle),
                Err(source) => {
                    spawn_error = Some(BuildErrorKind::ThreadSpawn { index, source });
                    break;
                }
            }
        }

        let hook_failure = startup.wait_for_reports(handles.len());
        let error = spawn_error.or_else(|| {
            hook_failure.map(|(index, payload)| {
                let message = unwind::payload_message(&*payload).map(String::from);
                unwind::drop_payload(payload);
                BuildErrorKind::StartHookPanicked { index, message }
            })
        });
        match error {
            None => {
                startup.decide(true);
                Ok(ThreadPool::from_parts(registry, handles))
            }
            Some(kind) => {
                registry.sleep.terminate_now();
                startup.decide(false);
                for handle in handles {
                    // The threads run no user code past their hooks, which
                    // are contained; a join error cannot happen.
                    let _ = handle.join();
                }
                Err(BuildError::new(kind))
            }
        }
    }

    /// Builds the global pool, the one behind [`crate::execute`] and the
    /// other free functions, with these settings.
    ///
    /// # Errors
    ///
    /// [`BuildErrorKind::GlobalAlreadyInitialized`] if the global pool
    /// exists already (an earlier `build_global`, or a free function that
    /// built it with the defaults), and every error of [`build`](Self::build).
    ///
    /// # Examples
    ///
    /// ```
    /// taskpool::ThreadPool::builder().num_threads(2).build_global().unwrap();
    /// let error = taskpool::ThreadPool::builder().build_global().unwrap_err();
    /// assert!(error.is_global_already_initialized());
    /// ```
    pub fn build_global(self) -> Result<(), BuildError> {
        global::install(self)
    }
}
