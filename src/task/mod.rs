//! Level 2: tasks with results, panics, cancellation and continuations.
//!
//! A task is one heap allocation (`raw.rs`) holding its state word
//! (`state.rs`), its closure or future, its output slot and its waiter. The
//! pool's queues hold a pointer to it: queueing a task allocates nothing more,
//! and the pool runs it through the same type-erased `JobRef` as a level-1
//! job, so level 1 never learns what a task is.
//!
//! | file | what lives there |
//! |---|---|
//! | `state.rs` | the state machine: flags, transition table, named transitions |
//! | `raw.rs` | the allocation and its layout; `RawTask`, a counted reference |
//! | `harness.rs` | running, completing, cancelling and freeing a task of known type |
//! | `waker.rs` | wakers of async tasks |
//! | `handle.rs` | [`Task<T>`](crate::Task) |
//! | `wait.rs` | blocking and registering for the result; what a waiting worker runs |
//! | `combinators.rs` | [`when_all`](crate::when_all), [`when_any`](crate::when_any) |
//! | `futures.rs` | futures on the pool: `spawn_async`'s allocation, [`block_on`](crate::block_on), [`yield_now`](crate::yield_now), the live list that shutdown cancels |
//!
//! # The contract
//!
//! * Every task ends exactly once, in one of three outcomes (value,
//!   panicked, cancelled), decided by one atomic transition of its state.
//! * Whoever a transition hands the stage to is its only user: the worker
//!   that runs it, a joiner that runs it inline, or a canceller that drops it.
//! * A panic is returned to whoever joins or awaits; if the handle was
//!   dropped unjoined, it goes to the pool's panic handler. Panics in an
//!   output's `Drop`, a waker, or a continuation are contained the same way.
//! * The output is dropped by whoever ends interest in it last: the handle,
//!   or the completing thread when no handle remains.

mod combinators;
mod futures;
mod handle;
mod harness;
pub(crate) mod raw;
pub(crate) mod state;
mod wait;
mod waker;

pub use combinators::{when_all, when_all_settled, when_any};
pub use futures::{YieldNow, block_on, yield_now};
pub use handle::{JoinHandle, Task};

use crate::cancel::{CancellationRegistration, CancellationToken};
use crate::error::{Cancelled, TaskError};
use crate::pool::{self, Registry, Submit, ThreadPool};
use crate::sync::{Arc, Mutex};
use raw::{Closure, Extra, RawTask};
use state::State;
use std::future::Future;

/// The extra of a `spawn_with_token` task: its own token, cancelled by
/// `Task::cancel`, and the registration on that token that cancels the task
/// at once while it has not started (so a queued task whose token is
/// cancelled ends now, not when a worker reaches it).
///
/// The registration's callback holds a reference to the task; completing
/// drops the registration, which releases it.
struct OwnToken {
    token: CancellationToken,
    registration: Mutex<Option<CancellationRegistration>>,
}

impl Extra for OwnToken {
    fn on_cancel(&self) {
        self.token.cancel();
    }

    fn on_complete(&self, _task: &RawTask) {
        // Taken out first: dropping it may wait for the callback, which may
        // be completing this task on another thread.
        let registration = self.registration.lock().take();
        drop(registration);
    }
}

