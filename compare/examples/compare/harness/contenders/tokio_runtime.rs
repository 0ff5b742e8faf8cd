//! tokio's multi-thread runtime: every job is a task (`spawn` + `await`;
//! `spawn_blocking` is a different pool and not what is compared). It has
//! result handles and futures, and no fork-join of closures.

use crate::harness::contender::{AsyncSpawn, Contender, Local, Role, SpawnHandles, Unsupported};
use std::future::Future;

/// A multi-thread tokio runtime with `threads` workers and a timer.
#[derive(Debug)]
pub struct Tokio(pub tokio::runtime::Runtime);

/// `tokio::spawn`: inside a task it spawns on that task's runtime.
#[derive(Debug, Clone, Copy)]
pub struct CurrentRuntime;

impl Local for CurrentRuntime {
    fn execute<F>(&self, job: F)
    where
        F: FnOnce() + Send + 'static,
    {
        drop(tokio::spawn(async move { job() }));
    }
}

impl AsyncSpawn for CurrentRuntime {
    fn spawn<F>(self, future: F) -> impl Future<Output = F::Output> + Send + 'static
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let handle = tokio::spawn(future);
        async move {
            handle
                .await
                .unwrap_or_else(|error| panic!("a benchmark task failed: {error}"))
        }
    }

    fn yield_now(self) -> impl Future<Output = ()> + Send {
        tokio::task::yield_now()
    }
}

impl SpawnHandles for Tokio {
    type Handle<T: Send + 'static> = tokio::task::JoinHandle<T>;

    fn spawn<T, F>(&self, f: F) -> tokio::task::JoinHandle<T>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        self.0.spawn(async move { f() })
    }

    fn join_all<T: Send + 'static>(
        &self,
        handles: Vec<tokio::task::JoinHandle<T>>,
        mut each: impl FnMut(T),
    ) {
        self.0.block_on(async {
            for handle in handles {
                match handle.await {
                    Ok(value) => each(value),
                    Err(error) => panic!("a benchmark task failed: {error}"),
                }
            }
        });
    }
}

impl Contender for Tokio {
    const NAME: &'static str = "tokio";
    const ROLE: Role = Role::Peer;

    fn start(threads: usize) -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(threads)
            .enable_time()
            .build();
        match runtime {
            Ok(runtime) => Self(runtime),
            Err(error) => panic!("cannot start a tokio runtime of {threads} threads: {error}"),
        }
    }

    fn execute<F>(&self, job: F)
    where
        F: FnOnce() + Send + 'static,
    {
        drop(self.0.spawn(async move { job() }));
    }

    type Local = CurrentRuntime;
    fn local(&self) -> CurrentRuntime {
        CurrentRuntime
    }

    type Handles = Self;
    fn handles(&self) -> Option<&Self> {
        Some(self)
    }

    type Join = Unsupported;
    fn fork_join(&self) -> Option<Unsupported> {
        None
    }

    type Async = CurrentRuntime;
    fn async_spawn(&self) -> Option<CurrentRuntime> {
        Some(CurrentRuntime)
    }
}
