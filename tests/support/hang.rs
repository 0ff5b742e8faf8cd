//! The hang guard, the waits bounded by it, and the Miri-aware sizes.

use std::sync::mpsc;
use std::time::{Duration, Instant};
use taskpool::{Task, TaskError};

/// How long any wait in these tests may take before it counts as a hang.
pub const HANG_GUARD: Duration = Duration::from_secs(if cfg!(miri) { 600 } else { 60 });

/// `big` normally, `small` under Miri.
pub const fn size(big: usize, small: usize) -> usize {
    if cfg!(miri) { small } else { big }
}

/// Runs `f` on a new thread and returns its result, failing the test if it
/// takes longer than [`HANG_GUARD`] (the thread is then left behind).
pub fn within<R: Send + 'static>(what: &str, f: impl FnOnce() -> R + Send + 'static) -> R {
    let (sender, receiver) = mpsc::channel();
    let thread = std::thread::Builder::new()
        .name(format!("hang-guard: {what}"))
        .spawn(move || {
            let _ = sender.send(f());
        })
        .expect("spawn a hang-guard thread");
    match receiver.recv_timeout(HANG_GUARD) {
        Ok(result) => {
            thread.join().expect("the guarded thread ended");
            result
        }
        Err(mpsc::RecvTimeoutError::Timeout) => {
            panic!("hang: `{what}` did not finish within {HANG_GUARD:?}")
        }
        Err(mpsc::RecvTimeoutError::Disconnected) => match thread.join() {
            Err(payload) => std::panic::resume_unwind(payload),
            Ok(()) => unreachable!("the thread sends before it ends"),
        },
    }
}

/// Polls `condition` until it holds, failing after [`HANG_GUARD`].
pub fn wait_until(what: &str, mut condition: impl FnMut() -> bool) {
    let start = Instant::now();
    while !condition() {
        assert!(
            start.elapsed() < HANG_GUARD,
            "hang: waited {HANG_GUARD:?} for: {what}"
        );
        std::thread::sleep(Duration::from_micros(200));
    }
}

/// Like [`wait_until`], yielding instead of sleeping between polls: for
/// short waits inside jobs, where a sleep per poll would add up.
pub fn yield_until(what: &str, mut condition: impl FnMut() -> bool) {
    let start = Instant::now();
    while !condition() {
        assert!(
            start.elapsed() < HANG_GUARD,
            "hang: waited {HANG_GUARD:?} for: {what}"
        );
        std::thread::yield_now();
    }
}

/// Joins `task` from a thread outside its pool, failing the test if it does
/// not finish within [`HANG_GUARD`].
pub fn join_guarded<T: Send + 'static>(what: &str, mut task: Task<T>) -> Result<T, TaskError> {
    assert!(
        task.wait_timeout(HANG_GUARD),
        "hang: task `{what}` did not finish within {HANG_GUARD:?}"
    );
    task.join()
}

/// Receives from `receiver`, failing the test after [`HANG_GUARD`].
pub fn recv_guarded<T>(what: &str, receiver: &mpsc::Receiver<T>) -> T {
    receiver
        .recv_timeout(HANG_GUARD)
        .unwrap_or_else(|error| panic!("hang: waiting for `{what}`: {error}"))
}

/// Busy-works for about `duration`, like a job with real work to do.
pub fn spin_for(duration: Duration) {
    let start = Instant::now();
    while start.elapsed() < duration {
        std::hint::spin_loop();
    }
}
