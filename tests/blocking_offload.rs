//! `spawn_blocking` keeps the workers free: blocking calls run on the
//! elastic set of blocking threads, up to its cap, in FIFO order beyond it.

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use support::{Gate, join_guarded, size, wait_until, within};
use taskpool::ThreadPool;

/// Outcome: while 100 blocking calls (10 ms each, then held at a gate) are
/// offloaded from a 2-worker pool, CPU tasks submitted after them all run
/// and finish before any blocking call does. Were a worker running a
/// blocking call, it would be held at the gate, which opens only after the
/// CPU tasks finished: the test would hang instead.
#[test]
fn workers_stay_free_while_blocking_calls_are_offloaded() {
    within("offloaded blocking calls", || {
        let pool = ThreadPool::new(2);
        let calls = size(100, 8);
        let gate = Arc::new(Gate::new());
        let blocking_done = Arc::new(AtomicUsize::new(0));
        let blocking: Vec<_> = (0..calls)
            .map(|_| {
                let gate = gate.clone();
                let done = blocking_done.clone();
                pool.spawn_blocking(move || {
                    std::thread::sleep(Duration::from_millis(10));
                    gate.wait();
                    done.fetch_add(1, Ordering::SeqCst);
                    std::thread::current().name().map(String::from)
                })
            })
            .collect();
        let cpu: Vec<_> = (0..size(200, 8))
            .map(|i| {
                let done = blocking_done.clone();
                pool.spawn(move || {
                    let sum: u64 = (0..1000_u64).map(|x| x * i as u64).sum();
                    (sum, done.load(Ordering::SeqCst))
                })
            })
            .collect();
        for task in cpu {
            let (_, finished_before) = join_guarded("a CPU task", task).unwrap();
            assert_eq!(
                finished_before, 0,
                "a blocking call finished before a CPU task"
            );
        }
        assert_eq!(blocking_done.load(Ordering::SeqCst), 0);
        gate.open();
        for task in blocking {
            let name = join_guarded("a blocking call", task).unwrap();
            assert_eq!(name.as_deref(), Some("taskpool-blocking"));
        }
        assert_eq!(blocking_done.load(Ordering::SeqCst), calls);
        let metrics = pool.metrics();
        assert!(metrics.blocking_threads >= 1 && metrics.blocking_threads <= calls);
        assert_eq!(metrics.blocking_queued, 0);
        pool.shutdown();
        assert_eq!(pool.metrics().blocking_threads, 0);
    });
}

/// Outcome: with `max_blocking_threads(4)`, 1,000 blocking calls never run
/// more than 4 at a time (counted from inside the calls), and metrics never
/// show more than 4 blocking threads; the cap is reached (the first four
/// calls wait until all four run at once).
#[test]
fn the_cap_holds_under_a_thousand_submissions() {
    within("a thousand capped calls", || {
        const CAP: usize = 4;
        let pool = ThreadPool::builder()
            .num_threads(2)
            .max_blocking_threads(CAP)
            .build()
            .unwrap();
        let running = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let ran = Arc::new(AtomicUsize::new(0));
        let calls = size(1000, 12);
        let tasks: Vec<_> = (0..calls)
            .map(|i| {
                let (running, most, ran) = (running.clone(), most.clone(), ran.clone());
                pool.spawn_blocking(move || {
                    let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                    most.fetch_max(now, Ordering::SeqCst);
                    if i < CAP {
                        // Hold the first calls until the cap is reached.
                        support::yield_until("four calls at once", || {
                            most.load(Ordering::SeqCst) == CAP
                        });
                    } else {
                        std::thread::yield_now();
                    }
                    running.fetch_sub(1, Ordering::SeqCst);
                    ran.fetch_add(1, Ordering::SeqCst);
                })
            })
            .collect();
        let mut sampled_most = 0;
        while ran.load(Ordering::SeqCst) < calls {
            let metrics = pool.metrics();
            sampled_most = sampled_most.max(metrics.blocking_threads);
            assert!(metrics.blocking_threads <= CAP, "{metrics:?}");
            assert!(metrics.blocking_idle <= metrics.blocking_threads);
            std::thread::yield_now();
        }
        for task in tasks {
            join_guarded("a capped call", task).unwrap();
        }
        assert_eq!(most.load(Ordering::SeqCst), CAP);
        assert!(sampled_most <= CAP);
        assert!(pool.metrics().blocking_threads <= CAP);
    });
}

