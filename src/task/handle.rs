//! `Task<T>`: the handle to a task's result.

use super::raw::RawTask;
use super::wait;
use crate::error::TaskError;
use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::mem::ManuallyDrop;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

/// An owned handle to a task's result: level 2 of the pool.
///
/// A `Task` is to [`ThreadPool::spawn`](crate::ThreadPool::spawn) what
/// `Task<T>` is to .NET's `Task.Run`: it gives the task's value, or the
/// [`TaskError`] saying it panicked or was cancelled, by blocking
/// ([`join`](Self::join)) or by `.await` (it is a `Future`). Dropping the
/// handle *detaches* the task: it still runs, and its value is dropped; a
/// panic in a detached task goes to the pool's panic handler, so none
/// vanishes. Also exported as [`JoinHandle`](crate::JoinHandle), the name
/// std and tokio use.
///
/// Everything the task did happens before its result is returned: writes it
/// made are visible to the thread that joined or awaited it.
///
/// # Examples
///
/// ```
/// let pool = taskpool::ThreadPool::new(2);
/// let task = pool.spawn(|| (1..=10).sum::<u32>());
/// assert_eq!(task.join().unwrap(), 55);
/// ```
#[must_use = "dropping a Task detaches it: the task runs, and its result is dropped"]
pub struct Task<T> {
    /// The handle's reference; taken out once, by `join` or `Drop`.
    raw: ManuallyDrop<RawTask>,
    /// The task owns a `T` that this handle may receive or drop: the handle
    /// is `Send` only if `T` is.
    _output: PhantomData<T>,
}

/// The name std and tokio give a handle to a spawned task's result.
///
/// # Examples
///
/// ```
/// let pool = taskpool::ThreadPool::new(1);
/// let handle: taskpool::JoinHandle<&str> = pool.spawn(|| "same type as Task");
/// assert_eq!(handle.join().unwrap(), "same type as Task");
/// ```
pub type JoinHandle<T> = Task<T>;

