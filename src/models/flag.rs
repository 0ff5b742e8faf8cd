//! The future the waker and shutdown models wait on, and the outside
//! thread that wakes it.
//!
//! The future is hand-written: it stores its waker in a shared slot, then
//! looks at a flag; the waking thread sets the flag, then takes the waker
//! from the slot and wakes it. A wake-up the pool loses leaves the future
//! pending forever: the join deadlocks, which loom reports.

use super::{Count, DropTracker};
use crate::ThreadPool;
use crate::sync::{Arc, AtomicBool, Mutex, Ordering};
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

/// Ready once its flag is set; otherwise leaves its waker in the slot.
pub(crate) struct WaitForFlag {
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
pub(crate) fn set_and_wake(flag: &AtomicBool, slot: &Mutex<Option<Waker>>) {
    flag.store(true, Ordering::Release);
    let waker = slot.lock().take();
    if let Some(waker) = waker {
        waker.wake();
    }
}

/// A spawned [`WaitForFlag`] task, the two ends its waking thread needs, and
/// the counts the model asserts on.
pub(crate) struct Waiting {
    pub(crate) task: crate::Task<DropTracker>,
    pub(crate) flag: Arc<AtomicBool>,
    pub(crate) slot: Arc<Mutex<Option<Waker>>>,
    pub(crate) ready: Count,
    pub(crate) future_drops: Count,
    pub(crate) output_drops: Count,
}

pub(crate) fn spawn_waiting(pool: &ThreadPool) -> Waiting {
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
