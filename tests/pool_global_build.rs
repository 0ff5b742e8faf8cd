//! `build_global` configures the global pool once; a second call is refused.
//!
//! One test alone in this process: the global pool is per process, and any
//! other test using it first would make the first `build_global` fail.

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use support::{Counter, Slots};
use taskpool::{BuildErrorKind, ThreadPool};

#[test]
fn build_global_twice_is_refused_and_the_first_pool_serves_free_execute() {
    const THREADS: usize = 3;
    let first_started = Arc::new(AtomicUsize::new(0));
    let counter = first_started.clone();
    ThreadPool::builder()
        .num_threads(THREADS)
        .thread_name(|index| format!("global-{index}"))
        .on_thread_start(move |_| {
            counter.fetch_add(1, Ordering::SeqCst);
        })
        .build_global()
        .expect("the first build_global succeeds");
    assert_eq!(first_started.load(Ordering::SeqCst), THREADS);

    let second_started = Arc::new(AtomicUsize::new(0));
    let counter = second_started.clone();
    let error = ThreadPool::builder()
        .num_threads(2)
        .thread_name(|index| format!("second-{index}"))
        .on_thread_start(move |_| {
            counter.fetch_add(1, Ordering::SeqCst);
        })
        .build_global()
        .unwrap_err();
    assert!(matches!(
        error.kind(),
        BuildErrorKind::GlobalAlreadyInitialized
    ));
    assert!(error.is_global_already_initialized());
    assert_eq!(
        second_started.load(Ordering::SeqCst),
        0,
        "the refused build started no thread"
    );

    // Free `execute` from outside runs on the configured global pool, and
    // from one of its workers stays on it.
    const JOBS: usize = 1_000;
    let slots = Arc::new(Slots::new(2 * JOBS));
    let done = Arc::new(Counter::new(2 * JOBS));
    let names = Arc::new(Mutex::new(Vec::new()));
    for id in 0..JOBS {
        let (slots, done, names) = (slots.clone(), done.clone(), names.clone());
        taskpool::execute(move || {
            names.lock().unwrap().push(support::current_thread_name());
            slots.hit(id);
            done.add();
            taskpool::execute(move || {
                names.lock().unwrap().push(support::current_thread_name());
                slots.hit(JOBS + id);
                done.add();
            });
        });
    }
    done.wait("jobs on the configured global pool");
    slots.assert_each_exactly_once();
    let names = names.lock().unwrap();
    assert_eq!(names.len(), 2 * JOBS);
    for name in names.iter() {
        assert!(name.starts_with("global-"), "ran on {name:?}");
    }
}
