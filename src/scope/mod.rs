//! Scoped tasks: tasks that may borrow from the caller's stack, because the
//! scope that spawned them waits for all of them before it returns (std's
//! `thread::scope`, rayon's `scope`, on the pool's workers).
//!
//! ```text
//! scope(|s| body)                      the owner's frame
//! +-------------------------------------------------+
//! | Scope { latch: ScopeLatch }                     |  pending, done, owner's waker,
//! |                                                 |  first unobserved panic
//! +-------------------------------------------------+
//!    ^ s.spawn(f): pending += 1, one Box (task.rs) queued as a JobRef
//!    | each task, when it ended: pending -= 1
//! ```
//!
//! | file | what lives there |
//! |---|---|
//! | `mod.rs` | [`Scope`], `ThreadPool::scope`, [`scope()`], how the owner and joiners wait |
//! | `latch.rs` | `ScopeLatch`: the count, the owner's wake-up, the panic slot |
//! | `task.rs` | a scoped task's allocation and its handle, [`ScopedTask`] |
//!
//! # The latch
//!
//! `pending` counts the body and every task that has not ended. A task
//! *ends* once its closure ran and was dropped, and its result was handed
//! to its handle or disposed of (a panic nobody will join deposited in the
//! latch): after that it never touches the scope again.
//!
//! The body's share is `BODY`, a count far larger than the tasks that can
//! exist at once. Tasks the body spawns on its own thread (a loop in the
//! body: the common case) are counted in a plain owner-only counter, not in
//! `pending`, so that the spawn loop takes no atomic step on a line the
//! completers write; the body folds that count in when it ends. Until then
//! ending tasks may take `pending` below `BODY`, never to zero.
//!
//! | event | `pending` | then |
//! |---|---|---|
//! | scope starts | `BODY` | the body runs on the calling thread |
//! | `spawn` on the owner's thread while the body runs | (owner's counter +1) | |
//! | `spawn` from any other thread, or after the body | +1 | cannot be the step to 0: the spawner holds a count |
//! | a task ends | -1 | the step to 0 clones the owner's waker, sets `done`, wakes the owner |
//! | the body ends | -(`BODY` - owner's counter) | the step to 0: nothing to wait for; else the owner waits for `done` |
//!
//! Why the owner waits for `done` rather than for `pending == 0`: the task
//! that takes `pending` to zero still has to read the owner's waker, which
//! lives in the latch, on the owner's stack. `done` is set after that read;
//! only then may the owner return. The owner's wait re-checks `done` after
//! each wake-up, and every way it waits keeps a wake-up that arrives before
//! it parks (a worker's sleep protocol, a one-token parker), so a last task
//! that ends while the owner decides to park is never lost: the loom model
//! `models/scope.rs` pins that race.
//!
//! # A scoped task's state
//!
//! Three flags in one word (`task.rs`); the task's allocation is freed by
//! the handle, or by the completer when the handle is gone.
//!
//! | from | event | to | who owns the allocation after |
//! |---|---|---|---|
//! | 0 | the task ends | `DONE` | the handle |
//! | 0 | the handle is dropped | `HANDLE_GONE` | the completer (disposes, frees) |
//! | `DONE` | the handle is dropped | `DONE \| HANDLE_GONE` | the handle (disposes, frees at once) |
//! | 0 | `join` registers its waker | `WAITER` | shared; only the completer moves next |
//! | `WAITER` | the task ends | `WAITER \| DONE` | the handle (woken) |
//!
//! # Panics
//!
//! A task's panic is returned by `join` if its handle joins it; otherwise
//! (the handle was dropped, before or after the task ended) it is deposited
//! in the latch. When the last task ended, the scope re-raises the body's
//! panic if the body panicked, else the first deposited one; any other
//! deposited panic goes to the pool's panic handler, so none disappears
//! without trace. The scope never re-raises before every task ended.
//!
//! # Where the owner and a joiner wait
//!
//! The body runs on the calling thread; its spawns go to that worker's own
//! deque when it is a worker of the scope's pool, to the pool's injector
//! otherwise. Waiting (for the scope, or in `ScopedTask::join`):
//!
//! * a worker of the scope's pool runs the pool's queued work (its own deque
//!   first: the scope's tasks) until woken, so a scope on the only worker of
//!   a one-thread pool completes, and scopes nest;
//! * a worker of another pool serves its own pool meanwhile (rayon's
//!   cross-pool rule), through the pool's `with_thread_waker`;
//! * any other thread parks.

mod latch;
mod task;

pub use task::ScopedTask;

use crate::ThreadPool;
use crate::pool::{self, Registry, WorkerThread, with_thread_waker};
use crate::unwind;
use latch::ScopeLatch;
use std::fmt;
use std::marker::PhantomData;
use std::task::Waker;

