//! Helpers shared by the `tests/pool_*.rs` files.
//!
//! Every wait here has a deadline of [`HANG_GUARD`]: it is not a timing
//! assertion, only a way to turn a hang (a lost job, a lost wake-up, a
//! deadlock) into a test failure with a message instead of a stuck suite.

// Each test file uses only some of these helpers.
#![allow(dead_code)]

use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};

/// How long any wait in these tests may take before it counts as a hang.
pub const HANG_GUARD: Duration = Duration::from_secs(30);

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

/// A gate that jobs wait at until the test opens it.
#[derive(Default)]
pub struct Gate {
    open: Mutex<bool>,
    changed: Condvar,
}

impl Gate {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn open(&self) {
        *self.open.lock().unwrap() = true;
        self.changed.notify_all();
    }

    pub fn is_open(&self) -> bool {
        *self.open.lock().unwrap()
    }

    /// Waits until the gate opens; panics after [`HANG_GUARD`] (inside a job,
    /// that panic reaches the pool, and the test then sees a missing run).
    pub fn wait(&self) {
        let deadline = Instant::now() + HANG_GUARD;
        let mut open = self.open.lock().unwrap();
        while !*open {
            let now = Instant::now();
            assert!(now < deadline, "hang guard: gate never opened");
            open = self.changed.wait_timeout(open, deadline - now).unwrap().0;
        }
    }
}

/// Polls `condition` until it holds; panics with `what` after [`HANG_GUARD`].
pub fn wait_until(what: &str, mut condition: impl FnMut() -> bool) {
    let deadline = Instant::now() + HANG_GUARD;
    while !condition() {
        assert!(Instant::now() < deadline, "hang guard: {what}");
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// Like [`wait_until`], yielding instead of sleeping between polls: for
/// short waits inside jobs, where a millisecond per poll would add up.
pub fn yield_until(what: &str, mut condition: impl FnMut() -> bool) {
    let deadline = Instant::now() + HANG_GUARD;
    while !condition() {
        assert!(Instant::now() < deadline, "hang guard: {what}");
        std::thread::yield_now();
    }
}

/// Busy-works for about `duration`, like a job with real work to do.
pub fn spin_for(duration: Duration) {
    let start = Instant::now();
    while start.elapsed() < duration {
        std::hint::spin_loop();
    }
}

/// The number of threads of this process, from `/proc/self/status`, or
/// `None` where that file does not exist (not Linux).
pub fn process_threads() -> Option<usize> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("Threads:"))
        .and_then(|count| count.trim().parse().ok())
}

/// The name of the thread running the caller, or `""`.
pub fn current_thread_name() -> String {
    std::thread::current().name().unwrap_or("").to_owned()
}
