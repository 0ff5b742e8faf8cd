//! Level 2: tasks with results, panics, cancellation and continuations.
//!
//! A task is one heap allocation (`raw.rs`, in a recycled block: `alloc.rs`) holding its state word
//! (`state.rs`), its closure or future, its output slot and its waiter. The
//! pool's queues hold a pointer to it: queueing a task allocates nothing more,
//! and the pool runs it through the same type-erased `JobRef` as a level-1
//! job, so level 1 never learns what a task is.
//!
//! | file | what lives there |
//! |---|---|
//! | `state.rs` | the state machine: flags, transition table, named transitions |
//! | `raw.rs` | the allocation and its layout; `RawTask`, a counted reference |
//! | `alloc.rs` | the memory under it: freed task blocks kept per thread, by size, for the next task |
//! | `harness.rs` | running, completing, cancelling and freeing a task of known type |
//! | `waker.rs` | wakers of async tasks |
//! | `handle.rs` | [`Task<T>`](crate::Task) |
//! | `wait.rs` | blocking and registering for the result; what a waiting worker runs |
//! | `combinators.rs` | [`when_all`](crate::when_all), [`when_any`](crate::when_any) |
//! | `blocking.rs` | [`spawn_blocking`](crate::spawn_blocking): closure tasks queued on the pool's blocking threads |
//! | `promise.rs` | [`Promise`](crate::Promise): a task completed from outside |
//! | `set.rs` | [`TaskSet`](crate::TaskSet): results taken in completion order |
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

pub(crate) mod alloc;
mod blocking;
mod combinators;
mod futures;
mod handle;
mod harness;
mod promise;
pub(crate) mod raw;
mod set;
pub(crate) mod slab;
pub(crate) mod state;
mod wait;
mod waker;

pub use blocking::spawn_blocking;
pub use combinators::{when_all, when_all_settled, when_any};
pub use futures::{YieldNow, block_on, yield_now};

pub use handle::{CancelHandle, JoinHandle, Task};
pub use promise::Promise;
pub use set::{JoinNext, TaskSet};

use crate::cancel::{CancellationRegistration, CancellationToken};
use crate::error::{Cancelled, TaskError};
use crate::pool::{self, ExecuteError, Registry, Submit, ThreadPool};
use crate::sync::{Arc, Mutex};
use raw::{Closure, Extra, Header, TaskRef};
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

/// The extra of a `spawn_async_with_token` task: its place in the live
/// list and its own token.
struct LiveOwnToken {
    live: futures::LiveSlot,
    own: OwnToken,
}

impl Extra for LiveOwnToken {
    fn on_cancel(&self) {
        self.own.on_cancel();
    }

    fn on_complete(&self, task: &Header) {
        self.own.on_complete(task);
        self.live.on_complete(task);
    }
}

impl futures::AsyncExtra for LiveOwnToken {
    fn live_slot(&self) -> &futures::LiveSlot {
        &self.live
    }
}

impl Extra for OwnToken {
    fn on_cancel(&self) {
        self.token.cancel();
    }