/// A scope to spawn tasks that borrow from outside it; made by
/// [`ThreadPool::scope`] or [`scope()`], which wait for all its tasks.
///
/// Like std's `thread::Scope`: the body receives `s: &'scope Scope`, and
/// [`spawn`](Self::spawn)ed closures may capture `s` (it is `Copy`, being a
/// reference) to spawn more tasks into the same scope. (rayon passes the
/// scope to each task as an argument instead; here a task captures it.)
///
/// `'scope` is the lifetime of the scope itself, `'env` that of what its
/// tasks borrow: anything that outlives the scope.
///
/// # Examples
///
/// ```
/// use std::sync::atomic::{AtomicUsize, Ordering};
///
/// let pool = taskpool::ThreadPool::new(2);
/// let visited = AtomicUsize::new(0);
/// pool.scope(|s| {
///     for _ in 0..4 {
///         s.spawn(|| {
///             // A task spawns into the same scope through the captured `s`.
///             s.spawn(|| visited.fetch_add(1, Ordering::Relaxed));
///             visited.fetch_add(1, Ordering::Relaxed);
///         });
///     }
/// });
/// // The scope waited for the children's children too.
/// assert_eq!(visited.load(Ordering::Relaxed), 8);
/// ```
pub struct Scope<'scope, 'env: 'scope> {
    latch: ScopeLatch,
    /// Invariant in `'scope`, as std's: otherwise a longer-lived scope
    /// reference could be shrunk to accept a task that borrows too little.
    scope: PhantomData<&'scope mut &'scope ()>,
    env: PhantomData<&'env mut &'env ()>,
}

impl<'scope> Scope<'scope, '_> {
    /// Runs `f` on the scope's pool and returns a handle to its result.
    ///
    /// `f` may borrow anything that outlives the scope, and may capture the
    /// scope (`s`) to spawn more tasks into it. Called on a worker of the
    /// scope's pool, the task goes on that worker's own deque; otherwise on
    /// the pool's injector. If the pool was shut down (and this is not one
    /// of its workers), `f` runs here, before `spawn` returns.
    ///
    /// Dropping the handle leaves the task to the scope: the scope still
    /// waits for it, and re-raises its panic if nobody joined it.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = taskpool::ThreadPool::new(2);
    /// let mut halves = [vec![1, 2], vec![3, 4]];
    /// pool.scope(|s| {
    ///     for half in halves.iter_mut() {
    ///         s.spawn(move || half.iter_mut().for_each(|x| *x *= 10));
    ///     }
    /// });
    /// assert_eq!(halves, [vec![10, 20], vec![30, 40]]);
    /// ```
    ///
    /// A value that is not `Send` cannot cross into a task:
    ///
    /// ```compile_fail,E0277
    /// let pool = taskpool::ThreadPool::new(1);
    /// let shared = std::rc::Rc::new(5);
    /// pool.scope(|s| {
    ///     s.spawn(|| *shared + 1);
    /// });
    /// ```
    pub fn spawn<F, T>(&'scope self, f: F) -> ScopedTask<'scope, T>
    where
        F: FnOnce() -> T + Send + 'scope,
        T: Send + 'scope,
    {
        task::spawn(&self.latch, f)
    }
}

impl fmt::Debug for Scope<'_, '_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Scope").finish_non_exhaustive()
    }
}

/// Structured: scopes.
impl ThreadPool {
    /// Runs `body` with a [`Scope`] whose tasks run on this pool and may
    /// borrow from the caller, and returns `body`'s result once every task
    /// spawned in the scope (by the body or by its tasks) has ended.
    ///
    /// Like std's `thread::scope` (the body runs on the calling thread and
    /// need not be `Send`), with the pool's workers in place of new threads;
    /// like `rayon::scope`, except that a task captures `s` to spawn more
    /// (see [`Scope`]) and [`Scope::spawn`] returns a [`ScopedTask`] that
    /// gives back the task's value.
    ///
    /// While it waits, the calling thread takes part when it is one of this
    /// pool's workers (it runs queued work, the scope's tasks among it), so
    /// a scope on the only worker of a one-thread pool, or nested in a
    /// scoped task, completes; a worker of another pool keeps serving its
    /// own pool; any other thread blocks.
    ///
    /// # Panics
    ///
    /// Only after every task of the scope has ended: with the body's panic
    /// if the body panicked, otherwise with the first panic of a task that
    /// no [`ScopedTask::join`] observed. Other unobserved panics go to the
    /// pool's panic handler. The pool keeps serving either way.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = taskpool::ThreadPool::new(2);
    /// let mut values = vec![1_u64; 1000];
    /// let total = pool.scope(|s| {
    ///     let tasks: Vec<_> = values
    ///         .chunks_mut(100)
    ///         .map(|chunk| {
    ///             s.spawn(move || {
    ///                 chunk.iter_mut().for_each(|x| *x *= 2);
    ///                 chunk.iter().sum::<u64>()
    ///             })
    ///         })
    ///         .collect();
    ///     tasks.into_iter().map(|t| t.join().unwrap()).sum::<u64>()
    /// });
    /// assert_eq!(total, 2000);
    /// assert!(values.iter().all(|&x| x == 2));
    /// ```
    ///
    /// A handle cannot escape its scope, returned or stored outside it:
    ///
    /// ```compile_fail
    /// let pool = taskpool::ThreadPool::new(1);
    /// let handle = pool.scope(|s| s.spawn(|| 1));
    /// handle.join().unwrap();
    /// ```
    ///
    /// ```compile_fail,E0521
    /// let pool = taskpool::ThreadPool::new(1);
    /// let mut kept = Vec::new();
    /// pool.scope(|s| {
    ///     kept.push(s.spawn(|| 1));
    /// });
    /// ```
    ///
    /// A task cannot borrow what the body owns (the body may return before
    /// the task runs); it may move it in instead:
    ///
    /// ```compile_fail,E0373
    /// let pool = taskpool::ThreadPool::new(1);
    /// pool.scope(|s| {
    ///     let local = vec![1, 2, 3];
    ///     s.spawn(|| local.len());
    /// });
    /// ```
    pub fn scope<'env, F, R>(&self, body: F) -> R
    where
        F: for<'scope> FnOnce(&'scope Scope<'scope, 'env>) -> R,
    {
        scope_on(self.registry(), body)
    }
}

