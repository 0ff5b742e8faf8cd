//! taskpool level 1: `execute` and nothing else, so no result handles, no
//! fork-join and no futures.

use crate::harness::contender::{Contender, Local, Role, Unsupported};

/// A `taskpool::ThreadPool` used through level 1 only.
#[derive(Debug)]
pub struct TaskpoolL1(taskpool::ThreadPool);

/// `taskpool::execute`: on a worker it pushes on that worker's own deque.
#[derive(Debug, Clone, Copy)]
pub struct CurrentWorker;

impl Local for CurrentWorker {
    fn execute<F>(&self, job: F)
    where
        F: FnOnce() + Send + 'static,
    {
        taskpool::execute(job);
    }
}

impl Contender for TaskpoolL1 {
    const NAME: &'static str = "taskpool L1";
    const ROLE: Role = Role::Ours;

    fn start(threads: usize) -> Self {
        Self(taskpool::ThreadPool::new(threads))
    }

    fn execute<F>(&self, job: F)
    where
        F: FnOnce() + Send + 'static,
    {
        self.0.execute(job);
    }

    type Local = CurrentWorker;
    fn local(&self) -> CurrentWorker {
        CurrentWorker
    }

    type Handles = Unsupported;
    fn handles(&self) -> Option<&Unsupported> {
        None
    }

    type Join = Unsupported;
    fn fork_join(&self) -> Option<Unsupported> {
        None
    }

    type Async = Unsupported;
    fn async_spawn(&self) -> Option<Unsupported> {
        None
    }
}
