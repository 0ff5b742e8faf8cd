//! Task combinators: many tasks waited for as one, and a long chain of
//! continuations.
//!
//! Only taskpool's level 2 and tokio combine tasks, so each function finds
//! out which contender it was given (by type) and calls that library's own
//! API, from one thread outside the pool, as its users would; every other
//! column is n/a. Each function checks the answer.
//!
//! | function | taskpool L2 | tokio |
//! |---|---|---|
//! | [`when_all`] | `taskpool::when_all` over the `Task`s, then `join` | a `JoinSet` (`spawn_on`), then `join_all` in `block_on` |
//! | [`then_chain`] | `Task::then` on the previous task's `Task` | a spawned task that awaits the previous `JoinHandle` |
//!
//! The tokio side is what its documentation shows for the same job: a
//! `JoinSet` "to await the completion of some or all of the tasks", and a
//! `JoinHandle` awaited by the task that needs its value. The chain is built
//! in a loop, each link holding only the handle of the one before, so no
//! stack grows with its length.

use super::Unmeasured::{self, NotApplicable};
use super::spawn_join;
use crate::harness::contender::Contender;
use crate::harness::contenders::{TaskpoolL1, TaskpoolL2, Tokio};
use std::any::Any;
use std::time::{Duration, Instant};

/// The library under a contender, when it combines tasks.
enum Library<'a> {
    Taskpool(&'a taskpool::ThreadPool),
    Tokio(&'a tokio::runtime::Runtime),
}

fn library<C: Contender>(pool: &C) -> Result<Library<'_>, Unmeasured> {
    let any: &dyn Any = pool;
    if let Some(ours) = any.downcast_ref::<TaskpoolL2>() {
        return Ok(Library::Taskpool(&ours.0));
    }
    if let Some(tokio) = any.downcast_ref::<Tokio>() {
        return Ok(Library::Tokio(&tokio.0));
    }
    if C::NAME == TaskpoolL1::NAME {
        return Err(NotApplicable("combinators are level 2: they combine Tasks"));
    }
    Err(NotApplicable("no task handles to combine"))
}

/// Spawns `tasks` tasks that each return their index, from this thread,
/// and waits for all of them as one; the time from the first spawn to the
/// last value.
///
/// # Errors
///
/// [`NotApplicable`] for a contender without task combinators.
///
/// # Panics
///
/// If a value went missing or a task failed.
pub fn when_all<C: Contender>(pool: &C, tasks: usize) -> Result<Duration, Unmeasured> {
    let library = library(pool)?;
    let started = Instant::now();
    let values = match library {
        Library::Taskpool(pool) => {
            let all = taskpool::when_all((0..tasks).map(|index| pool.spawn(move || index)));
            all.join()
                .unwrap_or_else(|error| panic!("a benchmark task failed: {error}"))
        }
        Library::Tokio(runtime) => {
            let mut set = tokio::task::JoinSet::new();
            for index in 0..tasks {
                set.spawn_on(async move { index }, runtime.handle());
            }
            runtime.block_on(set.join_all())
        }
    };
    let elapsed = started.elapsed();
    assert_eq!(values.len(), tasks, "{}: values went missing", C::NAME);
    assert_eq!(
        values.iter().sum::<usize>(),
        spawn_join::expected_sum(tasks),
        "{}: wrong values",
        C::NAME
    );
    Ok(elapsed)
}

/// One task that returns 0, then `steps` continuations each adding one to
/// the value before it, all queued from this thread; the time until the
/// last one's value is back.
///
/// # Errors
///
/// As [`when_all`].
///
/// # Panics
///
/// If the chain's value is wrong or a task failed.
pub fn then_chain<C: Contender>(pool: &C, steps: usize) -> Result<Duration, Unmeasured> {
    let library = library(pool)?;
    let started = Instant::now();
    let value = match library {
        Library::Taskpool(pool) => {
            let mut task = pool.spawn(|| 0_usize);
            for _ in 0..steps {
                task = task.then(|value| {
                    value.unwrap_or_else(|error| panic!("a benchmark task failed: {error}")) + 1
                });
            }
            task.join()
                .unwrap_or_else(|error| panic!("a benchmark task failed: {error}"))
        }
        Library::Tokio(runtime) => {
            let mut handle = runtime.spawn(async { 0_usize });
            for _ in 0..steps {
                let previous = handle;
                handle = runtime.spawn(async move {
                    previous
                        .await
                        .unwrap_or_else(|error| panic!("a benchmark task failed: {error}"))
                        + 1
                });
            }
            runtime
                .block_on(handle)
                .unwrap_or_else(|error| panic!("a benchmark task failed: {error}"))
        }
    };
    let elapsed = started.elapsed();
    assert_eq!(value, steps, "{}: wrong value at the chain's end", C::NAME);
    Ok(elapsed)
}
