//! Fire-and-forget from outside the pool: tiny jobs that each count a
//! shared latch down, submitted by one thread or by several at once.
//!
//! Nearly all the time goes to the queue the submitters and the workers
//! share, and to waking workers: the job itself is one atomic decrement.
//! With several submitters, they also fight each other for the injector.

use crate::harness::contender::Contender;
use crate::harness::sync::CountLatch;
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

/// Submits `jobs` jobs from the calling thread, then waits until all ran.
pub fn from_one_thread<C: Contender>(pool: &C, jobs: usize) -> Duration {
    let latch = Arc::new(CountLatch::new(jobs));
    let started = Instant::now();
    for _ in 0..jobs {
        let latch = latch.clone();
        pool.execute(move || latch.count_down());
    }
    latch.wait();
    started.elapsed()
}

/// Submits `jobs` jobs from `submitters` threads at once, each its share,
/// and waits until all ran. The clock starts when every submitter is
/// ready.
pub fn from_threads<C: Contender>(pool: &C, submitters: usize, jobs: usize) -> Duration {
    let latch = Arc::new(CountLatch::new(jobs));
    let start_line = Barrier::new(submitters + 1);
    thread::scope(|scope| {
        for submitter in 0..submitters {
            let share = jobs / submitters + usize::from(submitter < jobs % submitters);
            let (latch, start_line) = (&latch, &start_line);
            scope.spawn(move || {
                start_line.wait();
                for _ in 0..share {
                    let latch = latch.clone();
                    pool.execute(move || latch.count_down());
                }
            });
        }
        start_line.wait();
        let started = Instant::now();
        latch.wait();
        started.elapsed()
    })
}

/// The floor without queues or threads: the same boxed jobs, run at once
/// on the calling thread.
pub fn serial(jobs: usize) -> Duration {
    let latch = Arc::new(CountLatch::new(jobs));
    let started = Instant::now();
    for _ in 0..jobs {
        let latch = latch.clone();
        let job: Box<dyn FnOnce() + Send> = Box::new(move || latch.count_down());
        std::hint::black_box(job)();
    }
    latch.wait();
    started.elapsed()
}
