//! `taskpool::execute`: on the global pool from outside any pool, on the
//! current worker's own pool from inside one.
//!
//! The global pool here is built lazily with the defaults, so its workers are
//! named `taskpool-worker-{index}`; every custom pool in this file names its
//! threads otherwise. (`build_global` has its own process:
//! `pool_global_build.rs`.)

mod support;

use std::sync::{Arc, Mutex};
use support::{Counter, Slots};
use taskpool::{BuildErrorKind, ThreadPool};

#[test]
fn free_execute_from_outside_any_pool_runs_every_job_on_the_global_pool() {
    const JOBS: usize = 1_000;
    let slots = Arc::new(Slots::new(JOBS));
    let done = Arc::new(Counter::new(JOBS));
    let names = Arc::new(Mutex::new(Vec::new()));
    for id in 0..JOBS {
        let (slots, done, names) = (slots.clone(), done.clone(), names.clone());
        taskpool::execute(move || {
            names.lock().unwrap().push(support::current_thread_name());
            slots.hit(id);
            done.add();
        });
    }
    done.wait("jobs on the global pool");
    slots.assert_each_exactly_once();
    let names = names.lock().unwrap();
    assert_eq!(names.len(), JOBS);
    for name in names.iter() {
        assert!(name.starts_with("taskpool-worker-"), "ran on {name:?}");
    }
}

#[test]
fn free_execute_inside_a_custom_pool_job_runs_on_that_same_pool() {
    const NESTED: usize = 1_000;
    let pool = ThreadPool::builder()
        .num_threads(2)
        .thread_name(|index| format!("custom-{index}"))
        .build()
        .unwrap();
    let slots = Arc::new(Slots::new(NESTED));
    let done = Arc::new(Counter::new(NESTED));
    let names = Arc::new(Mutex::new(Vec::new()));
    {
        let (slots, done, names) = (slots.clone(), done.clone(), names.clone());
        pool.execute(move || {
            for id in 0..NESTED {
                let (slots, done, names) = (slots.clone(), done.clone(), names.clone());
                taskpool::execute(move || {
                    names.lock().unwrap().push(support::current_thread_name());
                    slots.hit(id);
                    done.add();
                });
            }
        });
    }
    done.wait("jobs submitted with taskpool::execute from a custom pool's worker");
    pool.shutdown();
    slots.assert_each_exactly_once();
    for name in names.lock().unwrap().iter() {
        assert!(name.starts_with("custom-"), "ran on {name:?}");
    }
    // Counted by this pool: the outer job and every nested one.
    assert_eq!(pool.metrics().executed, 1 + NESTED as u64);
}

#[test]
fn free_execute_nested_three_deep_stays_on_the_custom_pool() {
    let pool = ThreadPool::builder()
        .num_threads(2)
        .thread_name(|index| format!("nested-{index}"))
        .build()
        .unwrap();
    let (sender, receiver) = std::sync::mpsc::channel();
    pool.execute(move || {
        let mut names = vec![support::current_thread_name()];
        taskpool::execute(move || {
            names.push(support::current_thread_name());
            taskpool::execute(move || {
                names.push(support::current_thread_name());
                sender.send(names).unwrap();
            });
        });
    });
    let names = receiver.recv_timeout(support::HANG_GUARD).unwrap();
    assert_eq!(names.len(), 3);
    for name in &names {
        assert!(name.starts_with("nested-"), "ran on {name:?} ({names:?})");
    }
    pool.shutdown();
    assert_eq!(pool.metrics().executed, 3);
}

#[test]
fn build_global_after_the_global_pool_was_used_is_refused() {
    let (sender, receiver) = std::sync::mpsc::channel();
    taskpool::execute(move || sender.send(()).unwrap());
    receiver.recv_timeout(support::HANG_GUARD).unwrap();

    let started = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = started.clone();
    let error = ThreadPool::builder()
        .num_threads(2)
        .on_thread_start(move |_| {
            counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        })
        .build_global()
        .unwrap_err();
    assert!(matches!(
        error.kind(),
        BuildErrorKind::GlobalAlreadyInitialized
    ));
    assert!(error.is_global_already_initialized());
    assert_eq!(
        error.to_string(),
        "the global thread pool has already been initialized"
    );
    assert_eq!(
        started.load(std::sync::atomic::Ordering::SeqCst),
        0,
        "no thread started"
    );
}
