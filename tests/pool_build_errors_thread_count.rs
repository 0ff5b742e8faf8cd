//! A failed build leaves no thread behind, counted by the operating system.
//!
//! One test alone in this process: `/proc/self/status` counts every thread of
//! the process, so a second test running beside it would disturb the count.

mod support;

use std::time::Duration;
use support::process_threads;
use taskpool::{BuildErrorKind, MAX_THREADS, ThreadPool};

/// Waits until the process is back to `baseline` threads. A joined thread
/// may linger in the kernel's count for a moment after `join` returns, so
/// this polls (up to the hang guard) instead of reading once.
fn assert_back_to(baseline: usize, after: &str) {
    let deadline = std::time::Instant::now() + support::HANG_GUARD;
    loop {
        let now = process_threads().unwrap();
        if now == baseline {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{after}: {now} threads, expected {baseline}"
        );
        std::thread::sleep(Duration::from_millis(1));
    }
}

#[test]
#[cfg_attr(miri, ignore = "Miri's threads are not the process's OS threads")]
fn failed_builds_of_every_kind_leave_no_thread_behind() {
    let Some(baseline) = process_threads() else {
        eprintln!("no /proc/self/status here: skipping the thread count");
        return;
    };

    // Sanity check of the method: a pool's threads are counted, and gone
    // after its drop.
    let pool = ThreadPool::new(4);
    assert_eq!(process_threads(), Some(baseline + 4));
    drop(pool);
    assert_back_to(baseline, "a dropped pool");

    let error = ThreadPool::builder()
        .num_threads(MAX_THREADS + 1)
        .build()
        .unwrap_err();
    assert!(matches!(
        error.kind(),
        BuildErrorKind::TooManyThreads { .. }
    ));
    assert_back_to(baseline, "TooManyThreads");

    let error = ThreadPool::builder()
        .num_threads(4)
        .stack_size(usize::MAX / 2)
        .build()
        .unwrap_err();
    assert!(matches!(error.kind(), BuildErrorKind::ThreadSpawn { .. }));
    assert_back_to(baseline, "ThreadSpawn");

    for failing in 0..4 {
        let error = ThreadPool::builder()
            .num_threads(4)
            .on_thread_start(move |index| {
                if index == failing {
                    panic!("worker {index} refuses to start");
                }
            })
            .build()
            .unwrap_err();
        assert!(
            matches!(error.kind(), BuildErrorKind::StartHookPanicked { index, .. } if *index == failing),
            "{error:?}"
        );
        assert_back_to(baseline, "StartHookPanicked");
    }
}
