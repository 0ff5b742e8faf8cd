//! Fork-join: recursive Fibonacci and the sum of a binary tree, splitting
//! every call in two.
//!
//! A contender with `join(a, b)` uses it ([`ForkJoin`]); one with futures
//! spawns the left half and awaits it after computing the right half
//! ([`Via::SpawnAwait`], tokio's way); a contender with neither is n/a.
//! Without a cutoff, fib(25) is about 250 thousand joins of almost no work
//! each: the cost of one join is all that is measured. With a cutoff the
//! leaves are real work and the pool must spread it.
//!
//! [`fib_tasks`] forks with a `Task` instead: taskpool's level 2 spawns the
//! left half with `taskpool::spawn` and joins its handle after computing the
//! right half. Only level 2 has a task it can join on a worker, so it is
//! told apart by type; every other contender runs [`fib`] without a cutoff,
//! rayon with `join` ([`Via::Join`], the bar) and tokio as futures.

use super::Unmeasured::{self, NotApplicable};
use super::{Timed, Via, run_on};
use crate::harness::contender::{AsyncSpawn, Contender, ForkJoin};
use crate::harness::contenders::TaskpoolL2;
use crate::harness::sync::CountLatch;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::{Duration, Instant};

/// What the recursions return, boxed: an async recursion must box itself.
type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

/// `fib(n)`, split in two for every `n` at or above `serial_below`, serial
/// under it (2: no cutoff).
///
/// # Errors
///
/// [`NotApplicable`] for a contender with neither `join` nor futures.
///
/// # Panics
///
/// If the result is wrong.
pub fn fib<C: Contender>(pool: &C, n: u32, serial_below: u32) -> Result<Timed, Unmeasured> {
    let (timed, value) = split_on(
        pool,
        move |join| fib_join(join, n, serial_below),
        move |spawner| fib_async(spawner, n, serial_below),
    )?;
    assert_eq!(value, fib_serial(n), "{}: wrong fib({n})", C::NAME);
    Ok(timed)
}

/// `fib(n)` with a `Task` per fork and no cutoff, from a worker: level 2's
/// `taskpool::spawn` + `Task::join`; `join(a, b)` ([`Via::Join`]) or
/// futures for the other contenders.
///
/// # Errors
///
/// As [`fib`].
///
/// # Panics
///
/// If the result is wrong.
pub fn fib_tasks<C: Contender>(pool: &C, n: u32) -> Result<Timed, Unmeasured> {
    if C::NAME != TaskpoolL2::NAME {
        let timed = fib(pool, n, 2)?;
        return Ok(match timed.via {
            Via::Native => Timed {
                via: Via::Join,
                ..timed
            },
            _ => timed,
        });
    }
    let started = Instant::now();
    let value = run_on(pool, move || fib_task(n));
    let elapsed = started.elapsed();
    assert_eq!(value, fib_serial(n), "{}: wrong fib({n})", C::NAME);
    Ok(Timed::native(elapsed))
}

/// Sums a tree of `levels` levels, split in two at every node whose
/// subtree has more than `serial_levels` levels.
///
/// # Errors
///
/// As [`fib`].
///
/// # Panics
///
/// If the sum is wrong.
pub fn tree_sum<C: Contender>(
    pool: &C,
    levels: u32,
    serial_levels: u32,
) -> Result<Timed, Unmeasured> {
    let tree = Tree::shared(levels);
    let (timed, value) = split_on(
        pool,
        move |join| sum_join(join, tree, levels, serial_levels),
        move |spawner| sum_async(spawner, tree, levels, serial_levels),
    )?;
    assert_eq!(value, tree.sum_serial(), "{}: wrong tree sum", C::NAME);
    Ok(timed)
}

/// The serial baseline of [`fib`].
pub fn fib_serial_timed(n: u32) -> Duration {
    let started = Instant::now();
    std::hint::black_box(fib_serial(std::hint::black_box(n)));
    started.elapsed()
}

/// The serial baseline of [`tree_sum`].
pub fn tree_sum_serial_timed(levels: u32) -> Duration {
    let tree = Tree::shared(levels);
    let started = Instant::now();
    std::hint::black_box(tree.sum_serial());
    started.elapsed()
}

/// Runs a recursion on the pool, with `join` if the contender has it, else
/// as futures; the root starts on a worker, the clock covers it all.
fn split_on<C: Contender>(
    pool: &C,
    with_join: impl FnOnce(C::Join) -> u64 + Send + 'static,
    with_async: impl FnOnce(C::Async) -> BoxFuture<u64> + Send + 'static,
) -> Result<(Timed, u64), Unmeasured> {
    let started = Instant::now();
    if let Some(join) = pool.fork_join() {
        let value = run_on(pool, move || with_join(join));
        return Ok((Timed::native(started.elapsed()), value));
    }
    if let Some(spawner) = pool.async_spawn() {
        let value = block_on_pool(pool, spawner, with_async(spawner));
        let timed = Timed {
            elapsed: started.elapsed(),
            via: Via::SpawnAwait,
        };
        return Ok((timed, value));
    }
    Err(NotApplicable("no fork-join and no futures"))
}

