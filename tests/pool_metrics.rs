//! `metrics()` counts exactly once the pool has shut down.

mod support;

use std::sync::Arc;
use support::Counter;
use taskpool::{MAX_THREADS, Metrics, ThreadPool};

#[test]
fn a_fresh_pool_reports_its_threads_and_nothing_else() {
    let pool = ThreadPool::new(3);
    let metrics = pool.metrics();
    assert_eq!(metrics.threads, 3);
    assert_eq!(metrics.queued, 0);
    assert_eq!(metrics.executed, 0);
    assert_eq!(metrics.stolen, 0);
    assert_eq!(metrics.woken, 0);
    assert_eq!(metrics.panicked, 0);
}

#[test]
fn zero_threads_means_one_per_cpu() {
    let from_new = ThreadPool::new(0).metrics().threads;
    let from_builder = ThreadPool::builder().build().unwrap().metrics().threads;
    assert!((1..=MAX_THREADS).contains(&from_new), "{from_new}");
    assert_eq!(from_new, from_builder);
}

#[test]
fn after_shutdown_executed_counts_every_job_and_nothing_is_queued() {
    const THREADS: usize = 4;
    const OUTSIDE: usize = if cfg!(miri) { 100 } else { 10_000 };
    const INSIDE: usize = 10;
    let pool = Arc::new(ThreadPool::new(THREADS));
    let ran = Arc::new(Counter::new(OUTSIDE * (1 + INSIDE)));
    for _ in 0..OUTSIDE {
        let (pool_in_job, ran) = (pool.clone(), ran.clone());
        pool.execute(move || {
            ran.add();
            for _ in 0..INSIDE {
                let ran = ran.clone();
                pool_in_job.execute(move || ran.add());
            }
        });
    }
    pool.shutdown();
    let metrics = pool.metrics();
    assert_eq!(ran.get(), OUTSIDE * (1 + INSIDE));
    assert_eq!(metrics.executed, (OUTSIDE * (1 + INSIDE)) as u64);
    assert_eq!(metrics.queued, 0);
    assert_eq!(metrics.threads, THREADS);
    assert_eq!(metrics.panicked, 0);
    // Shut down: the counters no longer move.
    assert_eq!(pool.metrics(), metrics);
}

#[test]
fn queued_counts_jobs_waiting_behind_busy_workers() {
    const THREADS: usize = 2;
    const WAITING: usize = 1_000;
    let pool = ThreadPool::new(THREADS);
    let gate = Arc::new(support::Gate::new());
    let blocked = Arc::new(Counter::new(THREADS));
    for _ in 0..THREADS {
        let (gate, blocked) = (gate.clone(), blocked.clone());
        pool.execute(move || {
            blocked.add();
            gate.wait();
        });
    }
    blocked.wait("every worker blocked");
    for _ in 0..WAITING {
        pool.execute(|| {});
    }
    assert_eq!(pool.metrics().queued, WAITING);
    gate.open();
    pool.shutdown();
    let metrics = pool.metrics();
    assert_eq!(metrics.queued, 0);
    assert_eq!(metrics.executed, (THREADS + WAITING) as u64);
}

#[test]
fn metrics_is_a_plain_copyable_value() {
    let pool = ThreadPool::new(1);
    let first: Metrics = pool.metrics();
    let copy = first;
    assert_eq!(first, copy);
    assert_eq!(Metrics::default().threads, 0);
}