/// Level 2: tasks with results.
impl ThreadPool {
    /// Runs `f` on the pool and returns a [`Task`] for its result: level 2,
    /// like .NET's `Task.Run`.
    ///
    /// Queued like [`execute`](Self::execute) (on the calling worker's own
    /// deque, or the injector), in the same one allocation that holds the
    /// result. If the pool is shutting down and this is not one of its own
    /// workers, the task is not run: it reports cancelled.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = taskpool::ThreadPool::new(2);
    /// let tasks: Vec<_> = (0..4).map(|i| pool.spawn(move || i * i)).collect();
    /// let squares: Vec<i32> = tasks.into_iter().map(|t| t.join().unwrap()).collect();
    /// assert_eq!(squares, [0, 1, 4, 9]);
    /// ```
    pub fn spawn<T, F>(&self, f: F) -> Task<T>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        spawn_closure(self.registry(), move || Ok(f()), ())
    }

    /// Runs `f` on the pool with a token of its own, a child of `token`, and
    /// returns a [`Task`] for its result: the cancellable form of
    /// [`spawn`](Self::spawn).
    ///
    /// If `token` is cancelled before the task starts, `f` never runs and the
    /// task ends cancelled at once, without waiting for a worker to reach it
    /// in the queue (like .NET's tasks whose token is signalled before they
    /// start): `join`, `when_all` and `then` see it right away. Inside, `f` stops cooperatively with
    /// `token.check()?` (like .NET's `ThrowIfCancellationRequested`);
    /// returning `Err(Cancelled)` ends the task cancelled.
    /// [`Task::cancel`] cancels the task's own token (not `token`).
    ///
    /// `f` returns `Result<T, Cancelled>` on purpose, so that `own.check()?`
    /// works inside it: a closure that never stops early still writes its
    /// value as `Ok(value)` (`|_| Ok(42)`).
    ///
    /// # Examples
    ///
    /// ```
    /// use taskpool::{CancellationToken, ThreadPool};
    ///
    /// let pool = ThreadPool::new(2);
    /// let token = CancellationToken::new();
    /// let task = pool.spawn_with_token(&token, |own| {
    ///     let mut rounds = 0_u64;
    ///     loop {
    ///         own.check()?; // ends the task as cancelled once asked to
    ///         rounds += 1;
    ///         std::thread::yield_now();
    ///     }
    ///     #[allow(unreachable_code)]
    ///     Ok(rounds)
    /// });
    /// token.cancel();
    /// assert!(task.join().unwrap_err().is_cancelled());
    /// ```
    pub fn spawn_with_token<T, F>(&self, token: &CancellationToken, f: F) -> Task<T>
    where
        F: FnOnce(&CancellationToken) -> Result<T, Cancelled> + Send + 'static,
        T: Send + 'static,
    {
        spawn_with_token_on(self.registry(), token, f)
    }

    /// Polls `future` on the pool's workers and returns a [`Task`] for its
    /// output: level 2 for async code.
    ///
    /// Each wake-up queues the same task allocation again (no allocation per
    /// wake-up); a wake-up while it is being polled polls it once more after.
    /// [`Task::cancel`] drops the future at its next `.await`. Waiting
    /// (`.await` on a [`sleep`](crate::sleep), a `Task`, a channel) holds no
    /// thread. At shutdown, a future still waiting for a wake-up when the
    /// queues run dry is cancelled.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let pool = taskpool::ThreadPool::new(2);
    /// let task = pool.spawn_async(async {
    ///     taskpool::sleep(Duration::from_millis(5)).await;
    ///     "woke up"
    /// });
    /// assert_eq!(task.join().unwrap(), "woke up");
    /// ```
    pub fn spawn_async<F>(&self, future: F) -> Task<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        futures::spawn_async(self.registry(), future)
    }
}

impl ThreadPool {
    /// Debug builds: how many task allocations of this pool are not freed
    /// yet (a task is freed once it ended and its `Task` and wakers are
    /// gone); `None` in release builds. For leak checks in tests.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = taskpool::ThreadPool::new(1);
    /// pool.spawn(|| 1).join().unwrap();
    /// pool.shutdown();
    /// if let Some(live) = pool.debug_live_tasks() {
    ///     assert_eq!(live, 0);
    /// }
    /// ```
    #[doc(hidden)]
    pub fn debug_live_tasks(&self) -> Option<usize> {
        #[cfg(debug_assertions)]
        {
            // ORDERING: Relaxed: read after the tasks are done.
            Some(
                self.registry()
                    .debug_allocations
                    .load(crate::sync::Ordering::Relaxed),
            )
        }
        #[cfg(not(debug_assertions))]
        None
    }
}

/// Runs `f` on the global pool (or, on a worker, on that worker's pool) and
/// returns a [`Task`] for its result; see [`ThreadPool::spawn`].
///
/// # Examples
///
/// ```
/// let task = taskpool::spawn(|| "from the global pool");
/// assert_eq!(task.join().unwrap(), "from the global pool");
/// ```
pub fn spawn<T, F>(f: F) -> Task<T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    pool::current_or_global(|registry| spawn_closure(registry, move || Ok(f()), ()))
}

