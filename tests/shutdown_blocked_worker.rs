//! Shutdown while a job waits inside the pool: the pool must not stop under
//! a worker that is blocked in a job (`pool/sleep.md`, "Shutdown", step 2).
//!
//! Every wait is bounded by the hang guard of `support`; nothing here
//! asserts on timing.

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::Duration;
use support::{recv_guarded, within};
use taskpool::ThreadPool;

/// One worker, a job waiting in `block_on(sleep(..))` when `shutdown`
/// begins: the sleep is not a task, so nothing cancels it; the shutdown
/// waits for the job, which finishes normally before `shutdown` returns.
///
/// Planted bug seen caught (issue 10, planted bug 2): the pool terminating
/// while a worker is blocked (the `registered.blocked() != 0` check in
/// `SleepState::try_terminate` removed): the blocked worker, the only one, finds
/// the closed pool quiescent and terminates it from inside its wait, and
/// the process aborts ("taskpool: internal invariant broken, aborting: the
/// pool terminated under a worker blocked inside a job"), so the test
/// binary fails.
#[test]
fn shutdown_waits_for_a_job_blocked_in_block_on_sleep() {
    shutdown_waits_for_a_blocked_job(1);
}

/// The same with two workers, the other one idle: it must not terminate
/// the pool under its blocked sibling either.
#[test]
fn shutdown_waits_for_a_job_blocked_in_block_on_sleep_beside_an_idle_worker() {
    shutdown_waits_for_a_blocked_job(2);
}

/// One job blocks in `block_on(sleep(50 ms))` on a pool of `threads`;
/// `shutdown` returns only after it finished.
fn shutdown_waits_for_a_blocked_job(threads: usize) {
    within("shutdown while a job sleeps", move || {
        let pool = ThreadPool::new(threads);
        let finished = Arc::new(AtomicBool::new(false));
        let (started_sender, started) = mpsc::channel();
        {
            let finished = finished.clone();
            pool.execute(move || {
                started_sender.send(()).unwrap();
                taskpool::block_on(taskpool::sleep(Duration::from_millis(50)));
                finished.store(true, Ordering::SeqCst);
            });
        }
        recv_guarded("the job starts", &started);
        pool.shutdown();
        assert!(
            finished.load(Ordering::SeqCst),
            "shutdown returned before the blocked job finished"
        );
        assert_eq!(pool.metrics().panicked, 0);
    });
}
