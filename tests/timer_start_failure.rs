//! A timer thread that the system refuses to start (issue 10, defect 8).
//!
//! The timer thread is process-wide and started once, so each scenario runs
//! in a child process: this test binary again, filtered to one test, with
//! [`CHILD`] set in its environment and a `RUST_MIN_STACK` larger than any
//! address space, so that every `std::thread::spawn` without an explicit
//! stack size fails. (libtest then runs the test on its main thread: it
//! falls back to that when a test thread cannot be spawned.)

#![cfg(all(target_os = "linux", not(miri)))]

mod support;

use std::time::Duration;
use support::{panic_text, run_in_child};

/// Set in the child's environment; the child scenarios do nothing without it.
const CHILD: &str = "TASKPOOL_TIMER_START_FAILURE_CHILD";

/// Runs test `name` of this binary in a child process whose threads cannot
/// be spawned, and returns whether it succeeded, and its output. A child
/// that runs past [`support::HANG_GUARD`] is killed, and that is a failure.
fn run_child(name: &str) -> (bool, String) {
    // 1 PiB: more than the address space of any process.
    let min_stack = (1_u64 << 50).to_string();
    let child = run_in_child(
        name,
        &[(CHILD, "1"), ("RUST_MIN_STACK", &min_stack)],
        "the child hangs: a sleep never fired",
    );
    (child.status.success(), child.both())
}

/// The message of the panic of `f`, which must panic.
fn panic_message(f: impl FnOnce()) -> String {
    let payload = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f))
        .expect_err("a timer that cannot start must be reported");
    panic_text(&*payload).unwrap_or_default().to_owned()
}

/// The child: every sleep panics with the reason, none hangs.
#[test]
fn child_every_sleep_reports_the_failed_start() {
    if std::env::var_os(CHILD).is_none() {
        return;
    }
    for attempt in 0..3 {
        let message = panic_message(|| {
            taskpool::block_on(taskpool::sleep(Duration::from_millis(1)));
        });
        assert!(
            message.contains("failed to start the taskpool timer thread"),
            "attempt {attempt}: {message:?}"
        );
    }
    // `cancel_after` uses the same timer, and says so too.
    let token = taskpool::CancellationToken::new();
    let message = panic_message(|| token.cancel_after(Duration::from_millis(1)));
    assert!(message.contains("failed to start the taskpool timer thread"));
    assert!(!token.is_cancelled());
    // A zero-length or elapsed sleep needs no timer and still completes.
    taskpool::block_on(taskpool::sleep(Duration::ZERO));
}

/// Outcome: with the timer thread refused, the first sleep and every later
/// one (and `cancel_after`) panic with "failed to start the taskpool timer
/// thread" and the OS error. Before the fix the first panicked and every
/// later sleep never fired: the child hung.
#[test]
fn every_sleep_after_a_failed_timer_start_reports_it_instead_of_hanging() {
    if std::env::var_os(CHILD).is_some() {
        return;
    }
    let (success, output) = run_child("child_every_sleep_reports_the_failed_start");
    assert!(success, "the child failed\n{output}");
    assert!(
        output.contains("1 passed"),
        "the child test did not run\n{output}"
    );
}
