//! The waker of an async task (`task/raw.rs`, `task/state.rs`): a wake-up
//! before the first poll, during a poll, between polls and after
//! completion, from a thread outside the pool.
//!
//! The future is hand-written: it stores its waker in a shared slot, then
//! looks at a flag; the waking thread sets the flag, then takes the waker
//! from the slot and wakes it. A wake-up the pool loses leaves the future
//! pending forever: the join deadlocks, which loom reports.

use super::{Count, DropTracker};
use crate::ThreadPool;
use crate::sync::{Arc, AtomicBool, Mutex, Ordering, thread};
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

/// Ready once its flag is set; otherwise leaves its waker in the slot.
struct WaitForFlag {
    flag: Arc<AtomicBool>,
    slot: Arc<Mutex<Option<Waker>>>,
    polled_ready: Count,
    output: Option<DropTracker>,
    _dropped: DropTracker,
}

impl Future for WaitForFlag {
    type Output = DropTracker;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<DropTracker> {
        *self.slot.lock() = Some(cx.waker().clone());
        // ORDERING: Acquire pairs with the waker thread's Release store; the
        // waker is in the slot before we look, so either we see the flag or
        // the waker thread finds our waker.
        if self.flag.load(Ordering::Acquire) {
            self.polled_ready.add();
            Poll::Ready(self.output.take().expect("polled after Ready"))
        } else {
            Poll::Pending
        }
    }
}

/// The outside thread's side: set the flag, wake whatever waker is there.
fn set_and_wake(flag: &AtomicBool, slot: &Mutex<Option<Waker>>) {
    flag.store(true, Ordering::Release);
    let waker = slot.lock().take();
    if let Some(waker) = waker {
        waker.wake();
    }
}

/// A spawned [`WaitForFlag`] task, the two ends its waking thread needs, and
/// the counts the model asserts on.
struct Waiting {
    task: crate::Task<DropTracker>,
    flag: Arc<AtomicBool>,
    slot: Arc<Mutex<Option<Waker>>>,
    ready: Count,
    future_drops: Count,
    output_drops: Count,
}

fn spawn_waiting(pool: &ThreadPool) -> Waiting {
    let flag = Arc::new(AtomicBool::new(false));
    let slot = Arc::new(Mutex::new(None));
    let (ready, future_drops, output_drops) = (Count::new(), Count::new(), Count::new());
    let future = WaitForFlag {
        flag: flag.clone(),
        slot: slot.clone(),
        polled_ready: ready.clone(),
        output: Some(output_drops.tracker()),
        _dropped: future_drops.tracker(),
    };
    Waiting {
        task: pool.spawn_async(future),
        flag,
        slot,
        ready,
        future_drops,
        output_drops,
    }
}

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
