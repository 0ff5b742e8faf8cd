//! `TaskSet<T>`: tasks owned together, their results taken as they complete
//! (tokio's `JoinSet`, .NET's `Task.WhenEach`).
//!
//! The set keeps each task's handle in a slot of its own, and registers on
//! each a waker ([`Member`]) that knows the slot. The thread that completes
//! a task runs that waker, which moves the finished handle from its slot to
//! the back of the *ready* queue and wakes whoever waits in `join_next`. So
//! the ready queue is in completion order, and a result stays inside its
//! task's allocation until it is taken, when it is moved out and the task
//! freed: what the set holds is what was not taken yet.
//!
//! ```text
//! slots: [Held(task 0), Free, Held(task 2), Reserved]   running or queued
//! ready: task 1, task 3                                  finished, in order
//! ```
//!
//! A slot is `Reserved` between the moment a task is added and the moment
//! its waker is registered; a completion that comes in that window marks it
//! `Woken`, and the insert moves the task to the ready queue itself.

use super::Task;
use super::handle::CancelHandle;
use super::wait;
use crate::error::TaskError;
use crate::sync::Mutex;
use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc as StdArc;
use std::task::{Context, Poll, Wake, Waker};

/// A set of tasks whose results are taken in the order they complete: the
/// tokio `JoinSet` of this crate (also what .NET 9's `Task.WhenEach` gives).
///
/// Add tasks with [`spawn`](Self::spawn) / [`spawn_async`](Self::spawn_async)
/// (on the current worker's pool or the global one) or
/// [`insert`](Self::insert) (a task made anywhere: `set.insert(pool.spawn(f))`
/// for a given pool, a [`Promise`](crate::Promise)'s task, a continuation).
/// Take results with [`join_next`](Self::join_next) (blocking) or
/// [`join_next_async`](Self::join_next_async) (`.await`), each as soon as its task ends,
/// whatever the order they were added in.
///
/// Memory stays bounded by what was not taken: a finished task waits in the
/// set with its result, and taking the result frees the task. Joining a
/// `Vec<Task>` in order instead keeps every finished result until its turn.
///
/// **Dropping the set cancels the tasks still in it** (as
/// [`cancel_all`](Self::cancel_all) does) and drops their results; a panic
/// among them that nobody took goes to its pool's panic handler, as for a
/// dropped [`Task`]. A plain closure that is already running runs to its end.
///
/// `when_each(tasks)` is `tasks.into_iter().collect::<TaskSet<_>>()`, so there
/// is no separate function.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use taskpool::TaskSet;
///
/// let pool = taskpool::ThreadPool::new(2);
/// let mut set = TaskSet::new();
/// for delay in [30_u64, 0, 10] {
///     set.insert(pool.spawn_async(async move {
///         taskpool::sleep(Duration::from_millis(delay)).await;
///         delay
///     }));
/// }
/// let mut total = 0;
/// while let Some(result) = set.join_next() {
///     total += result.unwrap();
/// }
/// assert_eq!(total, 40);
/// assert!(set.is_empty());
/// ```
pub struct TaskSet<T: Send + 'static> {
    shared: StdArc<Shared<T>>,
}

struct Shared<T: Send + 'static> {
    state: Mutex<SetState<T>>,
}

struct SetState<T: Send + 'static> {
    slots: Vec<Slot<T>>,
    free: Vec<usize>,
    /// Tasks in `slots` (held or reserved): not finished when last seen.
    in_flight: usize,
    /// Finished tasks, in completion order, results not taken yet.
    ready: VecDeque<Task<T>>,
    /// Who waits in `next` / `join_next`.
    waiter: Option<Waker>,
    /// The set was dropped: a task that finishes now is dropped at once.
    closed: bool,
}

enum Slot<T> {
    Free,
    /// Being added: its waker is not registered yet.
    Reserved,
    /// Finished while `Reserved`.
    Woken,
    Held(Task<T>),
}

/// The waker registered on one task of the set.
struct Member<T: Send + 'static> {
    slot: usize,
    shared: StdArc<Shared<T>>,
}

impl<T: Send + 'static> Wake for Member<T> {
    fn wake(self: StdArc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &StdArc<Self>) {
        // Registered once, on a task that completes once: this runs once.
        let mut state = self.shared.state.lock();
        let slot = &mut state.slots[self.slot];
        match slot {
            Slot::Held(_) => {}
            Slot::Reserved => {
                *slot = Slot::Woken;
                return;
            }
            // Emptied by the set's drop (or already woken).
            Slot::Free | Slot::Woken => return,
        }
        let Slot::Held(task) = std::mem::replace(slot, Slot::Free) else {
            unreachable!("matched just above");
        };
        state.free.push(self.slot);
        state.in_flight -= 1;
        if state.closed {
            drop(state);
            // Its result (or unobserved panic) goes as for a dropped Task.
            drop(task);
            return;
        }
        state.ready.push_back(task);
        let waiter = state.waiter.take();
        drop(state);
        if let Some(waiter) = waiter {
            waiter.wake();
        }
    }
}

