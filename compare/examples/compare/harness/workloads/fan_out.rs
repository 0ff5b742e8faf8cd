//! Nested fan-out: a binary tree of jobs, where every job submits its two
//! children to the pool it runs on.
//!
//! Only the root comes from outside; everything else is submitted from the
//! workers, so this measures the workers' own queues (a local deque where
//! the pool has one) and stealing between them.

use crate::harness::contender::{Contender, Local};
use crate::harness::sync::CountLatch;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Jobs in a tree of `levels` levels: 2^levels - 1.
pub fn jobs(levels: u32) -> usize {
    (1 << levels) - 1
}

/// Runs a tree of `levels` levels of jobs and waits for all of them.
pub fn run<C: Contender>(pool: &C, levels: u32) -> Duration {
    let latch = Arc::new(CountLatch::new(jobs(levels)));
    let local = pool.local();
    let started = Instant::now();
    {
        let latch = latch.clone();
        pool.execute(move || node(local, levels - 1, latch));
    }
    latch.wait();
    started.elapsed()
}

fn node<L: Local>(local: L, depth: u32, latch: Arc<CountLatch>) {
    if depth > 0 {
        for _ in 0..2 {
            let (child_local, latch) = (local.clone(), latch.clone());
            local.execute(move || node(child_local, depth - 1, latch));
        }
    }
    latch.count_down();
}

/// The floor: the same boxed jobs on a one-thread stack, no pool.
pub fn serial(levels: u32) -> Duration {
    let latch = Arc::new(CountLatch::new(jobs(levels)));
    let started = Instant::now();
    let mut stack = vec![SerialJob::node(levels - 1, latch.clone())];
    while let Some(SerialJob(job)) = stack.pop() {
        job(&mut stack);
    }
    latch.wait();
    started.elapsed()
}

/// A boxed job of the serial floor; it pushes its children on the stack.
struct SerialJob(Box<SerialStep>);

type SerialStep = dyn FnOnce(&mut Vec<SerialJob>) + Send;

impl SerialJob {
    fn node(depth: u32, latch: Arc<CountLatch>) -> SerialJob {
        SerialJob(Box::new(move |stack: &mut Vec<SerialJob>| {
            if depth > 0 {
                stack.push(SerialJob::node(depth - 1, latch.clone()));
                stack.push(SerialJob::node(depth - 1, latch.clone()));
            }
            latch.count_down();
        }))
    }
}