/// Spawns `future` from a job on the pool and waits for its output.
fn block_on_pool<C, A, T>(
    pool: &C,
    spawner: A,
    future: impl Future<Output = T> + Send + 'static,
) -> T
where
    C: Contender,
    A: AsyncSpawn,
    T: Send + 'static,
{
    let output = Arc::new(Mutex::new(None));
    let latch = Arc::new(CountLatch::new(1));
    let (slot, done) = (output.clone(), latch.clone());
    pool.execute(move || {
        drop(spawner.spawn(async move {
            let value = future.await;
            *slot.lock().unwrap_or_else(PoisonError::into_inner) = Some(value);
            done.count_down();
        }));
    });
    latch.wait();
    let value = output.lock().unwrap_or_else(PoisonError::into_inner).take();
    value.unwrap_or_else(|| panic!("{}: the root task ended without a value", C::NAME))
}

fn fib_serial(n: u32) -> u64 {
    if n < 2 {
        u64::from(n)
    } else {
        fib_serial(n - 1) + fib_serial(n - 2)
    }
}

fn fib_join<J: ForkJoin>(join: J, n: u32, serial_below: u32) -> u64 {
    if n < serial_below.max(2) {
        return fib_serial(n);
    }
    let (left, right) = join.join(
        || fib_join(join, n - 1, serial_below),
        || fib_join(join, n - 2, serial_below),
    );
    left + right
}

/// The left half as a task on the current worker's pool, joined after the
/// right half (a join on a worker runs it inline if no one has started it).
fn fib_task(n: u32) -> u64 {
    if n < 2 {
        return u64::from(n);
    }
    let left = taskpool::spawn(move || fib_task(n - 1));
    let right = fib_task(n - 2);
    let left = left
        .join()
        .unwrap_or_else(|error| panic!("a benchmark task failed: {error}"));
    left + right
}

fn fib_async<A: AsyncSpawn>(spawner: A, n: u32, serial_below: u32) -> BoxFuture<u64> {
    Box::pin(async move {
        if n < serial_below.max(2) {
            return fib_serial(n);
        }
        let left = spawner.spawn(fib_async(spawner, n - 1, serial_below));
        let right = fib_async(spawner, n - 2, serial_below).await;
        left.await + right
    })
}

/// A complete binary tree of numbers, built once per process and shared
/// by every contender, so that each one sums the same memory.
#[derive(Debug)]
pub struct Tree {
    value: u64,
    children: Option<Box<[Tree; 2]>>,
}

impl Tree {
    /// The process's tree of `levels` levels.
    ///
    /// # Panics
    ///
    /// If it was built before with another number of levels.
    pub fn shared(levels: u32) -> &'static Tree {
        static TREE: OnceLock<(u32, Tree)> = OnceLock::new();
        let (built, tree) = TREE.get_or_init(|| (levels, Tree::build(levels, 1)));
        assert_eq!(*built, levels, "one tree size per process");
        tree
    }

    fn build(levels: u32, value: u64) -> Tree {
        let children = (levels > 1).then(|| {
            Box::new([
                Tree::build(levels - 1, 2 * value),
                Tree::build(levels - 1, 2 * value + 1),
            ])
        });
        Tree { value, children }
    }

    fn sum_serial(&self) -> u64 {
        let below = self.children.as_ref().map_or(0, |children| {
            let [left, right] = &**children;
            left.sum_serial() + right.sum_serial()
        });
        self.value + below
    }
}

fn sum_join<J: ForkJoin>(join: J, tree: &Tree, levels: u32, serial_levels: u32) -> u64 {
    match &tree.children {
        Some(children) if levels > serial_levels => {
            let [left, right] = &**children;
            let (left, right) = join.join(
                || sum_join(join, left, levels - 1, serial_levels),
                || sum_join(join, right, levels - 1, serial_levels),
            );
            tree.value + left + right
        }
        _ => tree.sum_serial(),
    }
}

fn sum_async<A: AsyncSpawn>(
    spawner: A,
    tree: &'static Tree,
    levels: u32,
    serial_levels: u32,
) -> BoxFuture<u64> {
    Box::pin(async move {
        match &tree.children {
            Some(children) if levels > serial_levels => {
                let [left, right] = &**children;
                let left = spawner.spawn(sum_async(spawner, left, levels - 1, serial_levels));
                let right = sum_async(spawner, right, levels - 1, serial_levels).await;
                tree.value + left.await + right
            }
            _ => tree.sum_serial(),
        }
    })
}