impl<T: Send + 'static> TaskSet<T> {
    /// An empty set.
    ///
    /// # Examples
    ///
    /// ```
    /// let set = taskpool::TaskSet::<u8>::new();
    /// assert!(set.is_empty());
    /// ```
    pub fn new() -> Self {
        TaskSet {
            shared: StdArc::new(Shared {
                state: Mutex::new(SetState {
                    slots: Vec::new(),
                    free: Vec::new(),
                    in_flight: 0,
                    ready: VecDeque::new(),
                    waiter: None,
                    closed: false,
                }),
            }),
        }
    }

    /// Adds a task made elsewhere (on any pool, a promise's, a
    /// continuation); the set owns it from now on. Returns a handle that
    /// cancels it.
    ///
    /// # Panics
    ///
    /// If `task` already returned its result (it was polled to `Ready`).
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = taskpool::ThreadPool::new(1);
    /// let mut set = taskpool::TaskSet::new();
    /// set.insert(pool.spawn(|| 1));
    /// set.insert(taskpool::Task::ready(2));
    /// assert_eq!(set.len(), 2);
    /// let mut sum = 0;
    /// while let Some(result) = set.join_next() {
    ///     sum += result.unwrap();
    /// }
    /// assert_eq!(sum, 3);
    /// ```
    pub fn insert(&mut self, task: Task<T>) -> CancelHandle {
        task.raw().assert_output_unread();
        let cancel = task.cancel_handle();
        let slot = {
            let mut state = self.shared.state.lock();
            state.in_flight += 1;
            match state.free.pop() {
                Some(slot) => {
                    state.slots[slot] = Slot::Reserved;
                    slot
                }
                None => {
                    state.slots.push(Slot::Reserved);
                    state.slots.len() - 1
                }
            }
        };
        let member = Waker::from(StdArc::new(Member {
            slot,
            shared: self.shared.clone(),
        }));
        // Registered outside the lock: a task that completes meanwhile runs
        // the waker, which takes the lock.
        let finished = wait::register_waker(task.raw(), &member);
        let mut state = self.shared.state.lock();
        if finished || matches!(state.slots[slot], Slot::Woken) {
            state.slots[slot] = Slot::Free;
            state.free.push(slot);
            state.in_flight -= 1;
            state.ready.push_back(task);
        } else {
            state.slots[slot] = Slot::Held(task);
        }
        cancel
    }

    /// Spawns `f` on the current worker's pool, or the global one (see
    /// [`spawn`](crate::spawn)), into the set. For a given pool,
    /// `set.insert(pool.spawn(f))`.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut set = taskpool::TaskSet::new();
    /// set.spawn(|| "from the global pool");
    /// assert_eq!(set.join_next().unwrap().unwrap(), "from the global pool");
    /// ```
    pub fn spawn<F>(&mut self, f: F) -> CancelHandle
    where
        F: FnOnce() -> T + Send + 'static,
    {
        self.insert(super::spawn(f))
    }

    /// Polls `future` on the current worker's pool, or the global one (see
    /// [`spawn_async`](crate::spawn_async)), as a task of the set. For a
    /// given pool, `set.insert(pool.spawn_async(future))`.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut set = taskpool::TaskSet::new();
    /// set.spawn_async(async { 6 * 7 });
    /// assert_eq!(set.join_next().unwrap().unwrap(), 42);
    /// ```
    pub fn spawn_async<F>(&mut self, future: F) -> CancelHandle
    where
        F: Future<Output = T> + Send + 'static,
    {
        self.insert(super::spawn_async(future))
    }

    /// Waits for the next task of the set to finish and returns its result;
    /// `None` once the set is empty. Results come in completion order.
    ///
    /// On a worker thread this never deadlocks the pool: while it waits, the
    /// worker runs its pool's queued work (the set's own tasks among it), as
    /// [`block_on`](crate::block_on) does.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = taskpool::ThreadPool::new(1);
    /// let outer = pool.spawn(|| {
    ///     // On the pool's only worker: its children run while it waits.
    ///     let mut set = taskpool::TaskSet::new();
    ///     for i in 0..4 {
    ///         set.spawn(move || i);
    ///     }
    ///     std::iter::from_fn(|| set.join_next()).map(Result::unwrap).sum::<i32>()
    /// });
    /// assert_eq!(outer.join().unwrap(), 6);
    /// ```
    pub fn join_next(&mut self) -> Option<Result<T, TaskError>> {
        super::block_on(self.join_next_async())
    }

    /// A future of the next result, in completion order; `None` once the
    /// set is empty: `set.join_next_async().await` is tokio's `join_next().await`.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = taskpool::ThreadPool::new(2);
    /// let gathered = pool.spawn_async(async {
    ///     let mut set = taskpool::TaskSet::new();
    ///     for i in 1..=3 {
    ///         set.spawn_async(async move { i * 10 });
    ///     }
    ///     let mut sum = 0;
    ///     while let Some(result) = set.join_next_async().await {
    ///         sum += result.unwrap();
    ///     }
    ///     sum
    /// });
    /// assert_eq!(gathered.join().unwrap(), 60);
    /// ```
    pub fn join_next_async(&mut self) -> JoinNext<'_, T> {
        JoinNext { set: self }
    }

    /// The same future as [`join_next_async`](Self::join_next_async), under
    /// the name a stream user reaches for: `while let Some(r) =
    /// set.next().await`.
    ///
    /// A `TaskSet` is not an `Iterator`: its `next` is awaited, not called
    /// in a `for` loop (the blocking form is [`join_next`](Self::join_next)).
    ///
    /// # Examples
    ///
    /// ```
    /// let mut set: taskpool::TaskSet<u32> = [taskpool::Task::ready(7)].into_iter().collect();
    /// let first = taskpool::block_on(set.next());
    /// assert_eq!(first.unwrap().unwrap(), 7);
    /// assert!(taskpool::block_on(set.next()).is_none());
    /// ```
    #[allow(clippy::should_implement_trait)] // an async `next`, as on a stream
    pub fn next(&mut self) -> JoinNext<'_, T> {
        self.join_next_async()
    }

    /// The tasks in the set: running, queued, or finished with a result not
    /// taken yet.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut set = taskpool::TaskSet::new();
    /// set.insert(taskpool::Task::ready(1));
    /// assert_eq!(set.len(), 1);
    /// set.join_next();
    /// assert_eq!(set.len(), 0);
    /// ```
    pub fn len(&self) -> usize {
        let state = self.shared.state.lock();
        state.in_flight + state.ready.len()
    }

    /// `true` when [`len`](Self::len) is zero.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(taskpool::TaskSet::<()>::new().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Cancels every task in the set (as [`Task::cancel`] does); they stay in
    /// the set, and `join_next` returns each one's result: cancelled, or its
    /// value if it finished first.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut set = taskpool::TaskSet::new();
    /// set.spawn_async(std::future::pending::<()>());
    /// set.cancel_all();
    /// assert!(set.join_next().unwrap().unwrap_err().is_cancelled());
    /// assert!(set.join_next().is_none());
    /// ```
    pub fn cancel_all(&self) {
        let handles: Vec<CancelHandle> = {
            let state = self.shared.state.lock();
            state
                .slots
                .iter()
                .filter_map(|slot| match slot {
                    Slot::Held(task) => Some(task.cancel_handle()),
                    _ => None,
                })
                .collect()
        };
        // Outside the lock: cancelling may complete a task here, which runs
        // its waker, which takes the lock.
        for handle in handles {
            handle.cancel();
        }
    }
}

