//! A blocking thread the system refuses to start.
//!
//! The address-space limit of the process (`RLIMIT_AS`) is lowered so that
//! no new thread stack fits. The limit is process-wide, so this is the only
//! test in this file (each test file is its own process), and it restores
//! the limit before it checks anything.

#![cfg(target_os = "linux")]

mod support;

use std::sync::Arc;
use support::{Gate, join_guarded, mapped_bytes, wait_until};
use taskpool::ThreadPool;

const STACK: u64 = 1 << 30;

fn set_limit(limit: libc::rlimit) {
    // SAFETY: a valid `rlimit`; the hard limit is never raised.
    assert_eq!(unsafe { libc::setrlimit(libc::RLIMIT_AS, &limit) }, 0);
}

/// The current limit, and one that leaves room for no new thread stack.
fn limits() -> (libc::rlimit, libc::rlimit) {
    let mut old = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: a valid pointer to an `rlimit` for the call to fill.
    assert_eq!(unsafe { libc::getrlimit(libc::RLIMIT_AS, &mut old) }, 0);
    let lowered = libc::rlimit {
        rlim_cur: (mapped_bytes() + STACK / 2).min(old.rlim_max),
        rlim_max: old.rlim_max,
    };
    (old, lowered)
}

/// Outcome: with no blocking thread alive and none startable, the task
/// ends at once as panicked, with the OS error in its message (never a
/// hang). With one blocking thread alive (held at a gate), a call whose own
/// thread cannot start waits in the queue and runs on that thread later.
/// The pool stays usable once the limit is back.
#[test]
#[cfg_attr(miri, ignore = "sets a process limit through libc")]
fn a_refused_blocking_thread_fails_the_task_or_leaves_it_to_a_live_thread() {
    let pool = ThreadPool::builder()
        .num_threads(1)
        .stack_size(STACK as usize)
        .build()
        .unwrap();

    let (old, lowered) = limits();
    set_limit(lowered);
    let mut failed = pool.spawn_blocking(|| "ran");
    let finished = failed.is_finished();
    set_limit(old);
    assert!(finished, "the task ended at once");
    let error = failed.join().unwrap_err();
    assert!(error.is_panic(), "{error}");
    let message = error.panic_message().unwrap().to_owned();
    assert!(
        message.contains("no blocking thread could be started"),
        "{message}"
    );
    assert_eq!(pool.metrics().blocking_threads, 0);

    // One live thread, held; then a call whose new thread cannot start.
    let gate = Arc::new(Gate::new());
    let held = {
        let gate = gate.clone();
        pool.spawn_blocking(move || gate.wait())
    };
    wait_until("the held call runs", || pool.metrics().blocking_queued == 0);
    let (old, lowered) = limits();
    set_limit(lowered);
    let waiting = pool.spawn_blocking(|| "ran later");
    let queued = pool.metrics().blocking_queued;
    set_limit(old);
    assert_eq!(queued, 1, "the call waits for the live thread");
    assert_eq!(pool.metrics().blocking_threads, 1);
    gate.open();
    join_guarded("the held call", held).unwrap();
    assert_eq!(
        join_guarded("the waiting call", waiting).unwrap(),
        "ran later"
    );
    failed = pool.spawn_blocking(|| "ran");
    assert_eq!(failed.join().unwrap(), "ran");
    pool.shutdown();
    if let Some(live) = pool.debug_live_tasks() {
        assert_eq!(live, 0);
    }
}
