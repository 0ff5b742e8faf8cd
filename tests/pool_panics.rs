//! A panicking job never kills a worker or the pool: its payload goes to the
//! panic handler (or is dropped when there is none) and is counted.
//!
//! The pools here name their threads `quiet-...`, and a panic hook installed
//! once for this process keeps the thousands of expected panics on those
//! threads off the output; panics anywhere else (a failed assertion) still
//! print as usual.

mod support;

use std::any::Any;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use support::{Counter, Slots};
use taskpool::ThreadPool;

const PANICS: usize = if cfg!(miri) { 100 } else { 10_000 };

fn silence_panics_on_quiet_threads() {
    support::quiet_panics("on quiet- threads", |_| {
        support::current_thread_name().starts_with("quiet-")
    });
}

fn quiet_pool(threads: usize) -> taskpool::Builder {
    silence_panics_on_quiet_threads();
    ThreadPool::builder()
        .num_threads(threads)
        .thread_name(|index| format!("quiet-worker-{index}"))
}

/// Runs `threads` jobs that wait for each other, so they finish only if
/// every worker is alive and takes one; then a job whose result we see.
fn assert_every_worker_still_runs_jobs(pool: &ThreadPool, threads: usize) {
    let arrived = Arc::new(Counter::new(threads));
    for _ in 0..threads {
        let arrived = arrived.clone();
        pool.execute(move || {
            arrived.add();
            arrived.wait("every worker holding one job at once");
        });
    }
    arrived.wait("every worker alive after the panics");

    let (sender, receiver) = std::sync::mpsc::channel();
    pool.execute(move || sender.send(6 * 7).unwrap());
    assert_eq!(receiver.recv_timeout(support::HANG_GUARD), Ok(42));
}

#[test]
fn ten_thousand_panicking_jobs_each_reach_the_handler_exactly_once() {
    let handled = Arc::new(Slots::new(PANICS));
    let calls = Arc::new(Counter::new(PANICS));
    let pool = {
        let (handled, calls) = (handled.clone(), calls.clone());
        quiet_pool(2)
            .panic_handler(move |payload: Box<dyn Any + Send>| {
                let id = *payload.downcast::<usize>().expect("the job's own payload");
                handled.hit(id);
                calls.add();
            })
            .build()
            .unwrap()
    };
    for id in 0..PANICS {
        pool.execute(move || std::panic::panic_any(id));
    }
    calls.wait("panic handler calls");
    assert_eq!(pool.metrics().panicked, PANICS as u64);

    assert_every_worker_still_runs_jobs(&pool, 2);
    pool.shutdown();
    handled.assert_each_exactly_once();
    assert_eq!(calls.get(), PANICS);
    let metrics = pool.metrics();
    assert_eq!(metrics.panicked, PANICS as u64);
    assert_eq!(metrics.executed, PANICS as u64 + 2 + 1);
    assert_eq!(metrics.threads, 2);
}

#[test]
fn panicking_jobs_without_a_handler_are_counted_and_the_pool_survives() {
    let pool = quiet_pool(2).build().unwrap();
    let ran = Arc::new(Counter::new(PANICS));
    for _ in 0..PANICS {
        let ran = ran.clone();
        pool.execute(move || {
            ran.add();
            panic!("a job that panics, with no handler");
        });
    }
    ran.wait("panicking jobs");
    support::wait_until("every panic counted", || {
        pool.metrics().panicked == PANICS as u64
    });

    assert_every_worker_still_runs_jobs(&pool, 2);
    pool.shutdown();
    let metrics = pool.metrics();
    assert_eq!(metrics.panicked, PANICS as u64);
    assert_eq!(metrics.executed, PANICS as u64 + 2 + 1);
    // Each panicking job's captured clone was dropped while unwinding.
    assert_eq!(Arc::strong_count(&ran), 1);
}

#[test]
fn a_panic_handler_that_panics_itself_is_contained_and_the_pool_keeps_running() {
    const JOBS: usize = PANICS / 10;
    let calls = Arc::new(Counter::new(JOBS));
    let pool = {
        let calls = calls.clone();
        quiet_pool(2)
            .panic_handler(move |_payload| {
                calls.add();
                panic!("the panic handler panics too");
            })
            .build()
            .unwrap()
    };
    for _ in 0..JOBS {
        pool.execute(|| panic!("a job that panics"));
    }
    calls.wait("panic handler calls");

    let after = Arc::new(Slots::new(JOBS));
    let after_done = Arc::new(Counter::new(JOBS));
    for id in 0..JOBS {
        let (after, after_done) = (after.clone(), after_done.clone());
        pool.execute(move || {
            after.hit(id);
            after_done.add();
        });
    }
    after_done.wait("ordinary jobs after the handler panicked");
    assert_every_worker_still_runs_jobs(&pool, 2);

    pool.shutdown();
    after.assert_each_exactly_once();
    assert_eq!(calls.get(), JOBS);
    let metrics = pool.metrics();
    assert_eq!(metrics.panicked, JOBS as u64);
    assert_eq!(metrics.executed, (JOBS + JOBS + 2 + 1) as u64);
}

