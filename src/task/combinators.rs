//! `when_all`, `when_all_settled` and `when_any`: tasks that complete when
//! their inputs do, holding no thread meanwhile; and `Task::ready`, a task
//! complete from the start.
//!
//! Each input gets a waker ([`Input`]); the thread that completes an input
//! runs that waker, which takes the input's result and hands it to the shared
//! state. The thread that delivers the deciding result (the last one for
//! `when_all`, the first one for `when_any`, or the first error for
//! `when_all`) completes the combined task, which is a *promise*: a task with
//! no body of its own (see `raw.rs`).

use super::Task;
use super::raw::{self, Promise, TaskRef};
use super::wait;
use crate::error::TaskError;
use crate::sync::{AtomicUsize, Mutex, Ordering};
use std::sync::Arc as StdArc;
use std::task::{Wake, Waker};

/// Where an input's result goes.
trait Deliver<T>: Send + Sync + 'static {
    /// Takes input `index`'s result; returns it back if it came too late to
    /// matter (after the combined task completed).
    fn deliver(&self, index: usize, result: Result<T, TaskError>) -> Option<Result<T, TaskError>>;
}

/// One input task, waiting for its result. Holding the `Task` here, and
/// dropping it once the result is taken, breaks the cycle between the task's
/// waiter slot (which holds this waker) and this waker (which holds the task).
/// (`std::task::Wake` needs `std::sync::Arc`.)
struct Input<T, D> {
    task: Mutex<Option<Task<T>>>,
    index: usize,
    shared: StdArc<D>,
}

impl<T: Send + 'static, D: Deliver<T>> Input<T, D> {
    /// Registers for `task`'s result; delivers it at once if it is ready.
    fn watch(task: Task<T>, index: usize, shared: StdArc<D>) {
        let input = StdArc::new(Input {
            task: Mutex::new(Some(task)),
            index,
            shared,
        });
        let waker = Waker::from(input.clone());
        let ready = {
            let task = input.task.lock();
            let task = task
                .as_ref()
                .expect("the task is taken only once it is ready");
            wait::register_waker(task.raw(), &waker)
        };
        if ready {
            input.take_and_deliver();
        }
    }

    fn take_and_deliver(&self) {
        let Some(task) = self.task.lock().take() else {
            return;
        };
        // SAFETY: the task is complete (we were woken by its completion, or
        // saw it complete), we hold its join interest, `T` is its output
        // type, and the `take` above makes this the only read.
        let result = unsafe { task.raw().take_output::<T>() };
        // A result that came too late is dropped here; a panic in it was
        // seen by nobody, so it goes to the input's pool's panic handler.
        match self.shared.deliver(self.index, result) {
            Some(Err(error)) => {
                if let Ok(payload) = error.try_into_panic() {
                    task.raw().report_panic(payload);
                }
            }
            Some(Ok(value)) => {
                if let Some(payload) = crate::unwind::drop_caught(value) {
                    task.raw().report_panic(payload);
                }
            }
            None => {}
        }
    }
}

impl<T: Send + 'static, D: Deliver<T>> Wake for Input<T, D> {
    fn wake(self: StdArc<Self>) {
        self.take_and_deliver();
    }

    fn wake_by_ref(self: &StdArc<Self>) {
        self.take_and_deliver();
    }
}

/// A promise and the one right to complete it. Dropped while still holding
/// that right, it completes the promise as cancelled, so that nobody waits
/// for a result that will never come.
pub(super) struct Completer<T: Send + 'static> {
    promise: Mutex<Option<TaskRef<Promise<T>, ()>>>,
    _output: std::marker::PhantomData<fn() -> T>,
}

impl<T: Send + 'static> Completer<T> {
    /// A promise on `pool` (which runs its `then` continuations and gets
    /// its unobserved panics), or on none.
    pub(super) fn new(pool: Option<crate::sync::Arc<crate::pool::Registry>>) -> (Task<T>, Self) {
        let (handle, promise) = raw::new_promise::<T>(pool);
        let completer = Completer {
            promise: Mutex::new(Some(promise)),
            _output: std::marker::PhantomData,
        };
        (Task::from_raw(handle), completer)
    }

    /// Completes the promise unless it was completed already; returns
    /// whether this call did.
    pub(super) fn complete(&self, result: impl FnOnce() -> Result<T, TaskError>) -> bool {
        let Some(promise) = self.promise.lock().take() else {
            return false;
        };
        promise.fulfil(result());
        true
    }

    /// Whether the promise was completed.
    pub(super) fn is_completed(&self) -> bool {
        self.promise.lock().is_none()
    }
}

impl<T: Send + 'static> Drop for Completer<T> {
    fn drop(&mut self) {
        self.complete(|| Err(TaskError::cancelled()));
    }
}