    fn on_complete(&self, _task: &Header) {
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

    /// Like [`spawn`](Self::spawn), but hands `f` back instead of queueing
    /// it when the pool does not take it now: the level-2 form of
    /// [`try_execute`](Self::try_execute).
    ///
    /// # Errors
    ///
    /// [`ExecuteError`] holding `f`, unrun: when the pool is shutting down
    /// ([`ExecuteError::is_shutdown`]; `spawn` would return a cancelled task),
    /// or when its [`max_queued`](crate::Builder::max_queued) bound is
    /// reached ([`ExecuteError::is_full`]; `spawn` would wait for room, or
    /// run `f` in place on a worker). It never waits.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = taskpool::ThreadPool::new(1);
    /// let task = pool.try_spawn(|| 6 * 7).unwrap();
    /// assert_eq!(task.join().unwrap(), 42);
    /// pool.shutdown();
    /// let refused = pool.try_spawn(|| 1).unwrap_err();
    /// assert!(refused.is_shutdown());
    /// assert_eq!((refused.into_inner())(), 1);
    /// ```
    pub fn try_spawn<T, F>(&self, f: F) -> Result<Task<T>, ExecuteError<F>>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let registry = self.registry();
        let mut f = Some(f);
        let mut task = None;
        let queued = pool::try_submit_with(registry, || {
            let f = f.take().expect("made once");
            let (handle, entry) = allocate_closure(registry, move || Ok(f()), ());
            task = Some(handle);
            entry.into_raw_task().into_job()
        });
        match queued {
            Ok(()) => Ok(task.expect("made when queued")),
            Err(why) => Err(ExecuteError::new(f.take().expect("refused unmade"), why)),
        }
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
    /// Woken work runs before work that never started. A task woken from
    /// outside the pool (by a timer, another thread, a reactor) is taken by
    /// the workers ahead of new submissions from outside: each worker takes
    /// at most 29 woken tasks in a row before one piece of new work, so a
    /// storm of wake-ups cannot starve new work. A task woken on one of the
    /// pool's workers goes on that worker's own queue.
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

    /// Polls `future` on the pool with no handle: fire and forget for async
    /// code (a connection handler, a background loop), without
    /// `let _ =`.
    ///
    /// The same as `pool.spawn_async(future).detach()` (see
    /// [`Task::detach`]), with the same cost: a panic in the future goes to
    /// the pool's panic handler; one that is still waiting when the pool
    /// shuts down is cancelled (dropped at its `.await`); one submitted
    /// from outside a pool that is shutting down is dropped unpolled.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = taskpool::ThreadPool::new(1);
    /// let (sender, receiver) = std::sync::mpsc::channel();
    /// pool.execute_async(async move {
    ///     taskpool::yield_now().await;
    ///     sender.send("handled").unwrap();
    /// });
    /// assert_eq!(receiver.recv().unwrap(), "handled");
    /// ```
    pub fn execute_async<F>(&self, future: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        futures::spawn_async(self.registry(), future).detach();
    }

    /// Polls the future that `f` builds, with a token of its own (a child of
    /// `token`), on the pool's workers: the cancellable form of
    /// [`spawn_async`](Self::spawn_async).
    ///
    /// `f` runs at once, on the calling thread, and receives the task's own
    /// token, so the future can hand it to what it starts (a
    /// [`spawn_with_token`](Self::spawn_with_token) closure, a loop that
    /// checks it) or watch it inside a poll.
    ///
    /// Cancelling `token`, or the task itself ([`Task::cancel`], a
    /// [`CancelHandle`](crate::CancelHandle)), ends the task cancelled: one
    /// that has not started, at once, without waiting for a worker to reach
    /// it in the queue; one waiting at an `.await`, at once, its future
    /// dropped on the cancelling thread; one being polled, when that poll
    /// returns `Pending`. Once its token is cancelled the future is never
    /// polled again, so code after an `.await` does not run; only a poll
    /// already running at that instant may still finish with a value.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use taskpool::{CancellationToken, ThreadPool};
    ///
    /// let pool = ThreadPool::new(2);
    /// let shutdown = CancellationToken::new();
    /// let request = pool.spawn_async_with_token(&shutdown, |token| async move {
    ///     taskpool::sleep(Duration::from_secs(3600)).await;
    ///     token.is_cancelled()
    /// });
    /// shutdown.cancel();
    /// // Dropped at its `.await` (or before it started).
    /// assert!(request.join().unwrap_err().is_cancelled());
    /// ```
    pub fn spawn_async_with_token<F, Fut>(
        &self,
        token: &CancellationToken,
        f: F,
    ) -> Task<Fut::Output>
    where
        F: FnOnce(CancellationToken) -> Fut,
        Fut: Future + Send + 'static,
        Fut::Output: Send + 'static,
    {
        let own = token.child_token();
        let future = f(own.clone());
        spawn_async_with_own_token(self.registry(), future, own)
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
/// Inside [`ThreadPool::install`] the worker's pool is the installed one.
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
/// Inside [`ThreadPool::install`] the worker's pool is the installed one.
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

/// Polls `future` with no handle on the global pool (or, on a worker, on
/// that worker's pool); see [`ThreadPool::execute_async`].
///
/// # Examples
///
/// ```
/// let (sender, receiver) = std::sync::mpsc::channel();
/// taskpool::execute_async(async move { sender.send(1).unwrap() });
/// assert_eq!(receiver.recv().unwrap(), 1);
/// ```
pub fn execute_async<F>(future: F)
where
    F: Future<Output = ()> + Send + 'static,
{
    spawn_async(future).detach();
}

/// Polls the future that `f` builds with a token of its own on the global
/// pool (or, on a worker, on that worker's pool); see
/// [`ThreadPool::spawn_async_with_token`].
///
/// # Examples
///
/// ```
/// let parent = taskpool::CancellationToken::new();
/// let task = taskpool::spawn_async_with_token(&parent, |token| async move {
///     token.cancelled_owned().await;
///     "saw the parent's cancellation"
/// });
/// parent.cancel();
/// // Cancelled at its await, or before it started: never polled again.
/// let outcome = taskpool::block_on(task);
/// // (`Ok` only if its first poll was running as the parent was cancelled.)
/// assert!(outcome.map_or_else(|error| error.is_cancelled(), |text| text.starts_with("saw")));
/// ```
pub fn spawn_async_with_token<F, Fut>(token: &CancellationToken, f: F) -> Task<Fut::Output>
where
    F: FnOnce(CancellationToken) -> Fut,
    Fut: Future + Send + 'static,
    Fut::Output: Send + 'static,
{
    let own = token.child_token();
    let future = f(own.clone());
    pool::current_or_global(|registry| spawn_async_with_own_token(registry, future, own))
}

/// `spawn_async_with_token` once the future is built: an async task whose
/// extra holds `own`, registered to cancel the task (see `Task::cancel`).
fn spawn_async_with_own_token<Fut>(
    registry: &Arc<Registry>,
    future: Fut,
    own: CancellationToken,
) -> Task<Fut::Output>
where
    Fut: Future + Send + 'static,
    Fut::Output: Send + 'static,
{
    let extra = LiveOwnToken {
        live: futures::LiveSlot::default(),
        own: OwnToken {
            token: own.clone(),
            registration: Mutex::new(None),
        },
    };
    let body = raw::Cancellable(WatchingToken {
        token: own.clone(),
        future,
    });
    let (task, entry) = futures::allocate_async(registry, body, extra);
    let target = task.raw().clone_ref();
    // Not under the lock: if `own` is cancelled already, the callback runs
    // inside `register` and completes the task, which takes the lock.
    let cancels = own.register(move || {
        target.cancel();
    });
    *entry.extra().own.registration.lock() = Some(cancels);
    entry.into_raw_task().submit_to(registry, Submit::New);
    task
}

/// The future of a `spawn_async_with_token` task: not polled once its token
/// is cancelled. The token's callback that cancels the task may run after
/// other callbacks of the same token, one of which may be the waker of this
/// very future; the check makes the poll that wake-up queues end cancelled,
/// as the callback would.
struct WatchingToken<Fut> {
    token: CancellationToken,
    future: Fut,
}

impl<Fut: Future> Future for WatchingToken<Fut> {
    type Output = Result<Fut::Output, Cancelled>;

    fn poll(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Self::Output> {
        // SAFETY: only `future` is pinned: never moved out, no `Drop` impl,
        // and the type is `Unpin` only if `Fut` is.
        let this = unsafe { self.get_unchecked_mut() };
        if this.token.is_cancelled() {
            return std::task::Poll::Ready(Err(Cancelled));
        }
        // SAFETY: as above.
        let future = unsafe { std::pin::Pin::new_unchecked(&mut this.future) };
        future.poll(cx).map(Ok)
    }
}

/// Allocates a closure task on `registry`'s pool and queues it.
fn spawn_closure<T, F, X>(registry: &Arc<Registry>, f: F, extra: X) -> Task<T>
where
    F: FnOnce() -> Result<T, Cancelled> + Send + 'static,
    T: Send + 'static,
    X: Extra,
{
    let (task, entry) = allocate_closure(registry, f, extra);
    entry.into_raw_task().submit_to(registry, Submit::New);
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
    *entry.extra().registration.lock() = Some(cancels_unstarted);
    entry.into_raw_task().submit_to(registry, Submit::New);
    task
}

/// A closure task, not yet queued: its handle and its queue entry.
fn allocate_closure<T, F, X>(
    registry: &Arc<Registry>,
    f: F,
    extra: X,
) -> (Task<T>, TaskRef<Closure<F>, X>)
where
    F: FnOnce() -> Result<T, Cancelled> + Send + 'static,
    T: Send + 'static,
    X: Extra,
{
    let (handle, entry) = raw::new_task(Closure(f), extra, registry);
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