impl<T: Send + 'static> Default for TaskSet<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: Send + 'static> Drop for TaskSet<T> {
    fn drop(&mut self) {
        let (held, ready) = {
            let mut state = self.shared.state.lock();
            state.closed = true;
            let held: Vec<Task<T>> = state
                .slots
                .iter_mut()
                .filter_map(|slot| match std::mem::replace(slot, Slot::Free) {
                    Slot::Held(task) => Some(task),
                    _ => None,
                })
                .collect();
            state.in_flight = 0;
            (held, std::mem::take(&mut state.ready))
        };
        // Outside the lock, as in `cancel_all`; each handle then dropped, as
        // a dropped `Task` is (an unobserved panic reaches its pool).
        for task in held {
            task.cancel();
            drop(task);
        }
        drop(ready);
    }
}

impl<T: Send + 'static> FromIterator<Task<T>> for TaskSet<T> {
    /// A set of `tasks`: their results in completion order (.NET's
    /// `Task.WhenEach`).
    fn from_iter<I: IntoIterator<Item = Task<T>>>(tasks: I) -> Self {
        let mut set = TaskSet::new();
        set.extend(tasks);
        set
    }
}

impl<T: Send + 'static> Extend<Task<T>> for TaskSet<T> {
    fn extend<I: IntoIterator<Item = Task<T>>>(&mut self, tasks: I) {
        for task in tasks {
            self.insert(task);
        }
    }
}

impl<T: Send + 'static> fmt::Debug for TaskSet<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.shared.state.lock();
        f.debug_struct("TaskSet")
            .field("in_flight", &state.in_flight)
            .field("ready", &state.ready.len())
            .finish()
    }
}

/// The future of [`TaskSet::join_next_async`]: the next result in completion order, or
/// `None` once the set is empty.
#[must_use = "futures do nothing unless awaited"]
pub struct JoinNext<'a, T: Send + 'static> {
    set: &'a mut TaskSet<T>,
}

impl<T: Send + 'static> Future for JoinNext<'_, T> {
    type Output = Option<Result<T, TaskError>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut state = self.set.shared.state.lock();
        if let Some(task) = state.ready.pop_front() {
            drop(state);
            // Finished: `join` returns at once, and frees the task.
            return Poll::Ready(Some(task.join()));
        }
        if state.in_flight == 0 {
            return Poll::Ready(None);
        }
        if !state
            .waiter
            .as_ref()
            .is_some_and(|w| w.will_wake(cx.waker()))
        {
            state.waiter = Some(cx.waker().clone());
        }
        Poll::Pending
    }
}

impl<T: Send + 'static> fmt::Debug for JoinNext<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinNext").finish_non_exhaustive()
    }
}
