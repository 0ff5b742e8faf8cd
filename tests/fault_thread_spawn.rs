//! A thread the system refuses after some workers already started.
//!
//! The address-space limit of the process (`RLIMIT_AS`) is lowered so that
//! exactly one more worker stack fits: the first worker starts, the second
//! cannot be spawned. The limit is process-wide, so this is the only test
//! in this file (each test file is its own process), and it restores the
//! limit before it checks anything.

#![cfg(target_os = "linux")]

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use support::{mapped_bytes, process_threads};
use taskpool::{BuildErrorKind, ThreadPool};

fn threads() -> usize {
    process_threads().expect("Threads in /proc/self/status")
}

/// Outcome: `build` returns `ThreadSpawn { index: 1 }` with the OS error;
/// worker 0, which had started and run its start hook, is stopped and
/// joined before `build` returns (no thread is left behind), and every
/// closure given to the builder is dropped. With the limit back, a pool
/// builds and runs.
#[test]
#[cfg_attr(miri, ignore = "sets a process limit through libc")]
fn a_thread_refused_after_the_first_worker_started_fails_the_build_and_stops_that_worker() {
    const STACK: u64 = 1 << 30;
    let threads_before = threads();
    let started = Arc::new(AtomicUsize::new(0));
    let hook_started = started.clone();
    let builder = ThreadPool::builder()
        .num_threads(3)
        .stack_size(STACK as usize)
        .on_thread_start(move |_| {
            hook_started.fetch_add(1, Ordering::SeqCst);
        });

    let mut old = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: a valid pointer to an `rlimit` for the call to fill.
    assert_eq!(unsafe { libc::getrlimit(libc::RLIMIT_AS, &mut old) }, 0);
    // Room for one more worker stack (and some slack), not for two.
    let limit = mapped_bytes() + STACK + STACK / 2;
    let lowered = libc::rlimit {
        rlim_cur: limit.min(old.rlim_max),
        rlim_max: old.rlim_max,
    };
    // SAFETY: a valid `rlimit`; lowering the soft limit is always allowed.
    assert_eq!(unsafe { libc::setrlimit(libc::RLIMIT_AS, &lowered) }, 0);
    let built = builder.build();
    // SAFETY: restores the limit read above (the hard limit is unchanged).
    assert_eq!(unsafe { libc::setrlimit(libc::RLIMIT_AS, &old) }, 0);

    let error = built.expect_err("the second worker's stack does not fit");
    match error.kind() {
        BuildErrorKind::ThreadSpawn { index, source } => {
            assert_eq!(*index, 1, "{error}");
            assert!(source.raw_os_error().is_some(), "an OS error: {source}");
        }
        other => panic!("unexpected error {other:?}"),
    }
    assert_eq!(
        started.load(Ordering::SeqCst),
        1,
        "worker 0 started, and only it"
    );
    assert_eq!(
        Arc::strong_count(&started),
        1,
        "the builder's hook was dropped"
    );
    assert_eq!(threads(), threads_before, "worker 0 was joined");

    let pool = ThreadPool::new(2);
    assert_eq!(pool.spawn(|| 6 * 7).join().unwrap(), 42);
    pool.shutdown();
    if let Some(live) = pool.debug_live_tasks() {
        assert_eq!(live, 0);
    }
}
