//! A blocking task behaves like any other task: result, panic, cancel
//! before start, `then`, `.await`, `when_all`; and its threads retire after
//! their keep-alive.

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;
use support::{Gate, PanicLog, join_guarded, quiet_expected_panics, wait_until, within};
use taskpool::ThreadPool;

fn one_thread_pool() -> ThreadPool {
    ThreadPool::builder()
        .num_threads(2)
        .max_blocking_threads(1)
        .build()
        .unwrap()
}

/// Outcome: a panic in a blocking call is returned by `join` with its
/// message; a panicked blocking task nobody joined reaches the panic
/// handler; the blocking thread lives on and runs the next call.
#[test]
fn panics_are_caught_and_returned_or_reported() {
    quiet_expected_panics();
    within("blocking panics", || {
        let log = PanicLog::default();
        let pool = ThreadPool::builder()
            .num_threads(1)
            .max_blocking_threads(1)
            .panic_handler(log.handler())
            .build()
            .unwrap();
        let error = pool
            .spawn_blocking(|| -> u8 { panic!("expected panic: blocking") })
            .join()
            .unwrap_err();
        assert!(error.is_panic());
        assert_eq!(error.panic_message(), Some("expected panic: blocking"));
        drop(pool.spawn_blocking(|| panic!("expected panic: unobserved")));
        log.wait_for(1);
        assert_eq!(log.texts(), ["expected panic: unobserved"]);
        assert_eq!(pool.spawn_blocking(|| 7).join().unwrap(), 7);
        pool.shutdown();
        assert_eq!(pool.metrics().panicked, 1);
    });
}

/// Outcome: a blocking call cancelled while it waits for a thread never
/// runs and reports cancelled; its closure is dropped; cancelling a running
/// one returns `false` and it completes.
#[test]
fn cancel_before_start_never_runs_the_call() {
    within("blocking cancel", || {
        let pool = one_thread_pool();
        let gate = Arc::new(Gate::new());
        let started = Arc::new(AtomicBool::new(false));
        let running = {
            let (gate, started) = (gate.clone(), started.clone());
            pool.spawn_blocking(move || {
                started.store(true, Ordering::SeqCst);
                gate.wait();
                "ran"
            })
        };
        wait_until("the first call holds the thread", || {
            started.load(Ordering::SeqCst)
        });
        let ran = Arc::new(AtomicBool::new(false));
        let captured = Arc::new(());
        let queued = {
            let ran = ran.clone();
            let captured = captured.clone();
            pool.spawn_blocking(move || {
                drop(captured);
                ran.store(true, Ordering::SeqCst);
            })
        };
        assert!(queued.cancel());
        assert!(!running.cancel());
        assert!(queued.join().unwrap_err().is_cancelled());
        assert_eq!(Arc::strong_count(&captured), 1, "the closure was dropped");
        gate.open();
        assert_eq!(running.join().unwrap(), "ran");
        pool.shutdown();
        assert!(!ran.load(Ordering::SeqCst));
        if let Some(live) = pool.debug_live_tasks() {
            assert_eq!(live, 0);
        }
    });
}

/// Outcome: blocking tasks compose: awaited from an async task, continued
/// with `then`, and gathered with `when_all`, in order.
#[test]
fn await_then_and_when_all_work_on_blocking_tasks() {
    within("blocking composition", || {
        let pool = ThreadPool::new(2);
        let awaited = pool.spawn_async(async {
            let a = taskpool::spawn_blocking(|| 20).await.unwrap();
            let b = taskpool::spawn_blocking(|| 22).await.unwrap();
            a + b
        });
        assert_eq!(join_guarded("await", awaited).unwrap(), 42);
        let continued = pool.spawn_blocking(|| 6).then(|result| result.unwrap() * 7);
        assert_eq!(join_guarded("then", continued).unwrap(), 42);
        let all = taskpool::when_all((0..10).map(|i| pool.spawn_blocking(move || i * i)));
        assert_eq!(
            join_guarded("when_all", all).unwrap(),
            (0..10).map(|i| i * i).collect::<Vec<_>>()
        );
        pool.shutdown();
        if let Some(live) = pool.debug_live_tasks() {
            assert_eq!(live, 0);
        }
    });
}

/// Outcome: blocking threads started for a burst retire once idle for the
/// keep-alive: the metrics count them down to zero; a later call starts a
/// thread again.
#[test]
fn idle_threads_retire_after_the_keep_alive() {
    within("keep-alive", || {
        let pool = ThreadPool::builder()
            .num_threads(1)
            .blocking_keep_alive(Duration::from_millis(20))
            .build()
            .unwrap();
        let gate = Arc::new(Gate::new());
        let started = Arc::new(AtomicUsize::new(0));
        let tasks: Vec<_> = (0..4)
            .map(|_| {
                let gate = gate.clone();
                let started = started.clone();
                pool.spawn_blocking(move || {
                    started.fetch_add(1, Ordering::SeqCst);
                    gate.wait();
                })
            })
            .collect();
        wait_until("four calls run at once", || {
            started.load(Ordering::SeqCst) == 4
        });
        assert_eq!(pool.metrics().blocking_threads, 4);
        gate.open();
        for task in tasks {
            join_guarded("a call", task).unwrap();
        }
        wait_until("the threads retire", || {
            pool.metrics().blocking_threads == 0
        });
        assert_eq!(pool.metrics().blocking_idle, 0);
        assert_eq!(pool.spawn_blocking(|| 1).join().unwrap(), 1);
    });
}
