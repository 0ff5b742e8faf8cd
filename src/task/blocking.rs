//! Level 2 on the blocking threads: `spawn_blocking`.
//!
//! A blocking task is an ordinary closure task (one allocation, the state
//! machine of `state.rs`) whose queue entry goes to the pool's blocking
//! threads (`pool/blocking.rs`) instead of its work queues. So it has
//! everything a task has: a result, a caught panic, cancellation before it
//! starts, `then`, `.await`, `when_all`. Two things differ:
//!
//! * its body, [`Blocking`], is not *inlinable*: a worker that joins it
//!   never runs it in place (that would hold the worker for the whole
//!   blocking call); it serves its pool while it waits, as for a task
//!   running elsewhere;
//! * when the pool refuses the entry, the task still ends exactly once: as
//!   cancelled after shutdown (like `spawn`), or, when no blocking thread
//!   could be started and none is alive, as a panic whose message gives the
//!   operating system's error, so `join` returns at once instead of
//!   waiting for a thread that never comes. Either way the closure is
//!   dropped unrun: the entry runs here with an instruction, in
//!   [`INSTEAD`], to end the task that way.

use super::Task;
use super::raw::{self, Body};
use crate::error::Cancelled;
use crate::pool::{self, BlockingRefused, Registry, ThreadPool};
use crate::sync::{Arc, thread_local};
use std::cell::Cell;
use std::task::{Context, Poll};

/// What a refused entry does instead of running its closure.
#[derive(Debug)]
enum Instead {
    /// Ends the task cancelled: the pool shut down.
    Cancel,
    /// Ends the task with this message as its panic: no thread to run it.
    Fail(String),
}

thread_local! {
    // loom's `thread_local!` takes no `const` initializer.
    #[allow(clippy::missing_const_for_thread_local)]
    /// Set only around running a refused entry on the submitting thread
    /// (see the module doc); taken by the first body that polls.
    static INSTEAD: Cell<Option<Instead>> = Cell::new(None);
}

/// The body of a blocking task: a closure run once on a blocking thread.
pub(crate) struct Blocking<F>(F);

impl<F, T> Body for Blocking<F>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    type Output = T;
    const CONSUMED_BY_POLL: bool = true;
    const INLINABLE: bool = false;

    unsafe fn poll(body: *mut Self, _cx: &mut Context<'_>) -> Poll<Result<T, Cancelled>> {
        // SAFETY: by the contract the body is live and ours; it is consumed
        // here, which `CONSUMED_BY_POLL` tells the harness.
        let Blocking(closure) = unsafe { body.read() };
        match INSTEAD.with(Cell::take) {
            None => Poll::Ready(Ok(closure())),
            Some(Instead::Cancel) => {
                drop(closure);
                Poll::Ready(Err(Cancelled))
            }
            Some(Instead::Fail(message)) => {
                drop(closure);
                // Not `panic!`: no panic hook output for a failure we report
                // through the task itself.
                std::panic::resume_unwind(Box::new(message))
            }
        }
    }
}

/// `ThreadPool::spawn_blocking` and `taskpool::spawn_blocking`.
fn spawn_blocking_on<T, F>(registry: &Arc<Registry>, f: F) -> Task<T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    let (handle, entry) = raw::new_task(Blocking(f), (), registry);
    if let Err(refused) = pool::submit_blocking(registry, entry.into_raw_task().into_job()) {
        let (job, instead) = match refused {
            BlockingRefused::ShutDown(job) => (job, Instead::Cancel),
            BlockingRefused::NoThread(job, error) => (
                job,
                Instead::Fail(format!(
                    "taskpool: no blocking thread could be started to run this task: {error}"
                )),
            ),
        };
        INSTEAD.with(|instead_cell| instead_cell.set(Some(instead)));
        let (run, data) = job.into_parts();
        // SAFETY: the pool handed back the unrun entry made by `into_job`
        // above; running it once consumes it. Nothing can have started the
        // task meanwhile (it is not inlinable), so its body polls first
        // and takes `INSTEAD`; a task cancelled meanwhile skips the body,
        // and the flag is cleared below.
        unsafe { run(data) };
        INSTEAD.with(|instead_cell| instead_cell.set(None));
    }
    Task::from_raw(handle)
}

/// Level 2: blocking calls.
impl ThreadPool {
    /// Runs `f`, a call that blocks its thread, on one of the pool's
    /// blocking threads, and returns a [`Task`] for its result: tokio's
    /// `spawn_blocking`, .NET's `TaskCreationOptions.LongRunning`.
    ///
    /// Blocking threads are an elastic set beside the fixed workers:
    /// started on demand up to
    /// [`Builder::max_blocking_threads`](crate::Builder::max_blocking_threads),
    /// retired after [`Builder::blocking_keep_alive`](crate::Builder::blocking_keep_alive)
    /// idle. Beyond the maximum, blocking calls wait in submission order.
    /// Workers never run blocking calls (a worker that joins one waits
    /// for it, serving its pool meanwhile), and blocking threads never run
    /// the pool's other work. Code on a blocking thread that calls the free
    /// functions ([`crate::spawn`], [`crate::execute`], ...) submits to this
    /// pool.
    ///
    /// The [`Task`] behaves like any other: result, panic, [`Task::cancel`]
    /// before the call starts, [`Task::then`], `.await`,
    /// [`when_all`](crate::when_all). Shutdown runs the blocking calls
    /// already accepted (and [`shutdown_timeout`](Self::shutdown_timeout)
    /// bounds the wait for them). After shutdown, the task is not run: it
    /// reports cancelled. If no blocking thread can be started and none is
    /// alive to run it later, the task ends at once as panicked, with the
    /// operating system's error in its message.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let pool = taskpool::ThreadPool::new(2);
    /// let read = pool.spawn_blocking(|| {
    ///     std::thread::sleep(Duration::from_millis(10)); // a slow, synchronous call
    ///     "file contents"
    /// });
    /// // The two workers stay free for other work meanwhile.
    /// assert_eq!(pool.spawn(|| 6 * 7).join().unwrap(), 42);
    /// assert_eq!(read.join().unwrap(), "file contents");
    /// ```
    pub fn spawn_blocking<T, F>(&self, f: F) -> Task<T>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        spawn_blocking_on(self.registry(), f)
    }
}

/// Runs `f`, a blocking call, on the blocking threads of the current
/// worker's pool (or, on a blocking thread, of its pool; elsewhere, of the
/// global pool) and returns a [`Task`] for its result; see
/// [`ThreadPool::spawn_blocking`].
///
/// # Examples
///
/// ```
/// let task = taskpool::spawn_async(async {
///     // Offload a synchronous call from async code, and await it.
///     let size = taskpool::spawn_blocking(|| "some file".len()).await.unwrap();
///     size * 2
/// });
/// assert_eq!(task.join().unwrap(), 18);
/// ```
pub fn spawn_blocking<T, F>(f: F) -> Task<T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    pool::current_or_global(|registry| spawn_blocking_on(registry, f))
}
