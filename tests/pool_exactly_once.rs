//! Every accepted job runs exactly once, whoever submits it: one outside
//! thread, the pool's own workers (fan-out), or several threads at once.
//!
//! Each job marks its own slot, so a job run twice and another never would
//! not cancel out; the test waits for the last job (a lost job or a lost
//! wake-up fails the hang guard instead of hiding behind shutdown's drain),
//! then shuts down and checks the pool's own count.

mod support;

use std::sync::Arc;
use support::{Counter, Slots};
use taskpool::ThreadPool;

const JOBS: usize = if cfg!(miri) { 1_000 } else { 1_000_000 };

#[test]
fn one_million_jobs_from_one_outside_thread_each_run_exactly_once() {
    let pool = ThreadPool::new(4);
    let slots = Arc::new(Slots::new(JOBS));
    let done = Arc::new(Counter::new(JOBS));
    for id in 0..JOBS {
        let slots = slots.clone();
        let done = done.clone();
        pool.execute(move || {
            slots.hit(id);
            done.add();
        });
    }
    done.wait("jobs submitted from one outside thread");
    pool.shutdown();
    slots.assert_each_exactly_once();
    // Every job's closure was dropped after it ran: no clone is left.
    assert_eq!(Arc::strong_count(&slots), 1);
    let metrics = pool.metrics();
    assert_eq!(metrics.executed, JOBS as u64);
    assert_eq!(metrics.queued, 0);
    assert_eq!(metrics.panicked, 0);
}

#[test]
fn one_million_jobs_fanned_out_from_inside_workers_each_run_exactly_once() {
    // One outside job submits BRANCHES jobs, each of which submits
    // JOBS / BRANCHES leaf jobs: every leaf is submitted by a worker, onto its
    // own deque.
    const BRANCHES: usize = if cfg!(miri) { 10 } else { 1_000 };
    const LEAVES: usize = JOBS / BRANCHES;

    let pool = Arc::new(ThreadPool::new(4));
    let slots = Arc::new(Slots::new(JOBS));
    let done = Arc::new(Counter::new(JOBS));
    {
        let pool_in_root = pool.clone();
        let slots = slots.clone();
        let done = done.clone();
        pool.execute(move || {
            for branch in 0..BRANCHES {
                let pool_in_branch = pool_in_root.clone();
                let slots = slots.clone();
                let done = done.clone();
                pool_in_root.execute(move || {
                    for leaf in 0..LEAVES {
                        let slots = slots.clone();
                        let done = done.clone();
                        pool_in_branch.execute(move || {
                            slots.hit(branch * LEAVES + leaf);
                            done.add();
                        });
                    }
                });
            }
        });
    }
    done.wait("leaf jobs submitted from workers");
    pool.shutdown();
    slots.assert_each_exactly_once();
    // Every job's closure was dropped after it ran: no clone is left.
    assert_eq!(Arc::strong_count(&slots), 1);
    let metrics = pool.metrics();
    assert_eq!(metrics.executed, (1 + BRANCHES + JOBS) as u64);
    assert_eq!(metrics.queued, 0);
    assert_eq!(metrics.panicked, 0);
    // Every job that held a clone has run and been dropped: ours is the last.
    assert_eq!(Arc::strong_count(&pool), 1);
}

#[test]
fn one_million_jobs_from_four_threads_at_once_each_run_exactly_once() {
    const SUBMITTERS: usize = 4;
    const PER_SUBMITTER: usize = JOBS / SUBMITTERS;

    let pool = ThreadPool::new(4);
    let slots = Arc::new(Slots::new(JOBS));
    let done = Arc::new(Counter::new(JOBS));
    let start = std::sync::Barrier::new(SUBMITTERS);
    std::thread::scope(|scope| {
        for submitter in 0..SUBMITTERS {
            let (pool, slots, done, start) = (&pool, &slots, &done, &start);
            scope.spawn(move || {
                start.wait();
                for job in 0..PER_SUBMITTER {
                    let slots = slots.clone();
                    let done = done.clone();
                    pool.execute(move || {
                        slots.hit(submitter * PER_SUBMITTER + job);
                        done.add();
                    });
                }
            });
        }
    });
    done.wait("jobs submitted from four threads");
    pool.shutdown();
    slots.assert_each_exactly_once();
    // Every job's closure was dropped after it ran: no clone is left.
    assert_eq!(Arc::strong_count(&slots), 1);
    let metrics = pool.metrics();
    assert_eq!(metrics.executed, JOBS as u64);
    assert_eq!(metrics.queued, 0);
    assert_eq!(metrics.panicked, 0);
}