/// Outcome: with one blocking thread, calls queued behind a running one
/// start in submission order, and metrics count them as queued meanwhile.
#[test]
fn beyond_the_cap_calls_wait_in_fifo_order() {
    within("FIFO beyond the cap", || {
        let pool = ThreadPool::builder()
            .num_threads(2)
            .max_blocking_threads(1)
            .build()
            .unwrap();
        let gate = Arc::new(Gate::new());
        let first = {
            let gate = gate.clone();
            pool.spawn_blocking(move || gate.wait())
        };
        wait_until("the first call runs", || {
            pool.metrics().blocking_queued == 0
        });
        let order = Arc::new(Mutex::new(Vec::new()));
        let queued = size(50, 6);
        let tasks: Vec<_> = (0..queued)
            .map(|i| {
                let order = order.clone();
                pool.spawn_blocking(move || order.lock().unwrap().push(i))
            })
            .collect();
        assert_eq!(pool.metrics().blocking_queued, queued);
        assert_eq!(pool.metrics().blocking_threads, 1);
        gate.open();
        join_guarded("the first call", first).unwrap();
        for task in tasks {
            join_guarded("a queued call", task).unwrap();
        }
        assert_eq!(*order.lock().unwrap(), (0..queued).collect::<Vec<_>>());
    });
}

/// Outcome: a worker that joins a blocking task does not run it in place
/// (it runs on a blocking thread), and code on a blocking thread that uses
/// the free functions submits to the blocking thread's own pool.
#[test]
fn a_worker_never_runs_blocking_calls_and_free_functions_find_the_pool() {
    within("joins and free functions", || {
        let pool = ThreadPool::builder()
            .num_threads(1)
            .thread_name(|i| format!("io-{i}"))
            .build()
            .unwrap();
        let names = pool
            .spawn(|| {
                let inner = taskpool::spawn_blocking(|| {
                    let here = std::thread::current().name().map(String::from);
                    // A free function on a blocking thread: the same pool.
                    let there = taskpool::spawn(|| std::thread::current().name().map(String::from));
                    (here, there.join().unwrap())
                });
                inner.join().unwrap()
            })
            .join()
            .unwrap();
        assert_eq!(names.0.as_deref(), Some("io-0-blocking"));
        assert_eq!(names.1.as_deref(), Some("io-0"));
    });
}

/// Outcome: the `on_thread_start` / `on_thread_stop` hooks run on the
/// workers only (their index names a worker), not on blocking threads.
#[test]
fn thread_hooks_run_on_the_workers_only() {
    within("hooks", || {
        let started = Arc::new(AtomicUsize::new(0));
        let stopped = Arc::new(AtomicUsize::new(0));
        let (on_start, on_stop) = (started.clone(), stopped.clone());
        let pool = ThreadPool::builder()
            .num_threads(2)
            .on_thread_start(move |_| {
                on_start.fetch_add(1, Ordering::SeqCst);
            })
            .on_thread_stop(move |_| {
                on_stop.fetch_add(1, Ordering::SeqCst);
            })
            .build()
            .unwrap();
        let tasks: Vec<_> = (0..4).map(|i| pool.spawn_blocking(move || i)).collect();
        for task in tasks {
            join_guarded("a call", task).unwrap();
        }
        assert!(pool.metrics().blocking_threads >= 1);
        pool.shutdown();
        assert_eq!(started.load(Ordering::SeqCst), 2);
        assert_eq!(stopped.load(Ordering::SeqCst), 2);
    });
}
