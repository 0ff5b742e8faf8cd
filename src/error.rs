//! Errors: why a pool could not be built.

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
    /// The `on_thread_start` hook panicked on a worker.
    StartHookPanicked {
        /// Index of the worker whose hook panicked.
        index: usize,
        /// The panic message, when the payload was a string.
        message: Option<String>,
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
            BuildErrorKind::StartHookPanicked { index, message } => match message {
                Some(message) => {
                    write!(f, "on_thread_start panicked on worker {index}: {message}")
                }
                None => write!(f, "on_thread_start panicked on worker {index}"),
            },
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
