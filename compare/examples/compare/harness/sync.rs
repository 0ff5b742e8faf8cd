//! The two synchronisation helpers the workloads share.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

/// Counts jobs down to zero and wakes whoever waits for that.
///
/// The jobs pay one atomic decrement each; only the last one takes the lock
/// to wake the waiter, so the latch itself adds the same small cost to every
/// contender.
#[derive(Debug)]
pub struct CountLatch {
    remaining: AtomicUsize,
    done: Mutex<bool>,
    changed: Condvar,
}

impl CountLatch {
    /// A latch that opens after `count` calls to [`count_down`](Self::count_down).
    pub fn new(count: usize) -> Self {
        Self {
            remaining: AtomicUsize::new(count),
            done: Mutex::new(count == 0),
            changed: Condvar::new(),
        }
    }

    /// One job done.
    pub fn count_down(&self) {
        // ORDERING: AcqRel, so that the last decrement sees every job's
        // writes and the waiter, woken through the mutex, sees them too.
        if self.remaining.fetch_sub(1, Ordering::AcqRel) == 1 {
            *lock(&self.done) = true;
            self.changed.notify_all();
        }
    }

    /// Blocks until the count reached zero.
    pub fn wait(&self) {
        let mut done = lock(&self.done);
        while !*done {
            done = self
                .changed
                .wait(done)
                .unwrap_or_else(PoisonError::into_inner);
        }
    }

    /// Blocks until the count reached zero or `timeout` passed; returns
    /// whether it reached zero.
    pub fn wait_timeout(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let mut done = lock(&self.done);
        while !*done {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            done = self
                .changed
                .wait_timeout(done, left)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
        true
    }

    /// How many jobs are still to come.
    pub fn remaining(&self) -> usize {
        self.remaining.load(Ordering::Acquire)
    }
}

/// Holds a pool's workers inside jobs until it opens, so that what is
/// queued meanwhile stays queued.
#[derive(Debug, Default)]
pub struct Gate {
    state: Mutex<GateState>,
    changed: Condvar,
}

#[derive(Debug, Default)]
struct GateState {
    held: usize,
    open: bool,
}

impl Gate {
    /// Called by a job: counts this worker as held, then blocks until the
    /// gate opens.
    pub fn hold(&self) {
        let mut state = lock(&self.state);
        state.held += 1;
        self.changed.notify_all();
        while !state.open {
            state = self
                .changed
                .wait(state)
                .unwrap_or_else(PoisonError::into_inner);
        }
    }

    /// Waits until `workers` jobs are held; `false` if that did not happen
    /// within `timeout` (a pool that does not run one job per worker).
    pub fn wait_until_held(&self, workers: usize, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let mut state = lock(&self.state);
        while state.held < workers {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            state = self
                .changed
                .wait_timeout(state, left)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
        true
    }

    /// Lets every held job, and every later one, through.
    pub fn open(&self) {
        lock(&self.state).open = true;
        self.changed.notify_all();
    }
}

/// A panic in a benchmark job is a bug that has been reported already; the
/// data behind these locks stays valid, so poisoning is ignored.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}
