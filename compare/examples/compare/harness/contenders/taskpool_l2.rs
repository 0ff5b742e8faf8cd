//! taskpool level 2: every job is a task with a `Task<T>` handle
//! (`ThreadPool::spawn`, `spawn_async`, `taskpool::join`), on the same
//! queues and workers as level 1.

use crate::harness::contender::{AsyncSpawn, Contender, ForkJoin, Local, Role, SpawnHandles};
use std::future::Future;

/// A taskpool pool, driven through its level-2 API.
pub struct TaskpoolL2(pub taskpool::ThreadPool);

/// The pool the calling worker belongs to: `taskpool::spawn`, `join` and
/// `spawn_async` find it through the current thread.
#[derive(Debug, Clone, Copy)]
pub struct CurrentWorker;

impl Local for CurrentWorker {
    fn execute<F>(&self, job: F)
    where
        F: FnOnce() + Send + 'static,
    {
        // A detached task: level 2's fire-and-forget.
        drop(taskpool::spawn(job));
    }
}

impl ForkJoin for CurrentWorker {
    fn join<A, B, RA, RB>(self, a: A, b: B) -> (RA, RB)
    where
        A: FnOnce() -> RA + Send,
        B: FnOnce() -> RB + Send,
        RA: Send,
        RB: Send,
    {
        taskpool::join(a, b)
    }
}

impl AsyncSpawn for CurrentWorker {
    fn spawn<F>(self, future: F) -> impl Future<Output = F::Output> + Send + 'static
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        // Queued now; the returned future only waits for it.
        let task = taskpool::spawn_async(future);
        async move {
            task.await
                .unwrap_or_else(|error| panic!("a benchmark task failed: {error}"))
        }
    }

    fn yield_now(self) -> impl Future<Output = ()> + Send {
        taskpool::yield_now()
    }
}

impl SpawnHandles for TaskpoolL2 {
    type Handle<T: Send + 'static> = taskpool::Task<T>;

    fn spawn<T, F>(&self, f: F) -> taskpool::Task<T>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        self.0.spawn(f)
    }

    fn join_all<T: Send + 'static>(
        &self,
        handles: Vec<taskpool::Task<T>>,
        mut each: impl FnMut(T),
    ) {
        for task in handles {
            each(
                task.join()
                    .unwrap_or_else(|error| panic!("a benchmark task failed: {error}")),
            );
        }
    }
}

impl Contender for TaskpoolL2 {
    const NAME: &'static str = "taskpool L2";
    const ROLE: Role = Role::Ours;

    fn start(threads: usize) -> Self {
        Self(taskpool::ThreadPool::new(threads))
    }

    fn execute<F>(&self, job: F)
    where
        F: FnOnce() + Send + 'static,
    {
        drop(self.0.spawn(job));
    }

    type Local = CurrentWorker;
    fn local(&self) -> CurrentWorker {
        CurrentWorker
    }

    type Handles = Self;
    fn handles(&self) -> Option<&Self> {
        Some(self)
    }

    type Join = CurrentWorker;
    fn fork_join(&self) -> Option<CurrentWorker> {
        Some(CurrentWorker)
    }

    type Async = CurrentWorker;
    fn async_spawn(&self) -> Option<CurrentWorker> {
        Some(CurrentWorker)
    }
}
