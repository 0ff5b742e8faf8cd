//! Counting runs: [`Slots`] (one count per job id) and [`Counter`] (a total
//! a thread can wait for).

use super::hang::HANG_GUARD;
use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex};
use std::time::Instant;
/// One counter per job id, to check that every job ran exactly once (a total
/// alone would hide one job run twice and another never).
pub struct Slots {
    slots: Vec<AtomicU8>,
}

impl Slots {
    pub fn new(len: usize) -> Self {
        Self {
            slots: (0..len).map(|_| AtomicU8::new(0)).collect(),
        }
    }

    pub fn len(&self) -> usize {
        self.slots.len()
    }

    /// Records one run of job `id`.
    pub fn hit(&self, id: usize) {
        // Saturate instead of wrapping, so that 256 runs never read as 0.
        let _ = self.slots[id].fetch_update(Ordering::Relaxed, Ordering::Relaxed, |count| {
            Some(count.saturating_add(1))
        });
    }

    /// How many times job `id` ran (saturating at 255).
    pub fn count(&self, id: usize) -> u8 {
        self.slots[id].load(Ordering::Relaxed)
    }

    /// Panics unless every slot was hit exactly once, naming what went wrong.
    pub fn assert_each_exactly_once(&self) {
        let mut never = Vec::new();
        let mut twice_or_more = Vec::new();
        for (id, slot) in self.slots.iter().enumerate() {
            match slot.load(Ordering::Relaxed) {
                1 => {}
                0 => never.push(id),
                _ => twice_or_more.push(id),
            }
        }
        assert!(
            never.is_empty() && twice_or_more.is_empty(),
            "of {} jobs, {} never ran (first ids: {:?}) and {} ran more than once (first ids: {:?})",
            self.slots.len(),
            never.len(),
            &never[..never.len().min(10)],
            twice_or_more.len(),
            &twice_or_more[..twice_or_more.len().min(10)],
        );
    }
}

/// Counts finished jobs and lets a thread wait until a target is reached.
pub struct Counter {
    count: AtomicUsize,
    target: usize,
    reached: Mutex<bool>,
    changed: Condvar,
}

impl Counter {
    /// A counter that wakes its waiters once it reaches `target`.
    pub fn new(target: usize) -> Self {
        Self {
            count: AtomicUsize::new(0),
            target,
            reached: Mutex::new(false),
            changed: Condvar::new(),
        }
    }

    pub fn add(&self) {
        if self.count.fetch_add(1, Ordering::AcqRel) + 1 == self.target {
            *self.reached.lock().unwrap() = true;
            self.changed.notify_all();
        }
    }

    pub fn get(&self) -> usize {
        self.count.load(Ordering::Acquire)
    }

    /// Waits until the target is reached; panics after [`HANG_GUARD`].
    pub fn wait(&self, what: &str) {
        let deadline = Instant::now() + HANG_GUARD;
        let mut reached = self.reached.lock().unwrap();
        while !*reached {
            let now = Instant::now();
            assert!(
                now < deadline,
                "hang guard: {what}: {} of {} after {HANG_GUARD:?}",
                self.get(),
                self.target,
            );
            reached = self
                .changed
                .wait_timeout(reached, deadline - now)
                .unwrap()
                .0;
        }
    }
}
