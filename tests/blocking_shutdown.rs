//! Shutdown with blocking work: what was accepted runs, `shutdown_timeout`
//! bounds the wait, idle blocking threads do not delay it, and afterwards
//! blocking calls report cancelled.

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use support::{Gate, join_guarded, size, wait_until, within};
use taskpool::ThreadPool;

/// Outcome: `shutdown` with blocking calls running and more queued behind
/// the cap runs every one of them, and what they submit to the pool while
/// it drains is accepted and runs too; then every blocking thread is gone.
#[test]
fn shutdown_runs_queued_and_running_blocking_work() {
    within("shutdown with blocking work", || {
        let pool = Arc::new(
            ThreadPool::builder()
                .num_threads(2)
                .max_blocking_threads(2)
                .build()
                .unwrap(),
        );
        let gate = Arc::new(Gate::new());
        let ran = Arc::new(AtomicUsize::new(0));
        let children = Arc::new(AtomicUsize::new(0));
        let calls = size(20, 6);
        let tasks: Vec<_> = (0..calls)
            .map(|_| {
                let (gate, ran, children) = (gate.clone(), ran.clone(), children.clone());
                pool.spawn_blocking(move || {
                    gate.wait();
                    ran.fetch_add(1, Ordering::SeqCst);
                    // Submitted while the pool drains: accepted.
                    taskpool::execute(move || {
                        children.fetch_add(1, Ordering::SeqCst);
                    });
                })
            })
            .collect();
        wait_until("two calls run, the rest wait", || {
            pool.metrics().blocking_queued == calls - 2
        });
        let opener = {
            let gate = gate.clone();
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(20));
                gate.open();
            })
        };
        pool.shutdown();
        opener.join().unwrap();
        assert_eq!(ran.load(Ordering::SeqCst), calls);
        assert_eq!(children.load(Ordering::SeqCst), calls);
        for task in tasks {
            join_guarded("a blocking call", task).unwrap();
        }
        let metrics = pool.metrics();
        assert_eq!(metrics.blocking_threads, 0);
        assert_eq!(metrics.blocking_queued, 0);
        if let Some(live) = pool.debug_live_tasks() {
            assert_eq!(live, 0);
        }
    });
}

/// Outcome: `shutdown_timeout` returns `false` while a blocking call still
/// runs, and a later `shutdown` waits for it; afterwards `spawn_blocking`
/// returns a task that reports cancelled.
#[test]
fn shutdown_timeout_bounds_the_wait_for_blocking_work() {
    within("shutdown_timeout", || {
        let pool = ThreadPool::new(1);
        let gate = Arc::new(Gate::new());
        let call = {
            let gate = gate.clone();
            pool.spawn_blocking(move || {
                gate.wait();
                "finished"
            })
        };
        assert!(!pool.shutdown_timeout(Duration::from_millis(20)));
        assert!(!call.is_finished());
        gate.open();
        assert!(pool.shutdown_timeout(support::HANG_GUARD));
        assert_eq!(call.join().unwrap(), "finished");
        let refused = pool.spawn_blocking(|| 1);
        assert!(refused.join().unwrap_err().is_cancelled());
        assert_eq!(pool.metrics().blocking_threads, 0);
    });
}

/// Outcome: idle blocking threads with an hour of keep-alive left do not
/// delay shutdown: they exit at once (a hang here would trip the guard).
#[test]
fn idle_blocking_threads_do_not_delay_shutdown() {
    within("idle threads at shutdown", || {
        let pool = ThreadPool::builder()
            .num_threads(1)
            .blocking_keep_alive(Duration::from_secs(3600))
            .build()
            .unwrap();
        let tasks: Vec<_> = (0..4).map(|i| pool.spawn_blocking(move || i)).collect();
        for task in tasks {
            join_guarded("a call", task).unwrap();
        }
        assert!(pool.metrics().blocking_threads >= 1);
        pool.shutdown();
        assert_eq!(pool.metrics().blocking_threads, 0);
    });
}

/// Outcome: dropping the last handle of a pool inside one of its blocking
/// calls begins the shutdown without waiting for itself; the pool still
/// runs what was queued.
#[test]
fn dropping_the_pool_on_its_blocking_thread_does_not_deadlock() {
    within("drop on a blocking thread", || {
        let pool = Arc::new(ThreadPool::new(1));
        let ran = Arc::new(AtomicUsize::new(0));
        let inner = pool.clone();
        let counter = ran.clone();
        let call = pool.spawn_blocking(move || {
            inner.execute(move || {
                counter.fetch_add(1, Ordering::SeqCst);
            });
            drop(inner);
        });
        drop(pool);
        join_guarded("the call", call).unwrap();
        wait_until("the queued job ran", || ran.load(Ordering::SeqCst) == 1);
    });
}