impl<T: Send + 'static> Task<T> {
    /// Wraps the handle's reference to a task whose output type is `T`.
    pub(crate) fn from_raw(raw: RawTask) -> Task<T> {
        Task {
            raw: ManuallyDrop::new(raw),
            _output: PhantomData,
        }
    }

    pub(crate) fn raw(&self) -> &RawTask {
        &self.raw
    }

    /// Waits for the task and returns its value, or why there is none.
    ///
    /// On a thread outside any pool this blocks. On one of the task's own
    /// pool's workers it never deadlocks while the task can finish: a task
    /// that has not started runs right here, inline (like .NET's task
    /// inlining); otherwise the worker runs other queued work of its pool
    /// while it waits, and sleeps when there is none. On a worker of another
    /// pool, the worker keeps serving its own pool until the task ends (it
    /// never runs the other pool's task), so pools whose tasks wait on each
    /// other complete. Nested joins therefore run on the waiting worker's
    /// stack; see [`Builder::stack_size`] for deep recursion.
    ///
    /// [`Builder::stack_size`]: crate::Builder::stack_size
    ///
    /// # Errors
    ///
    /// [`TaskError`] if the task panicked (the payload is inside) or was
    /// cancelled.
    ///
    /// # Panics
    ///
    /// If the task already returned its result as a future (it was polled
    /// to `Ready`): the result cannot be handed out twice.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = taskpool::ThreadPool::new(1);
    /// // On a one-thread pool, a task that joins its own child: the child
    /// // runs inline on the joining worker.
    /// let outer = pool.spawn(|| {
    ///     let inner = taskpool::spawn(|| 21);
    ///     inner.join().unwrap() * 2
    /// });
    /// assert_eq!(outer.join().unwrap(), 42);
    /// ```
    pub fn join(self) -> Result<T, TaskError> {
        self.raw.assert_output_unread();
        // SAFETY: the handle gives up its reference, `T` is the output type,
        // and the output was not taken (checked just above).
        unsafe { wait::join(self.into_raw()) }
    }

    /// The handle's reference, without running the handle's `Drop`.
    fn into_raw(self) -> RawTask {
        let mut this = ManuallyDrop::new(self);
        // SAFETY: `this` is never used or dropped again, so the `RawTask` is
        // taken out exactly once.
        unsafe { ManuallyDrop::take(&mut this.raw) }
    }

    /// A task that has already finished with `value`, on no pool: .NET's
    /// `Task.FromResult`, for an API that returns a `Task` but sometimes has
    /// the answer at hand.
    ///
    /// # Examples
    ///
    /// ```
    /// let cached = taskpool::Task::ready(42);
    /// assert!(cached.is_finished());
    /// assert_eq!(cached.join().unwrap(), 42);
    /// ```
    pub fn ready(value: T) -> Task<T> {
        super::combinators::ready(value)
    }

    /// Lets the task run on without a handle (fire and forget), and says so
    /// where `let _ = pool.spawn_async(..)` would only quiet `#[must_use]`.
    ///
    /// The same as dropping the handle: the task still runs (a dropped
    /// handle never cancels it), its value is dropped when it ends, and a
    /// panic in it goes to its pool's panic handler.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::mpsc;
    ///
    /// let pool = taskpool::ThreadPool::new(1);
    /// let (sender, receiver) = mpsc::channel();
    /// pool.spawn_async(async move { sender.send("handled").unwrap() }).detach();
    /// assert_eq!(receiver.recv().unwrap(), "handled");
    /// ```
    pub fn detach(self) {
        drop(self);
    }

    /// Waits at most `timeout` for the task to finish; returns whether it
    /// did. The task stays usable either way: join it, await it, or wait
    /// again. This never runs the task or other work on the calling thread.
    ///
    /// It takes `&mut self` on purpose (so the binding must be `let mut`):
    /// a handle has one waiter slot, which a wait fills with its waker, and
    /// `&mut` makes sure that no other wait or poll of the same handle uses
    /// the slot meanwhile, without a lock. Share the result, not the handle:
    /// to wait from several threads, `join` once and send the value.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let pool = taskpool::ThreadPool::new(1);
    /// let (release, gate) = std::sync::mpsc::channel::<()>();
    /// let mut task = pool.spawn(move || gate.recv().unwrap());
    /// assert!(!task.wait_timeout(Duration::from_millis(10)));
    /// release.send(()).unwrap();
    /// assert!(task.wait_timeout(Duration::from_secs(60)));
    /// task.join().unwrap();
    /// ```
    pub fn wait_timeout(&mut self, timeout: Duration) -> bool {
        wait::wait_timeout(&self.raw, timeout)
    }

    /// `true` once the task has ended (with a value, a panic, or cancelled).
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = taskpool::ThreadPool::new(1);
    /// let mut task = pool.spawn(|| 1);
    /// task.wait_timeout(std::time::Duration::from_secs(60));
    /// assert!(task.is_finished());
    /// ```
    pub fn is_finished(&self) -> bool {
        self.raw.state().load().is_complete()
    }

    /// Requests cancellation; returns `true` when this call ended the task,
    /// which then reports cancelled.
    ///
    /// `true`: the task was not running at that instant, and this call ended
    /// it: a task that had not started never will; an async task waiting at
    /// an `.await` (for a timer, a channel, another task) is not polled
    /// again. Its closure or future is dropped on this thread, and `join` or
    /// `.await` reports [`TaskError::is_cancelled`]. One atomic transition
    /// decides between this call and a worker starting or polling the task,
    /// so exactly one of them wins.
    ///
    /// `false`: the task was running right then, or had finished; the
    /// outcome is not decided by this call. A running async task is dropped
    /// as soon as its current poll returns `Pending` (at its next `.await`
    /// that waits) and then ends cancelled, but a poll that finishes ends
    /// with its value. A closure from
    /// [`spawn_with_token`](crate::ThreadPool::spawn_with_token) sees its own
    /// token cancelled and can stop cooperatively (`token.check()?`). A plain
    /// [`spawn`](crate::ThreadPool::spawn) closure runs to completion.
    ///
    /// In every case the task's own token (if it has one) is cancelled. To
    /// cancel from a token callback or another thread, take a
    /// [`cancel_handle`](Self::cancel_handle).
    ///
    /// Earlier versions answered `false` for an async task waiting at an
    /// `.await`, although the call had just dropped it and the task was
    /// bound to report cancelled; that read as a failure, so `true` now
    /// means "this call ended the task", started or not.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = taskpool::ThreadPool::new(1);
    /// let (release, gate) = std::sync::mpsc::channel::<()>();
    /// let blocker = pool.spawn(move || gate.recv().unwrap());
    /// let queued = pool.spawn(|| "never runs");
    /// assert!(queued.cancel()); // still queued behind the blocker
    /// assert!(queued.join().unwrap_err().is_cancelled());
    /// release.send(()).unwrap();
    /// blocker.join().unwrap();
    /// ```
    pub fn cancel(&self) -> bool {
        self.raw.cancel()
    }

    /// A handle that cancels this task from anywhere: cloneable, `Send` and
    /// `Sync`, and independent of the `Task` (tokio's `AbortHandle`).
    ///
    /// Give it to a token callback, a timer or another thread while the
    /// `Task` itself is joined, awaited or moved elsewhere.
    /// [`CancelHandle::cancel`] does exactly what [`Task::cancel`] does.
    ///
    /// # Examples
    ///
    /// ```
    /// use taskpool::CancellationToken;
    ///
    /// let pool = taskpool::ThreadPool::new(1);
    /// let shutdown = CancellationToken::new();
    /// let task = pool.spawn_async(std::future::pending::<()>());
    /// let handle = task.cancel_handle();
    /// let _registration = shutdown.register(move || {
    ///     handle.cancel();
    /// });
    /// shutdown.cancel();
    /// assert!(task.join().unwrap_err().is_cancelled());
    /// ```
    pub fn cancel_handle(&self) -> CancelHandle {
        CancelHandle {
            raw: self.raw.clone_ref(),
        }
    }

    /// Continues with `f` when this task ends, as a new task queued on the
    /// pool: `f` receives this task's result, and nothing holds a thread
    /// meanwhile (like .NET's `ContinueWith`). Returns the continuation's
    /// `Task`.
    ///
    /// The continuation waits in the queue like any new task, behind work
    /// queued before it; for a short continuation that should run at once,
    /// on the thread that completes this task, see
    /// [`then_inline`](Self::then_inline).
    ///
    /// The continuation runs on this task's pool (for the tasks of
    /// [`when_all`](crate::when_all) and [`when_any`](crate::when_any), on
    /// the current worker's pool or the global one). A panic in `f` ends the
    /// continuation as panicked.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = taskpool::ThreadPool::new(2);
    /// let doubled = pool
    ///     .spawn(|| 21)
    ///     .then(|result| result.unwrap() * 2)
    ///     .then(|result| format!("{}", result.unwrap()));
    /// assert_eq!(doubled.join().unwrap(), "42");
    /// ```
    pub fn then<U, F>(self, f: F) -> Task<U>
    where
        F: FnOnce(Result<T, TaskError>) -> U + Send + 'static,
        U: Send + 'static,
    {
        super::continue_with(self, f)
    }

    /// Continues with `f` right where this task ends: on the thread that
    /// completes it, or at once on the caller if it has finished already
    /// (.NET's `TaskContinuationOptions.ExecuteSynchronously`). Returns the
    /// continuation's `Task`.
    ///
    /// For short continuations (record a result, resolve a
    /// [`Promise`](crate::Promise), count progress): no new task is queued,
    /// so the continuation does not wait behind a backlog. The rules are
    /// [`then`](Self::then)'s: `f` runs exactly once and receives this
    /// task's result (its panic or cancellation as an `Err`); a panic in `f`
    /// becomes the returned task's panic and never unwinds into the thread
    /// that ran it, so it never harms a worker.
    ///
    /// `f` holds up whoever completes this task: a worker, a thread that
    /// cancels it, or the caller of [`Promise::resolve`](crate::Promise::resolve).
    /// Keep it short and non-blocking, and do not chain thousands of them
    /// (each completion runs the next continuation on the same stack); use
    /// `then` for longer work.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use std::sync::atomic::{AtomicUsize, Ordering};
    ///
    /// let pool = taskpool::ThreadPool::new(2);
    /// let done = Arc::new(AtomicUsize::new(0));
    /// let counter = done.clone();
    /// let counted = pool.spawn(|| 21).then_inline(move |result| {
    ///     counter.fetch_add(1, Ordering::Relaxed);
    ///     result.unwrap() * 2
    /// });
    /// assert_eq!(counted.join().unwrap(), 42);
    /// assert_eq!(done.load(Ordering::Relaxed), 1);
    /// ```
    pub fn then_inline<U, F>(self, f: F) -> Task<U>
    where
        F: FnOnce(Result<T, TaskError>) -> U + Send + 'static,
        U: Send + 'static,
    {
        super::combinators::then_inline(self, f)
    }
}

