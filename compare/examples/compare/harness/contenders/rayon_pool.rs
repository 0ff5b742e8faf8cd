//! rayon: `ThreadPool::spawn` for fire-and-forget, `rayon::join` for
//! fork-join. `spawn` hands back no result.

use crate::harness::contender::{Contender, ForkJoin, Local, Role, Unsupported};

/// A `rayon::ThreadPool` of its own (not the global one).
#[derive(Debug)]
pub struct Rayon(pub rayon::ThreadPool);

/// `rayon::spawn` and `rayon::join`: on a worker they use that worker's pool.
#[derive(Debug, Clone, Copy)]
pub struct CurrentWorker;

impl Local for CurrentWorker {
    fn execute<F>(&self, job: F)
    where
        F: FnOnce() + Send + 'static,
    {
        rayon::spawn(job);
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
        rayon::join(a, b)
    }
}

impl Contender for Rayon {
    const NAME: &'static str = "rayon";
    const ROLE: Role = Role::Peer;

    fn start(threads: usize) -> Self {
        match rayon::ThreadPoolBuilder::new().num_threads(threads).build() {
            Ok(pool) => Self(pool),
            Err(error) => panic!("cannot start a rayon pool of {threads} threads: {error}"),
        }
    }

    fn execute<F>(&self, job: F)
    where
        F: FnOnce() + Send + 'static,
    {
        self.0.spawn(job);
    }

    type Local = CurrentWorker;
    fn local(&self) -> CurrentWorker {
        CurrentWorker
    }

    type Handles = Unsupported;
    fn handles(&self) -> Option<&Unsupported> {
        None
    }

    type Join = CurrentWorker;
    fn fork_join(&self) -> Option<CurrentWorker> {
        Some(CurrentWorker)
    }

    type Async = Unsupported;
    fn async_spawn(&self) -> Option<Unsupported> {
        None
    }
}
