//! A work-stealing thread pool with two levels on the same queues.
//!
//! | level | like in .NET | call | what you get back |
//! |---|---|---|---|
//! | 1, the pool | `ThreadPool.QueueUserWorkItem` | [`ThreadPool::execute`] | nothing: fire and forget |
//! | 2, tasks | `Task.Run`, `await`, `ContinueWith` | [`ThreadPool::spawn`], [`ThreadPool::spawn_async`] | a [`Task<T>`] |
//!
//! Level 1 queues a closure and forgets it: the cheapest way to run work on
//! other threads. Level 2 returns a [`Task`] that gives the closure's result
//! or its panic, can be cancelled, continued with [`Task::then`], awaited, or
//! combined with [`when_all`] and [`when_any`]; [`spawn_async`] runs futures
//! on the same workers, with a timer ([`sleep`], [`timeout`]) that holds no
//! thread.
//!
//! ```
//! use std::sync::Arc;
//! use std::sync::atomic::{AtomicUsize, Ordering};
//!
//! let pool = taskpool::ThreadPool::new(4);
//!
//! // Level 1: fire and forget.
//! let hits = Arc::new(AtomicUsize::new(0));
//! for _ in 0..1000 {
//!     let hits = hits.clone();
//!     pool.execute(move || {
//!         hits.fetch_add(1, Ordering::Relaxed);
//!     });
//! }
//!
//! // Level 2: a result, or the panic that prevented it.
//! let answer = pool.spawn(|| 6 * 7);
//! assert_eq!(answer.join().unwrap(), 42);
//!
//! pool.shutdown(); // runs what is queued, then stops the workers
//! assert_eq!(hits.load(Ordering::Relaxed), 1000);
//! ```

/// The README's examples, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

mod bounds;
mod cancel;
mod error;
#[cfg(all(test, loom))]
mod models;
mod parallel;
mod pool;
mod runners;
mod scope;
mod sync;
mod task;
mod timer;
mod unwind;

pub use cancel::{
    CancellationRegistration, CancellationToken, RunUntilCancelled, WaitForCancellation,
    WaitForCancellationOwned,
};
pub use error::{BuildError, BuildErrorKind, Cancelled, TaskError, TimedOut};
pub use parallel::{LoopResult, LoopState, MapReduceInput, Parallel, ParallelSort};
pub use pool::{
    Builder, DEFAULT_BLOCKING_KEEP_ALIVE, DEFAULT_MAX_BLOCKING_THREADS, ExecuteError, MAX_THREADS,
    Metrics, ThreadPool, execute, join,
};
pub use scope::{Scope, ScopedTask, scope};
pub use task::{
    CancelHandle, JoinHandle, JoinNext, Promise, Task, TaskSet, YieldNow, block_on, execute_async,
    spawn, spawn_async, spawn_async_with_token, spawn_blocking, when_all, when_all_settled,
    when_any, yield_now,
};
pub use timer::{Sleep, Timeout, sleep, sleep_until, timeout};