/// A cloneable, thread-safe right to cancel one task, made by
/// [`Task::cancel_handle`] (tokio's `AbortHandle`).
///
/// It holds one counted reference to the task's allocation: its state word
/// and the inline slot where the closure or future, then the output, live.
/// It does not hold the output itself: the value is moved out by `join` or
/// dropped with the `Task` as if there were no cancel handle, and the
/// closure or future is dropped when the task ends. What a handle keeps after
/// the task ended is that one allocation (and its pool's shared state),
/// freed when the last handle goes.
///
/// # Examples
///
/// ```
/// let pool = taskpool::ThreadPool::new(1);
/// let (release, gate) = std::sync::mpsc::channel::<()>();
/// let blocker = pool.spawn(move || gate.recv().unwrap());
/// let queued = pool.spawn(|| "never runs");
/// let handle = queued.cancel_handle();
/// let from_another_thread = std::thread::spawn(move || handle.cancel());
/// assert!(from_another_thread.join().unwrap());
/// assert!(queued.join().unwrap_err().is_cancelled());
/// release.send(()).unwrap();
/// blocker.join().unwrap();
/// ```
pub struct CancelHandle {
    raw: RawTask,
}

impl CancelHandle {
    /// Requests cancellation of the task; the same as [`Task::cancel`],
    /// with the same answer: `true` when this call ended the task (it had
    /// not started, or was an async task waiting at an `.await`), `false`
    /// when it was running right then or had finished.
    ///
    /// # Examples
    ///
    /// ```
    /// let task = taskpool::Task::ready(1);
    /// let handle = task.cancel_handle();
    /// assert!(!handle.cancel(), "finished already");
    /// assert_eq!(task.join().unwrap(), 1);
    /// ```
    pub fn cancel(&self) -> bool {
        self.raw.cancel()
    }