#[test]
fn a_panic_in_on_thread_stop_reaches_the_handler_once_per_worker() {
    const THREADS: usize = 3;
    let handled = Arc::new(Mutex::new(Vec::new()));
    let pool = {
        let handled = handled.clone();
        quiet_pool(THREADS)
            .on_thread_stop(|index| panic!("stop hook of worker {index} panics"))
            .panic_handler(move |payload| {
                let message = payload.downcast::<String>().expect("a formatted message");
                handled.lock().unwrap().push(*message);
            })
            .build()
            .unwrap()
    };
    pool.shutdown();

    let mut handled = handled.lock().unwrap().clone();
    handled.sort();
    let expected: Vec<String> = (0..THREADS)
        .map(|index| format!("stop hook of worker {index} panics"))
        .collect();
    assert_eq!(handled, expected);
    assert_eq!(pool.metrics().panicked, THREADS as u64);
}

#[test]
fn panicking_jobs_interleaved_with_ordinary_ones_lose_no_ordinary_job() {
    // The worker that caught a panic goes on to the next job: every ordinary
    // job runs once.
    const JOBS: usize = PANICS;
    let pool = quiet_pool(2).build().unwrap();
    let slots = Arc::new(Slots::new(JOBS));
    let done = Arc::new(Counter::new(JOBS));
    let panics = Arc::new(AtomicUsize::new(0));
    for id in 0..JOBS {
        if id % 2 == 0 {
            let panics = panics.clone();
            pool.execute(move || {
                panics.fetch_add(1, Ordering::Relaxed);
                panic!("job {id} panics");
            });
        }
        let (slots, done) = (slots.clone(), done.clone());
        pool.execute(move || {
            slots.hit(id);
            done.add();
        });
    }
    done.wait("ordinary jobs among panicking ones");
    pool.shutdown();
    slots.assert_each_exactly_once();
    let metrics = pool.metrics();
    assert_eq!(metrics.panicked, (JOBS / 2) as u64);
    assert_eq!(panics.load(Ordering::Relaxed), JOBS / 2);
    assert_eq!(metrics.executed, (JOBS + JOBS / 2) as u64);
}

/// A value whose `Drop` panics: user code the pool must contain too.
struct PanicsOnDrop(&'static str);

impl Drop for PanicsOnDrop {
    fn drop(&mut self) {
        panic!("{}", self.0);
    }
}

#[test]
fn a_captured_value_whose_drop_panics_is_reported_like_a_panicking_job() {
    const JOBS: usize = 100;
    let handled = Arc::new(Mutex::new(Vec::new()));
    let pool = {
        let handled = handled.clone();
        quiet_pool(2)
            .panic_handler(move |payload| {
                let message = *payload.downcast::<String>().expect("a formatted message");
                handled.lock().unwrap().push(message);
            })
            .build()
            .unwrap()
    };
    let ran = Arc::new(AtomicUsize::new(0));
    for _ in 0..JOBS {
        let (ran, bomb) = (
            ran.clone(),
            PanicsOnDrop("the captured value's drop panics"),
        );
        pool.execute(move || {
            let _bomb = bomb;
            ran.fetch_add(1, Ordering::Relaxed);
        });
    }
    assert_every_worker_still_runs_jobs(&pool, 2);
    pool.shutdown();
    assert_eq!(ran.load(Ordering::Relaxed), JOBS);
    let handled = handled.lock().unwrap();
    assert_eq!(handled.len(), JOBS);
    assert!(
        handled
            .iter()
            .all(|m| m == "the captured value's drop panics")
    );
    assert_eq!(pool.metrics().panicked, JOBS as u64);
}

#[test]
fn a_panic_payload_whose_drop_panics_is_contained_without_a_handler() {
    const JOBS: usize = 100;
    let pool = quiet_pool(2).build().unwrap();
    for _ in 0..JOBS {
        pool.execute(|| std::panic::panic_any(PanicsOnDrop("the payload's drop panics")));
    }
    assert_every_worker_still_runs_jobs(&pool, 2);
    pool.shutdown();
    assert_eq!(pool.metrics().panicked, JOBS as u64);
}

#[test]
fn a_panic_payload_whose_drop_panics_in_the_handler_is_contained() {
    const JOBS: usize = 100;
    let calls = Arc::new(AtomicUsize::new(0));
    let pool = {
        let calls = calls.clone();
        quiet_pool(2)
            .panic_handler(move |payload| {
                calls.fetch_add(1, Ordering::Relaxed);
                drop(payload); // panics: the payload is a `PanicsOnDrop`
            })
            .build()
            .unwrap()
    };
    for _ in 0..JOBS {
        pool.execute(|| std::panic::panic_any(PanicsOnDrop("the payload's drop panics")));
    }
    assert_every_worker_still_runs_jobs(&pool, 2);
    pool.shutdown();
    assert_eq!(calls.load(Ordering::Relaxed), JOBS);
    assert_eq!(pool.metrics().panicked, JOBS as u64);
}
