//! The threadpool crate: one shared channel that every worker receives
//! from, and `execute` only.

use crate::harness::contender::{Contender, Local, Role, Unsupported};

/// A `threadpool::ThreadPool`; dropping it lets the workers finish and exit.
#[derive(Debug)]
pub struct Threadpool(threadpool::ThreadPool);

/// The crate has no "current pool": jobs that submit carry a clone of it,
/// as its users do.
impl Local for threadpool::ThreadPool {
    fn execute<F>(&self, job: F)
    where
        F: FnOnce() + Send + 'static,
    {
        threadpool::ThreadPool::execute(self, job);
    }
}

impl Contender for Threadpool {
    const NAME: &'static str = "threadpool";
    const ROLE: Role = Role::Peer;

    fn start(threads: usize) -> Self {
        Self(threadpool::ThreadPool::new(threads))
    }

    fn execute<F>(&self, job: F)
    where
        F: FnOnce() + Send + 'static,
    {
        self.0.execute(job);
    }

    type Local = threadpool::ThreadPool;
    fn local(&self) -> threadpool::ThreadPool {
        self.0.clone()
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
