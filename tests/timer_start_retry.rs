//! A timer thread refused once, then allowed (issue 10, defect 8).
//!
//! The address-space limit of the process (`RLIMIT_AS`) is lowered so that
//! no new thread stack fits while the first sleep starts the timer; then it
//! is restored. The limit and the timer are process-wide, so this is the
//! only test in this file (each test file is its own process).

#![cfg(all(target_os = "linux", not(miri)))]

mod support;

use std::sync::mpsc;
use std::time::Duration;
use support::{HANG_GUARD, mapped_bytes, panic_text};

/// Outcome: the sleep polled while the timer thread cannot start panics
/// with the reason; the next sleep, once threads can start again, starts
/// the timer and fires. Before the fix the next sleep never fired.
#[test]
fn a_sleep_after_a_failed_timer_start_retries_the_start_and_fires() {
    // Warm up what the panic path allocates (the hook's first use), so that
    // under the lowered limit only the timer's stack is refused.
    support::quiet_expected_panics();
    let _ = std::panic::catch_unwind(|| panic!("{}", support::EXPECTED));

    let mut old = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: a valid pointer to an `rlimit` for the call to fill.
    assert_eq!(unsafe { libc::getrlimit(libc::RLIMIT_AS, &mut old) }, 0);
    // Room for small allocations, not for a thread's 2 MiB stack (plus its
    // guard page).
    let lowered = libc::rlimit {
        rlim_cur: (mapped_bytes() + (512 << 10)).min(old.rlim_max),
        rlim_max: old.rlim_max,
    };
    // SAFETY: a valid `rlimit`; lowering the soft limit is always allowed.
    assert_eq!(unsafe { libc::setrlimit(libc::RLIMIT_AS, &lowered) }, 0);
    let first = std::panic::catch_unwind(|| {
        taskpool::block_on(taskpool::sleep(Duration::from_millis(1)));
    });
    // SAFETY: restores the limit read above (the hard limit is unchanged).
    assert_eq!(unsafe { libc::setrlimit(libc::RLIMIT_AS, &old) }, 0);

    let payload = first.expect_err("the timer thread could not start: the sleep must say so");
    let message = panic_text(&*payload).unwrap_or_default();
    assert!(
        message.contains("failed to start the taskpool timer thread"),
        "{message:?}"
    );

    // On a thread of its own, so that a sleep that never fires is a failed
    // `recv_timeout`, not a stuck test.
    let (sender, receiver) = mpsc::channel();
    std::thread::spawn(move || {
        taskpool::block_on(taskpool::sleep(Duration::from_millis(5)));
        sender.send(()).unwrap();
    });
    receiver
        .recv_timeout(HANG_GUARD)
        .expect("the sleep after the failed start never fired");
}
