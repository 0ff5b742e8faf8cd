//! The sleep/wake protocol of `pool/sleep.rs`: two workers, one submitter;
//! and one worker woken through the woken queue.

use super::Signal;
use super::flag::{set_and_wake, spawn_waiting};
use crate::ThreadPool;
use crate::sync::Arc;

/// A job submitted from outside to a pool whose workers may be asleep, or
/// on their way to sleep, is run: no wake-up is lost.
///
/// Planted bug seen caught: dropping the `has_work()` recheck after a
/// sleeper registers in `SleepState::sleep` (a worker that registers just after
/// the submitter read the word sleeps through the job: loom reports a
/// deadlock).
#[test]
fn outside_submit_wakes_a_sleeping_worker() {
    super::model(|| {
        let pool = ThreadPool::new(2);
        let done = Arc::new(Signal::default());
        let signal = done.clone();
        pool.execute(move || signal.set());
        done.wait();
        drop(pool);
    });
}

/// A job a worker pushes on its own deque while the other worker falls
/// asleep is run by that other worker: the pusher blocks in its job without
/// helping, so only a wake-up (or the sleeper's recheck) can save it.
///
/// This needs the Chase-Lev stand-in of `pool/queue.rs`, whose indices
/// carry crossbeam-deque's orderings: with a mutex for a deque, the lock
/// itself ordered the push before the sleeper's recheck (or the
/// registration before the pusher's read), and the fence of
/// `notify_pushed_locally` was invisible to every model. loom models
/// `fence(SeqCst)` (its `SeqCst` loads, stores and read-modify-writes are
/// only `AcqRel`), which is exactly what this pairing rests on: the pusher's
/// fence against the one after a sleeper's registration (see `sleep.md`).
///
/// Planted bug seen caught: removing the `SeqCst` fence of
/// `SleepState::notify_pushed_locally` (issue 10, planted bug 1): loom reports a
/// deadlock (the pusher read a sleep word without the sleeper, the sleeper's
/// recheck read the deque without the job).
/// Result, `LOOM_MAX_PREEMPTIONS=2`, release: with the fence, 79,464
/// interleavings in 13 s, no failure; with it removed, loom reports
/// `deadlock; threads = [(Id(0), Blocked..), (Id(1), Blocked..), (Id(2),
/// Blocked..)]` within a few milliseconds (the process then aborts in
/// loom's clean-up). With the former mutex stand-in for the deque and the
/// fence removed, this model passed (197,872 interleavings): the stand-in,
/// not the scenario, is what kills the bug.
#[test]
fn local_push_wakes_a_worker_falling_asleep() {
    super::model(|| {
        let pool = ThreadPool::new(2);
        let done = Arc::new(Signal::default());
        let signal = done.clone();
        pool.execute(move || {
            let inner = Arc::new(Signal::default());
            let inner_signal = inner.clone();
            // On a worker: onto this worker's own deque.
            crate::execute(move || inner_signal.set());
            // Blocks this worker without running its own deque.
            inner.wait();
            signal.set();
        });
        done.wait();
        drop(pool);
    });
}

/// A task woken from outside while the worker falls asleep is run: the
/// wake-up goes on the woken queue (not the injector), through the same
/// gate and fence, and the sleeper's recheck looks at that queue too. The
/// main thread itself wakes the task, at any point of the worker's way to
/// sleep (or before the first poll, which then sees the flag). One worker:
/// with two, the model takes longer than ten minutes.
///
/// Planted bug seen caught: `Registry::has_queued_work` not looking at the
/// woken queue (the sleeper's recheck misses the woken task that the waker,
/// which saw the worker still searching, did not wake it for): loom
/// reports a deadlock. Result, `LOOM_MAX_PREEMPTIONS=2`, release: 29,838
/// interleavings in 10 s, no failure.
#[test]
fn outside_wake_wakes_a_worker_falling_asleep() {
    super::model(|| {
        let pool = ThreadPool::new(1);
        let waiting = spawn_waiting(&pool);
        set_and_wake(&waiting.flag, &waiting.slot);
        assert!(waiting.task.join().is_ok());
        assert_eq!(waiting.future_drops.get(), 1);
        drop(pool);
    });
}
