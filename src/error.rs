//! Errors: why a pool could not be built, why a task has no value.

use crate::unwind::Payload;
use std::any::Any;
use std::fmt;
use std::io;

/// Why [`Builder::build`](crate::Builder::build) or
/// [`Builder::build_global`](crate::Builder::build_global) failed.
///
/// When a build fails, every thread it had started has been stopped and
/// joined before the error is returned: nothing is left running.
///
/// # Examples
///
/// ```
/// use taskpool::{BuildErrorKind, ThreadPool};
///
/// let error = ThreadPool::builder().num_threads(1_000_000).build().unwrap_err();
/// assert!(matches!(error.kind(), BuildErrorKind::TooManyThreads { requested: 1_000_000, .. }));
/// assert!(error.to_string().contains("1000000"));
/// ```
#[derive(Debug)]
pub struct BuildError {
    kind: BuildErrorKind,
}

/// What went wrong in a [`BuildError`].
///
/// # Examples
///
/// ```
/// use taskpool::{BuildErrorKind, ThreadPool};
///
/// let error = ThreadPool::builder()
///     .num_threads(2)
///     .on_thread_start(|index| assert_ne!(index, 1, "worker 1 refuses to start"))
///     .build()
///     .unwrap_err();
/// match error.kind() {
///     BuildErrorKind::StartHookPanicked { index, message } => {
///         assert_eq!(*index, 1);
///         assert!(message.as_deref().unwrap().contains("refuses to start"));
///     }
///     other => panic!("unexpected error {other:?}"),
/// }
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum BuildErrorKind {
    /// More threads were asked for than a pool supports
    /// ([`MAX_THREADS`](crate::MAX_THREADS)).
    TooManyThreads {
        /// The number asked for.
        requested: usize,
        /// The largest number allowed.
        max: usize,
    },
    /// The operating system refused to start a worker thread (for example a
    /// stack size it cannot allocate, or a process thread limit).
    ThreadSpawn {
        /// Index of the worker that could not be started.
        index: usize,
        /// The operating system's error.
        source: io::Error,
    },
    /// The `thread_name` closure panicked, or gave a name the system cannot
    /// use (one with a NUL byte).
    InvalidThreadName {
        /// Index of the worker being named.
        index: usize,
        /// What went wrong.
        message: String,
    },
    /// The `on_thread_start` hook panicked on a worker.
    StartHookPanicked {
        /// Index of the worker whose hook panicked.
        index: usize,
        /// The panic message, when the payload was a string.
        message: Option<String>,
    },
    /// A setting is out of its range (a limit of zero, say).
    InvalidSetting {
        /// The builder method that was given the value.
        setting: &'static str,
        /// What the value must be.
        message: &'static str,
    },
    /// `build_global` was called after the global pool already existed
    /// (built by an earlier `build_global`, or lazily by a first use).
    GlobalAlreadyInitialized,
}

impl BuildError {
    pub(crate) fn new(kind: BuildErrorKind) -> Self {
        Self { kind }
    }

    /// What went wrong.
    ///
    /// # Examples
    ///
    /// ```
    /// use taskpool::{BuildErrorKind, ThreadPool};
    ///
    /// let error = ThreadPool::builder().num_threads(usize::MAX).build().unwrap_err();
    /// assert!(matches!(error.kind(), BuildErrorKind::TooManyThreads { .. }));
    /// ```
    pub fn kind(&self) -> &BuildErrorKind {
        &self.kind
    }

    /// `true` when the error is that the global pool already exists.
    ///
    /// # Examples
    ///
    /// ```
    /// use taskpool::ThreadPool;
    ///
    /// // The first use of the global pool builds it with the defaults...
    /// taskpool::execute(|| {});
    /// // ...so configuring it afterwards is refused.
    /// let error = ThreadPool::builder().build_global().unwrap_err();
    /// assert!(error.is_global_already_initialized());
    /// ```
    pub fn is_global_already_initialized(&self) -> bool {
        matches!(self.kind, BuildErrorKind::GlobalAlreadyInitialized)
    }
}