/// What `when_all` and `when_all_settled` share: one slot per input, filled
/// in any order; filling the last one completes the combined task with all
/// of them, in input order.
struct Gather<O: Send + 'static> {
    remaining: AtomicUsize,
    slots: Mutex<Vec<Option<O>>>,
    completer: Completer<Vec<O>>,
}

impl<O: Send + 'static> Gather<O> {
    fn fill(&self, index: usize, output: O) {
        self.slots.lock()[index] = Some(output);
        // ORDERING: AcqRel: the last filler acquires every other filler's
        // write of its slot (they also took the lock).
        if self.remaining.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.completer.complete(|| {
                let slots = std::mem::take(&mut *self.slots.lock());
                Ok(slots
                    .into_iter()
                    .map(|slot| slot.expect("every input was delivered"))
                    .collect())
            });
        }
    }
}

/// Starts a `when_all` or `when_all_settled`: the inputs checked, the
/// combined task complete at once for no input, else every input watched.
fn gather<T, O, D, I>(tasks: I, wrap: fn(Gather<O>) -> D) -> Task<Vec<O>>
where
    I: IntoIterator<Item = Task<T>>,
    T: Send + 'static,
    O: Send + 'static,
    D: Deliver<T>,
{
    let tasks = collect_unread(tasks);
    let (combined, completer) = Completer::new(None);
    if tasks.is_empty() {
        completer.complete(|| Ok(Vec::new()));
        return combined;
    }
    let shared = StdArc::new(wrap(Gather {
        remaining: AtomicUsize::new(tasks.len()),
        slots: Mutex::new((0..tasks.len()).map(|_| None).collect()),
        completer,
    }));
    for (index, task) in tasks.into_iter().enumerate() {
        Input::watch(task, index, shared.clone());
    }
    combined
}

/// Shared state of a `when_all`: values gathered, the first error ends it.
struct All<T: Send + 'static>(Gather<T>);

impl<T: Send + 'static> Deliver<T> for All<T> {
    fn deliver(&self, index: usize, result: Result<T, TaskError>) -> Option<Result<T, TaskError>> {
        match result {
            Ok(value) => {
                self.0.fill(index, value);
                None
            }
            Err(error) => {
                let mut error = Some(error);
                self.0
                    .completer
                    .complete(|| Err(error.take().expect("taken once")));
                error.map(Err)
            }
        }
    }
}

/// A task that completes when every task in `tasks` has: with all their
/// values, in the order given, or with the first error (a panic or a
/// cancellation) as soon as one arrives.
///
/// It needs no pool and holds no thread: the combined task completes on the
/// thread that ends the last input (or the failing one). An empty list gives
/// a task that is complete at once, with an empty `Vec`. Calling
/// [`Task::cancel`] on the combined task does not cancel the inputs.
///
/// # Panics
///
/// If a task in `tasks` already returned its result (it was polled to
/// `Ready` as a future).
///
/// # Examples
///
/// ```
/// let pool = taskpool::ThreadPool::new(2);
/// let tasks = (1..=4).map(|i| pool.spawn(move || i * 10));
/// let all = taskpool::when_all(tasks);
/// assert_eq!(all.join().unwrap(), [10, 20, 30, 40]);
/// ```
pub fn when_all<T, I>(tasks: I) -> Task<Vec<T>>
where
    I: IntoIterator<Item = Task<T>>,
    T: Send + 'static,
{
    gather(tasks, All)
}

/// Shared state of a `when_all_settled`: every outcome gathered.
struct Settled<T: Send + 'static>(Gather<Result<T, TaskError>>);

impl<T: Send + 'static> Deliver<T> for Settled<T> {
    fn deliver(&self, index: usize, result: Result<T, TaskError>) -> Option<Result<T, TaskError>> {
        self.0.fill(index, result);
        None
    }
}

/// A task that completes when every task in `tasks` has ended, with every
/// outcome (value, panic or cancellation) in the order given: .NET's
/// `WhenAll` without [`when_all`]'s early exit at the first error.
///
/// Nothing is lost: a panic comes back as its [`TaskError`] in its place,
/// and so counts as observed (it does not go to a panic handler). It needs
/// no pool and holds no thread: the combined task completes on the thread
/// that ends the last input. An empty list gives a task that is complete at
/// once, with an empty `Vec`.
///
/// # Panics
///
/// If a task in `tasks` already returned its result (it was polled to
/// `Ready` as a future).
///
/// # Examples
///
/// ```
/// let pool = taskpool::ThreadPool::new(2);
/// let tasks = (0..4).map(|i| {
///     pool.spawn(move || {
///         if i == 2 {
///             std::panic::panic_any("input 2 fails");
///         }
///         i * 10
///     })
/// });
/// let outcomes = taskpool::when_all_settled(tasks).join().unwrap();
/// assert_eq!(outcomes.len(), 4);
/// assert_eq!(outcomes[0].as_ref().unwrap(), &0);
/// assert_eq!(outcomes[2].as_ref().unwrap_err().panic_message(), Some("input 2 fails"));
/// assert_eq!(outcomes[3].as_ref().unwrap(), &30);
/// ```
pub fn when_all_settled<T, I>(tasks: I) -> Task<Vec<Result<T, TaskError>>>
where
    I: IntoIterator<Item = Task<T>>,
    T: Send + 'static,
{
    gather(tasks, Settled)
}

