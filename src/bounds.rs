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
//! fn assert_send<T: Send>() {}
//! assert_send::<taskpool::Task<std::rc::Rc<u8>>>();
//! ```
//!
//! A task's closure must be `Send` and `'static`, like a job.
//!
//! ```compile_fail
//! let pool = taskpool::ThreadPool::new(1);
//! let shared = std::rc::Rc::new(1);
//! let task = pool.spawn(move || *shared);
//! ```
//!
//! ```compile_fail
//! let pool = taskpool::ThreadPool::new(1);
//! let local = 7;
//! let task = pool.spawn(|| local + 1);
//! ```
//!
//! The output of an async task must be `Send`.
//!
//! ```compile_fail
//! let pool = taskpool::ThreadPool::new(1);
//! let task = pool.spawn_async(async { std::rc::Rc::new(1) });
//! ```
//!
//! A continuation runs on the pool: it must be `Send`, and so must its output.
//!
//! ```compile_fail
//! let pool = taskpool::ThreadPool::new(1);
//! let shared = std::rc::Rc::new(1);
//! let next = pool.spawn(|| 1).then(move |_| *shared);
//! ```
//!
//! A cancellation callback runs on whichever thread cancels.
//!
//! ```compile_fail
//! let token = taskpool::CancellationToken::new();
//! let shared = std::rc::Rc::new(1);
//! let registration = token.register(move || drop(shared));
//! ```
//!
//! The two halves of `join` may run at once: they cannot both mutate the
//! same data.
//!
//! ```compile_fail
//! let mut values = Vec::new();
//! taskpool::join(|| values.push(1), || values.push(2));
//! ```
//!
//! Hooks and the panic handler are shared by every worker: `Sync`.
//!
//! ```compile_fail
//! let count = std::cell::Cell::new(0);
//! let pool = taskpool::ThreadPool::builder()
//!     .on_thread_start(move |_| count.set(count.get() + 1))
//!     .build();
//! ```
//!
//! `cancelled()` borrows its token: it cannot be sent off as a `'static`
//! task while the token is a local.
//!
//! ```compile_fail
//! let pool = taskpool::ThreadPool::new(1);
//! let token = taskpool::CancellationToken::new();
//! let task = pool.spawn_async(token.cancelled());
//! ```
//!
//! `Timeout` projects its pin to the future inside: it is `Unpin` only if
//! that future is.
//!
//! ```compile_fail
//! use std::marker::PhantomPinned;
//! struct Pinned(PhantomPinned);
//! impl std::future::Future for Pinned {
//!     type Output = ();
//!     fn poll(self: std::pin::Pin<&mut Self>, _: &mut std::task::Context<'_>) -> std::task::Poll<()> {
//!         std::task::Poll::Ready(())
//!     }
//! }
//! let mut limited = taskpool::timeout(std::time::Duration::from_secs(1), Pinned(PhantomPinned));
//! let pinned = std::pin::Pin::new(&mut limited);
//! ```
//!
//! The same programs with the bounds met compile, and the handles are
//! `Send + Sync`; a `Task` is `Unpin` whatever its output:
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
//!
//! fn send_sync<T: Send + Sync>() {}
//! fn unpin<T: Unpin>() {}
//! send_sync::<taskpool::ThreadPool>();
//! send_sync::<taskpool::CancellationToken>();
//! send_sync::<taskpool::Task<u32>>();
//! unpin::<taskpool::Task<std::marker::PhantomPinned>>();
//! ```