/// Runs `body` with a [`Scope`] on the current worker's pool, or, on any
/// other thread, on the global pool; see [`ThreadPool::scope`].
///
/// Inside [`ThreadPool::install`] the current worker's pool is the
/// installed one.
///
/// # Panics
///
/// As [`ThreadPool::scope`]: after every task ended, with the body's panic
/// or the first panic nobody joined.
///
/// # Examples
///
/// ```
/// let words = ["scoped", "tasks", "borrow"];
/// let lengths = taskpool::scope(|s| {
///     let tasks: Vec<_> = words.iter().map(|w| s.spawn(move || w.len())).collect();
///     tasks.into_iter().map(|t| t.join().unwrap()).collect::<Vec<_>>()
/// });
/// assert_eq!(lengths, [6, 5, 6]);
/// ```
pub fn scope<'env, F, R>(body: F) -> R
where
    F: for<'scope> FnOnce(&'scope Scope<'scope, 'env>) -> R,
{
    pool::current_or_global(|registry| scope_on(registry, body))
}

/// The scope on `registry`'s pool: run the body here, release its count,
/// wait for the tasks, then return or re-raise.
fn scope_on<'env, F, R>(registry: &Registry, body: F) -> R
where
    F: for<'scope> FnOnce(&'scope Scope<'scope, 'env>) -> R,
{
    with_waiter(registry, |waker, wait_until| {
        let scope = Scope {
            latch: ScopeLatch::new(registry, waker.clone()),
            scope: PhantomData,
            env: PhantomData,
        };
        let result = unwind::catch(|| body(&scope));
        // From here until the last task ended, tasks use `scope` on this
        // frame: a panic of ours in between must not unwind it away.
        let guard = unwind::AbortIfPanic("scope: its frame would end while its tasks still run");
        if !scope.latch.body_ended() {
            wait_until(&|| scope.latch.is_done());
        }
        guard.disarm();
        match result {
            Err(body_panic) => std::panic::resume_unwind(scope.latch.prefer_body_panic(body_panic)),
            Ok(value) => match scope.latch.take_panic() {
                Some(task_panic) => std::panic::resume_unwind(task_panic),
                None => value,
            },
        }
    })
}

/// Runs `f` with a waker for this thread's wait and a way to wait until a
/// condition holds, that condition being made true only by someone who
/// then wakes the waker.
///
/// On a worker of `registry`'s pool, waiting runs the pool's queued work
/// (`WorkerThread::wait_until`); elsewhere it is the pool's
/// `with_thread_waker` wait (a worker of another pool serves its own pool,
/// any other thread parks).
fn with_waiter<R>(
    registry: &Registry,
    f: impl FnOnce(&Waker, &dyn Fn(&dyn Fn() -> bool)) -> R,
) -> R {
    let mut f = Some(f);
    let on_own_worker = WorkerThread::with_current(|worker| match worker {
        Some(worker) if worker.belongs_to(registry) => {
            let f = f.take().expect("called once");
            Some(f(worker.waker(), &|done| worker.wait_until(done)))
        }
        _ => None,
    });
    match on_own_worker {
        Some(result) => result,
        None => with_thread_waker(|parking, waker| {
            let f = f.take().expect("called once");
            f(waker, &|done| {
                while !done() {
                    parking.park();
                }
            })
        }),
    }
}