/// Shared state of a `then_inline`: the continuation, run once by whoever
/// delivers the antecedent's result.
struct Inline<T, U: Send + 'static, F> {
    continuation: Mutex<Option<F>>,
    completer: Completer<U>,
    _input: std::marker::PhantomData<fn(T)>,
}

impl<T, U, F> Deliver<T> for Inline<T, U, F>
where
    T: Send + 'static,
    U: Send + 'static,
    F: FnOnce(Result<T, TaskError>) -> U + Send + 'static,
{
    fn deliver(&self, _: usize, result: Result<T, TaskError>) -> Option<Result<T, TaskError>> {
        let continuation = self
            .continuation
            .lock()
            .take()
            .expect("an input is delivered once");
        // A panic in the continuation is its task's outcome: it never
        // unwinds into the thread that completed the antecedent.
        let outcome = crate::unwind::catch(|| continuation(result));
        self.completer
            .complete(|| outcome.map_err(|payload| TaskError::panicked(Box::new(payload))));
        None
    }
}

/// `Task::then_inline`: a promise on the antecedent's pool, completed by
/// the continuation where the antecedent's result is delivered.
pub(super) fn then_inline<T, U, F>(antecedent: Task<T>, continuation: F) -> Task<U>
where
    T: Send + 'static,
    U: Send + 'static,
    F: FnOnce(Result<T, TaskError>) -> U + Send + 'static,
{
    antecedent.raw().assert_output_unread();
    let (task, completer) = Completer::new(antecedent.raw().pool().cloned());
    let shared = StdArc::new(Inline {
        continuation: Mutex::new(Some(continuation)),
        completer,
        _input: std::marker::PhantomData,
    });
    Input::watch(antecedent, 0, shared);
    task
}

/// `Task::ready`: a promise completed at once with `value`.
pub(super) fn ready<T: Send + 'static>(value: T) -> Task<T> {
    let (task, completer) = Completer::new(None);
    completer.complete(|| Ok(value));
    task
}

/// Shared state of a `when_any`.
struct Any<T: Send + 'static> {
    completer: Completer<(usize, Result<T, TaskError>)>,
}

impl<T: Send + 'static> Deliver<T> for Any<T> {
    fn deliver(&self, index: usize, result: Result<T, TaskError>) -> Option<Result<T, TaskError>> {
        let mut result = Some(result);
        self.completer
            .complete(|| Ok((index, result.take().expect("delivered once"))));
        result
    }
}

/// A task that completes when the first of `tasks` does, with that task's
/// index and result (a value or its error). The other tasks keep running;
/// their results are dropped, and a panic among them goes to its pool's
/// panic handler, as for a detached task.
///
/// It needs no pool and holds no thread: the combined task completes on the
/// thread that ends the first input. An empty list gives a task that is
/// cancelled at once: there is nothing to wait for.
///
/// # Panics
///
/// If a task in `tasks` already returned its result (it was polled to
/// `Ready` as a future).
///
/// # Examples
///
/// ```
/// use std::time::Duration;
///
/// let pool = taskpool::ThreadPool::new(2);
/// let slow = pool.spawn(|| {
///     std::thread::sleep(Duration::from_millis(200));
///     "slow"
/// });
/// let fast = pool.spawn(|| "fast");
/// let (index, result) = taskpool::when_any([slow, fast]).join().unwrap();
/// assert_eq!((index, result.unwrap()), (1, "fast"));
/// ```
pub fn when_any<T, I>(tasks: I) -> Task<(usize, Result<T, TaskError>)>
where
    I: IntoIterator<Item = Task<T>>,
    T: Send + 'static,
{
    let tasks = collect_unread(tasks);
    let (combined, completer) = Completer::new(None);
    let shared = StdArc::new(Any { completer });
    if tasks.is_empty() {
        shared.completer.complete(|| Err(TaskError::cancelled()));
    }
    for (index, task) in tasks.into_iter().enumerate() {
        Input::watch(task, index, shared.clone());
    }
    combined
}

/// The inputs of a combinator, each checked on the caller's thread: a task
/// whose result was already taken (polled to `Ready`) panics here, before
/// any input is watched, rather than later on the thread that completes it.
fn collect_unread<T: Send + 'static, I: IntoIterator<Item = Task<T>>>(tasks: I) -> Vec<Task<T>> {
    let tasks: Vec<Task<T>> = tasks.into_iter().collect();
    for task in &tasks {
        task.raw().assert_output_unread();
    }
    tasks
}