impl fmt::Display for BuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            BuildErrorKind::TooManyThreads { requested, max } => write!(
                f,
                "cannot build a thread pool of {requested} threads: at most {max} are supported"
            ),
            BuildErrorKind::ThreadSpawn { index, source } => {
                write!(f, "failed to start worker thread {index}: {source}")
            }
            BuildErrorKind::InvalidThreadName { index, message } => {
                write!(f, "cannot name worker thread {index}: {message}")
            }
            BuildErrorKind::StartHookPanicked { index, message } => match message {
                Some(message) => {
                    write!(f, "on_thread_start panicked on worker {index}: {message}")
                }
                None => write!(f, "on_thread_start panicked on worker {index}"),
            },
            BuildErrorKind::InvalidSetting { setting, message } => {
                write!(f, "invalid thread pool setting `{setting}`: {message}")
            }
            BuildErrorKind::GlobalAlreadyInitialized => {
                f.write_str("the global thread pool has already been initialized")
            }
        }
    }
}

impl std::error::Error for BuildError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.kind {
            BuildErrorKind::ThreadSpawn { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// Why a [`Task`](crate::Task) produced no value: its work panicked, it was
/// cancelled, or (for a [`Promise`](crate::Promise)) it was failed.
///
/// Returned by [`Task::join`](crate::Task::join) and by awaiting a `Task`.
/// Receiving it counts as observing the panic: it does not also go to the
/// pool's panic handler.
///
/// # Examples
///
/// ```
/// let pool = taskpool::ThreadPool::new(1);
/// let error = pool.spawn(|| -> u32 { panic!("no value today") }).join().unwrap_err();
/// assert!(error.is_panic());
/// assert_eq!(error.panic_message(), Some("no value today"));
/// assert_eq!(error.to_string(), "task panicked: no value today");
/// ```
pub struct TaskError {
    repr: TaskErrorRepr,
}

enum TaskErrorRepr {
    Cancelled,
    /// Boxed once more so that a `TaskError`, and a task's output slot, stay
    /// one pointer wide.
    Panicked(Box<Payload>),
    /// A failure set without a panic ([`TaskError::failed`]).
    Failed(Box<Failure>),
}

/// A failure without a panic, as a task stores it: in the slot of a panic
/// payload, told apart by its type (which nothing outside the crate can
/// name, so no user panic is ever taken for one).
pub(crate) struct Failure(Box<dyn std::error::Error + Send + Sync>);

impl Failure {
    /// Whether a stored payload is a failure rather than a panic: a failure
    /// nobody read is dropped like a value, never sent to a panic handler.
    pub(crate) fn is_failure(payload: &Payload) -> bool {
        (**payload).is::<Failure>()
    }
}

impl TaskError {
    pub(crate) fn cancelled() -> Self {
        Self {
            repr: TaskErrorRepr::Cancelled,
        }
    }

    /// The error for a payload from a task's output slot: a panic, or a
    /// failure stored as one.
    pub(crate) fn panicked(payload: Box<Payload>) -> Self {
        if Failure::is_failure(&payload) {
            let failure = (*payload)
                .downcast::<Failure>()
                .expect("checked just above");
            return Self {
                repr: TaskErrorRepr::Failed(failure),
            };
        }
        Self {
            repr: TaskErrorRepr::Panicked(payload),
        }
    }

    /// What a task's output slot stores for this error: the panic payload
    /// or the failure, or nothing for a cancellation.
    pub(crate) fn into_stored(self) -> Option<Payload> {
        match self.repr {
            TaskErrorRepr::Cancelled => None,
            TaskErrorRepr::Panicked(payload) => Some(*payload),
            TaskErrorRepr::Failed(failure) => Some(failure as Payload),
        }
    }

    /// An error that is neither a panic nor a cancellation: `error` says
    /// why a task has no value. For completing a
    /// [`Promise`](crate::Promise) with a failure (.NET's `SetException`)
    /// without inventing a panic.
    ///
    /// [`is_panic`](Self::is_panic) and [`is_cancelled`](Self::is_cancelled)
    /// are both `false` for it; [`failure`](Self::failure) gives `error`
    /// back, and so does [`Error::source`](std::error::Error::source). A
    /// failure nobody reads is dropped quietly, like a value: it never
    /// reaches a pool's panic handler.
    ///
    /// # Examples
    ///
    /// ```
    /// use taskpool::TaskError;
    ///
    /// let error = TaskError::failed("backend unreachable");
    /// assert!(error.is_failed());
    /// assert!(!error.is_panic() && !error.is_cancelled());
    /// assert_eq!(error.failure().unwrap().to_string(), "backend unreachable");
    /// assert_eq!(error.to_string(), "task failed: backend unreachable");
    /// ```
    pub fn failed(error: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        Self {
            repr: TaskErrorRepr::Failed(Box::new(Failure(error.into()))),
        }
    }

    /// `true` if the task ended with a failure set without a panic (see
    /// [`failed`](Self::failed)).
    ///
    /// # Examples
    ///
    /// ```
    /// let (promise, task) = taskpool::Promise::<u32>::new();
    /// assert!(promise.fail("no data"));
    /// assert!(task.join().unwrap_err().is_failed());
    /// ```
    pub fn is_failed(&self) -> bool {
        matches!(self.repr, TaskErrorRepr::Failed(_))
    }

    /// The failure, if the task ended with one (see [`failed`](Self::failed)).
    ///
    /// # Examples
    ///
    /// ```
    /// let error = taskpool::TaskError::failed(std::fmt::Error);
    /// assert!(error.failure().unwrap().is::<std::fmt::Error>());
    /// ```
    pub fn failure(&self) -> Option<&(dyn std::error::Error + Send + Sync + 'static)> {
        match &self.repr {
            TaskErrorRepr::Failed(failure) => Some(&*failure.0),
            _ => None,
        }
    }

    /// `true` if the task panicked.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = taskpool::ThreadPool::new(1);
    /// let error = pool.spawn(|| panic!("oops")).join().unwrap_err();
    /// assert!(error.is_panic());
    /// assert!(!error.is_cancelled());
    /// ```
    pub fn is_panic(&self) -> bool {
        matches!(self.repr, TaskErrorRepr::Panicked(_))
    }

    /// `true` if the task was cancelled (before it ran, or cooperatively).
    ///
    /// # Examples
    ///
    /// ```
    /// use taskpool::{CancellationToken, ThreadPool};
    ///
    /// let pool = ThreadPool::new(1);
    /// let token = CancellationToken::new();
    /// token.cancel();
    /// let error = pool.spawn_with_token(&token, |_| Ok(1)).join().unwrap_err();
    /// assert!(error.is_cancelled());
    /// ```
    pub fn is_cancelled(&self) -> bool {
        matches!(self.repr, TaskErrorRepr::Cancelled)
    }

    /// The panic's payload, to inspect or to resume with
    /// [`std::panic::resume_unwind`].
    ///
    /// # Panics
    ///
    /// If the task was cancelled or failed rather than panicked; see
    /// [`try_into_panic`](Self::try_into_panic).
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = taskpool::ThreadPool::new(1);
    /// let error = pool.spawn(|| std::panic::panic_any(7_u8)).join().unwrap_err();
    /// let payload = error.into_panic();
    /// assert_eq!(payload.downcast_ref::<u8>(), Some(&7));
    /// ```
    pub fn into_panic(self) -> Box<dyn Any + Send + 'static> {
        match self.try_into_panic() {
            Ok(payload) => payload,
            Err(_) => panic!("TaskError::into_panic called on an error that is not a panic"),
        }
    }

    /// The panic's payload, or the error itself if the task was cancelled
    /// or failed.
    ///
    /// # Errors
    ///
    /// `Err(self)` if the task was cancelled or failed.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = taskpool::ThreadPool::new(1);
    /// let error = pool.spawn(|| panic!("kept")).join().unwrap_err();
    /// let payload = error.try_into_panic().unwrap();
    /// assert_eq!(payload.downcast_ref::<&str>(), Some(&"kept"));
    /// ```
    pub fn try_into_panic(self) -> Result<Box<dyn Any + Send + 'static>, TaskError> {
        match self.repr {
            TaskErrorRepr::Panicked(payload) => Ok(*payload),
            TaskErrorRepr::Cancelled | TaskErrorRepr::Failed(_) => Err(self),
        }
    }

