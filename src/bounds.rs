//! Compile-fail doctests: each soundness-bearing bound of the public API is
//! shown to reject the program it exists to reject. (This module holds no
//! code; `cargo test --doc` runs the examples below.)
//!
//! A job must be `Send`: it runs on another thread.
//!
//! ```compile_fail
//! let pool = taskpool::ThreadPool::new(1);
//! let shared = std::rc::Rc::new(1);
//! pool.execute(move || drop(shared));
//! ```
//!
//! A job must be `'static`: it may run after the caller's frame is gone.
//!
//! ```compile_fail
//! let pool = taskpool::ThreadPool::new(1);
//! let local = String::from("borrowed");
//! pool.execute(|| println!("{local}"));
//! ```
//!
//! A task's output must be `Send`: it crosses to the thread that joins.
//!
//! ```compile_fail
//! let pool = taskpool::ThreadPool::new(1);
//! let task = pool.spawn(|| std::rc::Rc::new(1));
//! ```
//!
//! A future must be `Send`: it is polled on any worker, and may move
//! between them at every `.await`.
//!
//! ```compile_fail
//! let pool = taskpool::ThreadPool::new(1);
//! let task = pool.spawn_async(async {
//!     let local = std::rc::Rc::new(1);
//!     taskpool::yield_now().await;
//!     *local
//! });
//! ```
//!
//! A future given to `spawn_async` must be `'static`, like a job.
//!
//! ```compile_fail
//! let pool = taskpool::ThreadPool::new(1);
//! let local = vec![1, 2, 3];
//! let task = pool.spawn_async(async { local.len() });
//! ```
//!
//! `join` may borrow, but what both halves share must be `Sync`: they may
//! run on two threads at once.
//!
//! ```compile_fail
//! let counter = std::cell::Cell::new(0);
//! taskpool::join(|| counter.set(1), || counter.set(2));
//! ```
//!
//! A `Task` is `Send` only if its output is.
//!
//! ```compile_fail
//! fn assert_send<T: Send>(_: T) {}
//! fn handle() -> taskpool::Task<std::rc::Rc<u8>> {
//!     unimplemented!()
//! }
//! assert_send(handle());
//! ```
//!
//! The same programs with the bounds met compile:
//!
//! ```
//! let pool = taskpool::ThreadPool::new(1);
//! let shared = std::sync::Arc::new(1);
//! pool.execute(move || drop(shared));
//! let counter = std::sync::atomic::AtomicUsize::new(0);
//! taskpool::join(
//!     || counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
//!     || counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
//! );
//! assert_eq!(counter.into_inner(), 2);
//! ```
