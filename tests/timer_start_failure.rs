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

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use support::HANG_GUARD;

/// Set in the child's environment; the child scenarios do nothing without it.
const CHILD: &str = "TASKPOOL_TIMER_START_FAILURE_CHILD";

/// Runs test `name` of this binary in a child process whose threads cannot
/// be spawned, and returns its exit status and output. A child that runs
/// past [`HANG_GUARD`] is killed, and that is a failure.
fn run_child(name: &str) -> (bool, String) {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([name, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD, "1")
        // 1 PiB: more than the address space of any process.
        .env("RUST_MIN_STACK", (1_u64 << 50).to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > HANG_GUARD {
            child.kill().unwrap();
            let output = child.wait_with_output().unwrap();
            panic!(
                "the child hangs: a sleep never fired\nstdout:\n{}\nstderr:\n{}",
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr),
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let output = child.wait_with_output().unwrap();
    let text = format!(
        "stdout:\n{}\nstderr:\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr),
    );
    (status.success(), text)
}

/// The message of the panic of `f`, which must panic.
fn panic_message(f: impl FnOnce()) -> String {
    let payload = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f))
        .expect_err("a timer that cannot start must be reported");
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_default()
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
