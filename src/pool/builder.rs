//! Configuring and starting a pool.

use super::registry::{PanicHandler, Registry, ThreadHook};
use super::worker::{self, OwnQueues, Startup, WorkerStart};
use super::{ThreadPool, global};
use crate::error::{BuildError, BuildErrorKind};
use crate::sync::{Arc, thread};
use crate::unwind;
use std::any::Any;
use std::fmt;

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
/// dropped; the standard panic hook has printed them already).
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
    /// handler.
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

    /// Starts the pool's threads.
    ///
    /// Returns once every thread has started and run its start hook.
    ///
    /// # Errors
    ///
    /// [`BuildErrorKind::TooManyThreads`] above [`MAX_THREADS`];
    /// [`BuildErrorKind::ThreadSpawn`] if the system refuses a thread;
    /// [`BuildErrorKind::InvalidThreadName`] if `thread_name` fails;
    /// [`BuildErrorKind::StartHookPanicked`] if a start hook panics. In each
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
        let Builder {
            num_threads: _,
            mut thread_name,
            stack_size,
            on_thread_start,
            on_thread_stop,
            panic_handler,
        } = self;

        let queues: Vec<OwnQueues> = (0..threads).map(|_| OwnQueues::new()).collect();
        let stealers = queues.iter().map(OwnQueues::stealers).collect();
        let registry = Arc::new(Registry::new(stealers, panic_handler, on_thread_stop));
        let startup = Arc::new(Startup::default());

        let mut handles = Vec::with_capacity(threads);
        let mut spawn_error = None;
        for (index, queues) in queues.into_iter().enumerate() {
            let name = match thread_name_for(&mut thread_name, index) {
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
