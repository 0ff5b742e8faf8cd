//! The waker of an async task (`task/raw.rs`, `task/state.rs`): a wake-up
//! before the first poll, during a poll, between polls and after
//! completion, from a thread outside the pool, with the future of
//! `flag.rs`.

use super::flag::{Waiting, set_and_wake, spawn_waiting};
use crate::ThreadPool;
use crate::sync::thread;

/// The joined case: every interleaving of the wake-up with the polls ends
/// with the task complete, polled to `Ready` once, its future dropped once.
///
/// Planted bug seen caught: `transition_to_idle` going idle although a
/// wake-up arrived during the poll (its `is_scheduled` branch removed): the
/// wake-up is swallowed, the task is never polled again, and loom reports a
/// deadlock (the joiner and the worker both blocked).
#[test]
fn wake_before_during_or_after_poll_is_never_lost() {
    super::model(|| {
        let pool = ThreadPool::new(1);
        let Waiting {
            task,
            flag,
            slot,
            ready,
            future_drops,
            output_drops,
        } = spawn_waiting(&pool);
        let waker_thread = thread::spawn(move || set_and_wake(&flag, &slot));
        let output = task.join().expect("the future completes");
        assert_eq!(ready.get(), 1);
        assert_eq!(future_drops.get(), 1, "dropped at completion");
        drop(output);
        assert_eq!(output_drops.get(), 1);
        waker_thread.join().unwrap();
        drop(pool);
    });
}

/// The handle dropped at once: the waker may fire after completion, or
/// hold the task's last reference and free it on the waking thread. The
/// future and its output are dropped exactly once, by the pool, and the
/// task is freed (else loom reports the leaked registry `Arc`). (A wake-up
/// racing the shutdown is `shutdown.rs`'s.)
///
/// Planted bug seen caught: the waker's `wake` (by value) not releasing
/// the waker's reference (`mem::forget` after `notify`): loom reports "Arc
/// leaked" (in both models of this file).
/// Planted and not caught, on purpose: `transition_to_notified` queueing a
/// task that is already complete (its `is_complete` check removed): the extra
/// queue entry finds the task complete in `transition_to_running` and only
/// drops its reference, so nothing observable goes wrong.
#[test]
fn wake_after_completion_or_with_handle_dropped() {
    super::model(|| {
        let pool = ThreadPool::new(1);
        let Waiting {
            task,
            flag,
            slot,
            ready,
            future_drops,
            output_drops,
        } = spawn_waiting(&pool);
        drop(task);
        let waker_thread = thread::spawn(move || set_and_wake(&flag, &slot));
        waker_thread.join().unwrap();
        drop(pool);
        // Woken before the shutdown began, so it ran to the end.
        assert_eq!(ready.get(), 1);
        assert_eq!(future_drops.get(), 1);
        assert_eq!(output_drops.get(), 1);
    });
}