    /// The panic message, when the task panicked with a `&str` or `String`
    /// payload (as `panic!` does).
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = taskpool::ThreadPool::new(1);
    /// let error = pool.spawn(|| -> () { panic!("code {}", 42) }).join().unwrap_err();
    /// assert_eq!(error.panic_message(), Some("code 42"));
    /// ```
    pub fn panic_message(&self) -> Option<&str> {
        match &self.repr {
            TaskErrorRepr::Panicked(payload) => crate::unwind::payload_message(&***payload),
            TaskErrorRepr::Cancelled | TaskErrorRepr::Failed(_) => None,
        }
    }
}

impl fmt::Debug for TaskError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.repr {
            TaskErrorRepr::Cancelled => f.write_str("TaskError::Cancelled"),
            TaskErrorRepr::Panicked(_) => f
                .debug_tuple("TaskError::Panicked")
                .field(&self.panic_message().unwrap_or("<non-string payload>"))
                .finish(),
            TaskErrorRepr::Failed(failure) => f
                .debug_tuple("TaskError::Failed")
                .field(&failure.0)
                .finish(),
        }
    }
}

impl fmt::Display for TaskError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.repr, self.panic_message()) {
            (TaskErrorRepr::Cancelled, _) => f.write_str("task was cancelled"),
            (TaskErrorRepr::Panicked(_), Some(message)) => write!(f, "task panicked: {message}"),
            (TaskErrorRepr::Panicked(_), None) => f.write_str("task panicked"),
            (TaskErrorRepr::Failed(failure), _) => write!(f, "task failed: {}", failure.0),
        }
    }
}