/// Polls `future` on the global pool (or, on a worker, on that worker's
/// pool); see [`ThreadPool::spawn_async`].
///
/// # Examples
///
/// ```
/// let task = taskpool::spawn_async(async { 6 * 7 });
/// assert_eq!(taskpool::block_on(task).unwrap(), 42);
/// ```
pub fn spawn_async<F>(future: F) -> Task<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    pool::current_or_global(|registry| futures::spawn_async(registry, future))
}

/// Allocates a closure task on `registry`'s pool and queues it.
fn spawn_closure<T, F, X>(registry: &Arc<Registry>, f: F, extra: X) -> Task<T>
where
    F: FnOnce() -> Result<T, Cancelled> + Send + 'static,
    T: Send + 'static,
    X: Extra,
{
    let (task, entry) = allocate_closure(registry, f, extra);
    entry.submit_to(registry, Submit::New);
    task
}

/// [`ThreadPool::spawn_with_token`] on `registry`'s pool (the parallel
/// loops' `spawn_for_range` names the current worker's pool this way).
pub(crate) fn spawn_with_token_on<T, F>(
    registry: &Arc<Registry>,
    token: &CancellationToken,
    f: F,
) -> Task<T>
where
    F: FnOnce(&CancellationToken) -> Result<T, Cancelled> + Send + 'static,
    T: Send + 'static,
{
    let own = token.child_token();
    let inside = own.clone();
    let body = move || {
        inside.check()?;
        f(&inside)
    };
    spawn_with_own_token(registry, body, own)
}

/// `spawn_with_token` once the closure is wrapped: a closure task whose
/// extra is `own`, registered to cancel the task while it has not started.
fn spawn_with_own_token<T, B>(registry: &Arc<Registry>, body: B, own: CancellationToken) -> Task<T>
where
    B: FnOnce() -> Result<T, Cancelled> + Send + 'static,
    T: Send + 'static,
{
    let extra = OwnToken {
        token: own.clone(),
        registration: Mutex::new(None),
    };
    let (task, entry) = allocate_closure(registry, body, extra);
    let target = task.raw().clone_ref();
    // Not under the lock: if `own` is cancelled already, the callback runs
    // inside `register` and completes the task, which takes the lock.
    let cancels_unstarted = own.register(move || {
        target.cancel_unstarted();
    });
    // SAFETY: `allocate_closure` made the task with body `Closure<B>` and
    // extra `OwnToken`.
    let extra = unsafe { entry.extra::<Closure<B>, OwnToken>() };
    *extra.registration.lock() = Some(cancels_unstarted);
    entry.submit_to(registry, Submit::New);
    task
}

/// A closure task, not yet queued: its handle and its queue entry.
fn allocate_closure<T, F, X>(registry: &Arc<Registry>, f: F, extra: X) -> (Task<T>, RawTask)
where
    F: FnOnce() -> Result<T, Cancelled> + Send + 'static,
    T: Send + 'static,
    X: Extra,
{
    let header = RawTask::allocate(
        Closure(f),
        extra,
        State::new_scheduled(0),
        Some(registry.clone()),
    );
    // SAFETY: `new_scheduled(0)` counts two references: the handle's and
    // the queue entry's, taken here once each.
    let (handle, entry) = unsafe { (RawTask::from_raw(header), RawTask::from_raw(header)) };
    (Task::from_raw(handle), entry)
}

/// `Task::then`: an async task on the antecedent's pool that awaits it.
fn continue_with<T, U, F>(antecedent: Task<T>, f: F) -> Task<U>
where
    T: Send + 'static,
    U: Send + 'static,
    F: FnOnce(Result<T, TaskError>) -> U + Send + 'static,
{
    let pool = antecedent.raw().pool().cloned();
    let continuation = async move { f(antecedent.await) };
    match pool {
        Some(pool) => futures::spawn_async(&pool, continuation),
        None => spawn_async(continuation),
    }
}
