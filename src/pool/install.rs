//! `pool.install(f)`: run a closure on one of the pool's workers, so that
//! the free functions inside it use that pool (rayon's `install`).
//!
//! The free functions (`taskpool::join`, `scope`, `spawn`, `execute`, ...)
//! use the current worker's pool, and the global pool on any other thread.
//! `install` is how a program points them at a pool of its own: the closure
//! is sent to one of the pool's workers as a fork-join stack job (see
//! `join.rs`), on the caller's stack, and the caller waits for it the way a
//! fork-join sent from outside waits: a thread outside every pool parks, a
//! worker of another pool keeps serving its own pool meanwhile.

use super::join::{Owner, StackJob, finish_one};
use super::park::with_thread_waker;
use super::{Registry, Submit, ThreadPool, WorkerThread};
use crate::unwind::AbortIfPanic;

/// Structured: running a closure inside the pool.
impl ThreadPool {
    /// Runs `f` on one of this pool's workers and returns its result, so
    /// that the free functions called inside `f` ([`join`](crate::join),
    /// [`scope`](crate::scope), [`spawn`](crate::spawn),
    /// [`execute`](crate::execute), ...) use this pool rather than the
    /// global one. rayon's `ThreadPool::install`.
    ///
    /// Called on one of this pool's own workers, `f` runs right here. From
    /// any other thread, `f` is queued on the pool and this thread waits
    /// for it: a thread outside every pool blocks, a worker of another pool
    /// keeps running its own pool's work meanwhile (so pools that install
    /// into each other complete). `f` may borrow from the caller.
    ///
    /// # Panics
    ///
    /// If `f` panics, with its panic, on this thread. If the pool was shut
    /// down and this is not one of its workers (`f` is then not run): like
    /// [`execute`](Self::execute), that is a programming error.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = taskpool::ThreadPool::builder()
    ///     .num_threads(2)
    ///     .thread_name(|i| format!("installed-{i}"))
    ///     .build()
    ///     .unwrap();
    /// let (name, sum) = pool.install(|| {
    ///     // `taskpool::join` here forks on `pool`, not on the global pool.
    ///     let (a, b) = taskpool::join(|| (1..=50).sum::<u32>(), || (51..=100).sum::<u32>());
    ///     (std::thread::current().name().map(String::from), a + b)
    /// });
    /// assert!(name.unwrap().starts_with("installed-"));
    /// assert_eq!(sum, 5050);
    /// ```
    pub fn install<F, R>(&self, f: F) -> R
    where
        F: FnOnce() -> R + Send,
        R: Send,
    {
        install_on(self.registry(), f)
    }
}

fn install_on<F, R>(registry: &Registry, f: F) -> R
where
    F: FnOnce() -> R + Send,
    R: Send,
{
    if WorkerThread::with_current(|worker| worker.is_some_and(|w| w.belongs_to(registry))) {
        return f();
    }
    with_thread_waker(|parking, waker| {
        let job = StackJob::new(f, Owner::Thread(waker.clone()));
        let guard =
            AbortIfPanic("install: a stack job left its frame while a worker could hold it");
        // SAFETY: `job` stays on this frame, which waits below until it is
        // done (a panic of ours meanwhile aborts), or gets it back refused
        // and never queued.
        let job_ref = unsafe { job.as_job_ref() };
        if registry.inject(job_ref, Submit::New).is_err() {
            guard.disarm();
            panic!("ThreadPool::install called on a pool that was shut down");
        }
        while !job.is_done() {
            parking.park();
        }
        guard.disarm();
        finish_one(job.take_result())
    })
}