impl std::error::Error for TaskError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.repr {
            TaskErrorRepr::Failed(failure) => Some(&*failure.0),
            _ => None,
        }
    }
}

impl From<Cancelled> for TaskError {
    fn from(_: Cancelled) -> Self {
        TaskError::cancelled()
    }
}

/// Cancellation was requested: returned by
/// [`CancellationToken::check`](crate::CancellationToken::check), and by a
/// closure of [`ThreadPool::spawn_with_token`](crate::ThreadPool::spawn_with_token)
/// that stops cooperatively (like .NET's `OperationCanceledException`).
///
/// # Examples
///
/// ```
/// use taskpool::{Cancelled, CancellationToken};
///
/// let token = CancellationToken::new();
/// assert_eq!(token.check(), Ok(()));
/// token.cancel();
/// assert_eq!(token.check(), Err(Cancelled));
/// assert_eq!(Cancelled.to_string(), "operation was cancelled");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Cancelled;

impl fmt::Display for Cancelled {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("operation was cancelled")
    }
}

impl std::error::Error for Cancelled {}

/// A [`timeout`](crate::timeout) elapsed before its future finished.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
///
/// let result = taskpool::block_on(taskpool::timeout(
///     Duration::from_millis(5),
///     std::future::pending::<()>(),
/// ));
/// assert_eq!(result, Err(taskpool::TimedOut));
/// assert_eq!(taskpool::TimedOut.to_string(), "deadline elapsed");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct TimedOut;

impl fmt::Display for TimedOut {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("deadline elapsed")
    }
}

impl std::error::Error for TimedOut {}
