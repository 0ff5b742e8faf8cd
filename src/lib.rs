//! A work-stealing thread pool with two levels on the same queues.
//!
//! | level | like in .NET | call | what you get back |
//! |---|---|---|---|
//! | 1, the pool | `ThreadPool.QueueUserWorkItem` | [`ThreadPool::execute`] | nothing: fire and forget |
//! | 2, tasks | `Task.Run`, `await`, `ContinueWith` | `ThreadPool::spawn` | a `Task<T>` |
//!
//! ```
//! use std::sync::Arc;
//! use std::sync::atomic::{AtomicUsize, Ordering};
//!
//! let pool = taskpool::ThreadPool::new(4);
//! let hits = Arc::new(AtomicUsize::new(0));
//! for _ in 0..1000 {
//!     let hits = hits.clone();
//!     pool.execute(move || {
//!         hits.fetch_add(1, Ordering::Relaxed);
//!     });
//! }
//! pool.shutdown();
//! assert_eq!(hits.load(Ordering::Relaxed), 1000);
//! ```

mod error;
mod pool;
mod sync;
mod unwind;

pub use error::{BuildError, BuildErrorKind};
pub use pool::{Builder, ExecuteError, MAX_THREADS, Metrics, ThreadPool, execute};
