//! The one small trait every pool under test implements, and the optional
//! capabilities a workload may ask it for.
//!
//! Every workload is written once, generic over `C: Contender`, like the
//! benchmarks of parking_lot. What all pools can do is a plain method
//! ([`Contender::execute`], [`Local::execute`]). What only some can do is a
//! capability the workload asks for and may be refused:
//!
//! | capability | asked with | who has it today |
//! |---|---|---|
//! | spawn with a result handle, from outside | [`Contender::handles`] | taskpool L2, tokio |
//! | fork-join `join(a, b)`, on a worker | [`Contender::fork_join`] | taskpool L2, rayon |
//! | spawn a future and await it, on a worker | [`Contender::async_spawn`] | taskpool L2, tokio |
//!
//! The structured, blocking, latency and combinator rows
//! (`workloads/scope.rs`, `loops.rs`, `blocking.rs`, `latency.rs`,
//! `combinators.rs`) compare taskpool with the one peer that has the same
//! thing (rayon's `scope` and parallel iterators, tokio's `spawn_blocking`,
//! timers, `JoinSet` and awaited `JoinHandle`s): they tell the contenders
//! apart by type instead of asking a capability, and print "n/a" for the
//! others; so does `fork_join::fib_tasks` for level 2's task per fork.
//! taskpool's task sets, promises, cancel handles and bounded queues are
//! not measured here.
//!
//! A contender without a capability names [`Unsupported`] as its type and
//! returns `None`; `Unsupported` is an empty enum, so the types prove that
//! no workload ever runs a capability a contender lacks. The workload then
//! falls back to a plain equivalent that it labels (a channel instead of a
//! handle, say), or reports "n/a".
//!
//! # Adding a contender
//!
//! One module in `contenders/` with a type that implements [`Contender`]
//! (and the capability traits it has, usually on `Self` or on a zero-sized
//! token), plus one line in [`contenders::for_each`](super::contenders::for_each).
//! taskpool's level 2 comes in exactly like that: `spawn` and `Task::join`
//! give [`SpawnHandles`], `taskpool::join` gives [`ForkJoin`], `spawn_async`
//! and `yield_now` give [`AsyncSpawn`].

use std::future::Future;

/// Whose pool this is: ours get a "vs best peer" ratio column, peers set
/// the bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// A taskpool level.
    Ours,
    /// Another crate, measured for comparison.
    Peer,
}

/// A thread pool under test.
///
/// A workload builds one with [`start`](Self::start), runs on it, and drops
/// it; dropping it must stop its threads. Methods without `&self` in the
/// capability traits reach "the pool this code runs on" through the
/// current thread, as `rayon::spawn` and `tokio::spawn` do; workloads only
/// call them from code that runs on the pool.
pub trait Contender: Sync + Sized + 'static {
    /// The column header, such as `"rayon"`.
    const NAME: &'static str;
    /// Ours or a peer's.
    const ROLE: Role;

    /// Starts a pool of `threads` worker threads.
    ///
    /// # Panics
    ///
    /// If the pool cannot start, with the library's own message.
    fn start(threads: usize) -> Self;

    /// Queues `job` from a thread outside the pool, fire-and-forget: the
    /// level-1 `execute`, `rayon::ThreadPool::spawn`, tokio's `spawn` with
    /// the handle dropped.
    fn execute<F>(&self, job: F)
    where
        F: FnOnce() + Send + 'static;

    /// How code running on the pool queues more jobs on it.
    type Local: Local;
    /// A [`Local`] for this pool, to move into the jobs that need it.
    fn local(&self) -> Self::Local;

    /// Spawning with a result handle from outside, if the pool has it.
    type Handles: SpawnHandles;
    /// `Some` if the pool hands back a handle for each spawned closure.
    fn handles(&self) -> Option<&Self::Handles>;

    /// Fork-join on the pool's workers, if the pool has it.
    type Join: ForkJoin;
    /// `Some` if the pool has a `join(a, b)` like `rayon::join`.
    fn fork_join(&self) -> Option<Self::Join>;

    /// Futures on the pool's workers, if the pool runs them.
    type Async: AsyncSpawn;
    /// `Some` if the pool spawns futures and lets them await each other.
    fn async_spawn(&self) -> Option<Self::Async>;
}

/// Queues fire-and-forget jobs from code running on the pool, on the pool
/// it runs on: a worker's own deque where the pool has one.
///
/// It is moved into jobs, so it is cheap to clone; a zero-sized token where
/// the library finds the pool through the current thread.
pub trait Local: Clone + Send + 'static {
    /// Queues `job` on the pool this code runs on. Only called on the pool.
    fn execute<F>(&self, job: F)
    where
        F: FnOnce() + Send + 'static;
}

/// Spawns closures from outside the pool and hands back a handle to join
/// each result.
pub trait SpawnHandles {
    /// What [`spawn`](Self::spawn) returns, such as `tokio::task::JoinHandle<T>`.
    type Handle<T: Send + 'static>: Send;

    /// Runs `f` on the pool and returns a handle to its result.
    fn spawn<T, F>(&self, f: F) -> Self::Handle<T>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static;

    /// Waits for every handle in order, passing each result to `each`: the
    /// way a user of this library joins many results.
    ///
    /// # Panics
    ///
    /// If a task panicked; benchmark tasks do not.
    fn join_all<T: Send + 'static>(&self, handles: Vec<Self::Handle<T>>, each: impl FnMut(T));
}

/// Fork-join on the workers of the pool the caller runs on, like
/// `rayon::join`. A zero-sized token.
pub trait ForkJoin: Copy + Send + Sync + 'static {
    /// Runs `a` and `b`, possibly in parallel, and returns both results.
    /// Only called on the pool.
    fn join<A, B, RA, RB>(self, a: A, b: B) -> (RA, RB)
    where
        A: FnOnce() -> RA + Send,
        B: FnOnce() -> RB + Send,
        RA: Send,
        RB: Send;
}

/// Futures on the pool the caller runs on, like `tokio::spawn`. A
/// zero-sized token.
pub trait AsyncSpawn: Copy + Send + Sync + 'static {
    /// Spawns `future` at once (not on first poll) and returns a future of
    /// its output; dropping that future detaches the task. Only called on
    /// the pool.
    ///
    /// The returned future panics if the task panicked; benchmark tasks do
    /// not.
    fn spawn<F>(self, future: F) -> impl Future<Output = F::Output> + Send + 'static
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static;

    /// Lets every other queued task run before the caller continues.
    fn yield_now(self) -> impl Future<Output = ()> + Send;
}

/// The type of a capability a contender does not have. It has no values,
/// so a contender can only answer `None` for it, and the methods below can
/// never run.
#[derive(Debug, Clone, Copy)]
pub enum Unsupported {}

impl SpawnHandles for Unsupported {
    type Handle<T: Send + 'static> = Unsupported;

    fn spawn<T, F>(&self, _: F) -> Unsupported
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        match *self {}
    }

    fn join_all<T: Send + 'static>(&self, _: Vec<Unsupported>, _: impl FnMut(T)) {
        match *self {}
    }
}

impl ForkJoin for Unsupported {
    fn join<A, B, RA, RB>(self, _: A, _: B) -> (RA, RB)
    where
        A: FnOnce() -> RA + Send,
        B: FnOnce() -> RB + Send,
        RA: Send,
        RB: Send,
    {
        match self {}
    }
}

impl AsyncSpawn for Unsupported {
    async fn spawn<F>(self, _: F) -> F::Output
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        match self {}
    }

    async fn yield_now(self) {
        match self {}
    }
}
