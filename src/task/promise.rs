//! `Promise<T>`: a task completed from outside, exactly once (.NET's
//! `TaskCompletionSource`).
//!
//! A promise is the same bodiless task that `when_all` and `when_any`
//! complete (see `raw.rs`): born `RUNNING`, so no worker ever takes it, with
//! the right to complete it kept in a `Completer` (a lock around the one
//! reference that may complete it). Whoever takes that reference out of the
//! lock completes the task; everyone after finds it empty and is refused.

use super::Task;
use super::combinators::Completer;
use crate::error::TaskError;
use std::fmt;

/// The completing side of a [`Task`] that no closure or future produces:
/// the task ends when the promise is resolved, failed or cancelled, exactly
/// once (.NET's `TaskCompletionSource`, a oneshot channel whose receiver is
/// a `Task`).
///
/// `Promise::new()` gives the promise and its task. The task holds no thread
/// and belongs to no pool: [`join`](Task::join), `.await`,
/// [`then`](Task::then), [`when_all`](crate::when_all) and
/// [`TaskSet`](crate::TaskSet) work on it like on any other task. The first
/// completion wins; every later one is refused and gets its value back
/// (`resolve`) or `false`. Share a promise between threads by reference
/// or in an `Arc`: every method takes `&self`.
///
/// Dropped without being completed, the promise cancels its task, so a
/// waiter never hangs on a promise that nobody will keep.
/// [`Task::cancel`] on the task does not complete it: the promise decides.
///
/// # Examples
///
/// ```
/// use taskpool::Promise;
///
/// let (promise, task) = Promise::new();
/// std::thread::spawn(move || {
///     promise.resolve("from another thread").unwrap();
/// });
/// assert_eq!(task.join().unwrap(), "from another thread");
///
/// let (promise, task) = Promise::<u32>::new();
/// assert!(promise.fail("no such user"));
/// assert_eq!(promise.resolve(7), Err(7), "completed already");
/// assert!(task.join().unwrap_err().is_failed());
/// ```
pub struct Promise<T: Send + 'static> {
    completer: Completer<T>,
}

impl<T: Send + 'static> Promise<T> {
    /// A new promise and the task it completes.
    ///
    /// # Examples
    ///
    /// ```
    /// let (promise, task) = taskpool::Promise::new();
    /// assert!(!task.is_finished());
    /// promise.resolve(1).unwrap();
    /// assert!(task.is_finished());
    /// ```
    pub fn new() -> (Promise<T>, Task<T>) {
        let (task, completer) = Completer::new(None);
        (Promise { completer }, task)
    }

    /// Completes the task with `value` (.NET's `TrySetResult`).
    ///
    /// # Errors
    ///
    /// `Err(value)`, the value given back, if the task was completed
    /// already.
    ///
    /// # Examples
    ///
    /// ```
    /// let (promise, task) = taskpool::Promise::new();
    /// assert_eq!(promise.resolve("first"), Ok(()));
    /// assert_eq!(promise.resolve("second"), Err("second"));
    /// assert_eq!(task.join().unwrap(), "first");
    /// ```
    pub fn resolve(&self, value: T) -> Result<(), T> {
        let mut value = Some(value);
        if self
            .completer
            .complete(|| Ok(value.take().expect("taken once")))
        {
            Ok(())
        } else {
            Err(value.expect("not taken when refused"))
        }
    }

    /// Completes the task with a failure that is not a panic (.NET's
    /// `TrySetException`): the task's error is [`TaskError::failed`], so
    /// [`TaskError::is_failed`] is `true` and `is_panic` is not. Returns
    /// `false` if the task was completed already.
    ///
    /// # Examples
    ///
    /// ```
    /// let (promise, task) = taskpool::Promise::<String>::new();
    /// assert!(promise.fail("connection reset"));
    /// let error = task.join().unwrap_err();
    /// assert_eq!(error.failure().unwrap().to_string(), "connection reset");
    /// assert!(!error.is_panic());
    /// ```
    pub fn fail(&self, error: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> bool {
        self.completer.complete(|| Err(TaskError::failed(error)))
    }

    /// Completes the task as cancelled (.NET's `TrySetCanceled`). Returns
    /// `false` if the task was completed already.
    ///
    /// # Examples
    ///
    /// ```
    /// let (promise, task) = taskpool::Promise::<()>::new();
    /// assert!(promise.cancel());
    /// assert!(!promise.cancel());
    /// assert!(task.join().unwrap_err().is_cancelled());
    /// ```
    pub fn cancel(&self) -> bool {
        self.completer.complete(|| Err(TaskError::cancelled()))
    }

    /// Completes the task with `result`, as another task ended: a value, or
    /// a [`TaskError`] passed on as it is (a panic stays a panic, a
    /// cancellation a cancellation).
    ///
    /// # Errors
    ///
    /// `Err(result)`, given back, if the task was completed already.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = taskpool::ThreadPool::new(1);
    /// let (promise, task) = taskpool::Promise::new();
    /// let outcome = pool.spawn(|| 40 + 2).join();
    /// assert!(promise.complete(outcome).is_ok());
    /// assert_eq!(task.join().unwrap(), 42);
    /// ```
    pub fn complete(&self, result: Result<T, TaskError>) -> Result<(), Result<T, TaskError>> {
        let mut result = Some(result);
        if self
            .completer
            .complete(|| result.take().expect("taken once"))
        {
            Ok(())
        } else {
            Err(result.expect("not taken when refused"))
        }
    }

    /// `true` once the task was completed (by this promise, in any way).
    ///
    /// # Examples
    ///
    /// ```
    /// let (promise, _task) = taskpool::Promise::new();
    /// assert!(!promise.is_completed());
    /// promise.resolve(()).unwrap();
    /// assert!(promise.is_completed());
    /// ```
    pub fn is_completed(&self) -> bool {
        self.completer.is_completed()
    }
}

impl<T: Send + 'static> fmt::Debug for Promise<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Promise")
            .field("completed", &self.is_completed())
            .finish()
    }
}