    /// `true` once the task has ended (with a value, a panic, or cancelled).
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = taskpool::ThreadPool::new(1);
    /// let task = pool.spawn(|| 5);
    /// let handle = task.cancel_handle();
    /// assert_eq!(task.join().unwrap(), 5);
    /// assert!(handle.is_finished());
    /// ```
    pub fn is_finished(&self) -> bool {
        self.raw.state().load().is_complete()
    }
}

impl Clone for CancelHandle {
    fn clone(&self) -> Self {
        CancelHandle {
            raw: self.raw.clone_ref(),
        }
    }
}

impl fmt::Debug for CancelHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.raw.state().load();
        f.debug_struct("CancelHandle")
            .field("finished", &state.is_complete())
            .field("cancel_requested", &state.is_cancelled())
            .finish()
    }
}

// The output lives in the task's heap allocation and is never pinned: the
// handle itself may move freely, whatever `T` is (as tokio's `JoinHandle`).
impl<T> Unpin for Task<T> {}

impl<T: Send + 'static> Future for Task<T> {
    type Output = Result<T, TaskError>;

    /// Resolves to the task's value or error.
    ///
    /// # Panics
    ///
    /// If polled again after it returned `Ready` with a value or a panic.
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let raw = &self.raw;
        raw.assert_output_unread();
        if wait::register_waker(raw, cx.waker()) {
            // SAFETY: the join interest is ours, `T` is the output type and
            // the task is complete.
            Poll::Ready(unsafe { raw.take_output() })
        } else {
            Poll::Pending
        }
    }
}

impl<T> Drop for Task<T> {
    fn drop(&mut self) {
        // SAFETY: `Drop` runs once, and nothing touches `raw` after it.
        let raw = unsafe { ManuallyDrop::take(&mut self.raw) };
        wait::drop_handle::<T>(raw);
    }
}

impl<T> fmt::Debug for Task<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.raw.state().load();
        f.debug_struct("Task")
            .field("finished", &state.is_complete())
            .field("cancel_requested", &state.is_cancelled())
            .finish()
    }
}
