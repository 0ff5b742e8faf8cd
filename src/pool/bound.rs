//! The opt-in bound on queued work ([`Builder::max_queued`](crate::Builder::max_queued)).
//!
//! ```text
//! Bound (in the Registry, only when max_queued is set)
//!   pending: AtomicUsize   queue entries pushed and not yet taken to run
//!   waiters: AtomicUsize   outside submitters waiting for room
//!   lock + room: Condvar   where they wait
//! ```
//!
//! `pending` counts every entry on the pool's queues: it goes up *before* a
//! push and down when a worker takes the entry off a queue to run it (in
//! `WorkerThread::execute`, and where a fork-join takes its own half back).
//! So the queues never hold more than `pending`, and a new submission is
//! admitted only by raising `pending` from below the limit
//! ([`Bound::try_reserve`], one compare-exchange): new work never makes the
//! queues hold more than the limit. Work the pool accepted already (a woken
//! or yielding task, a fork-join half) is counted without the check
//! ([`Bound::add`]): it is never refused and never waits, and while it is
//! queued it takes room from new submissions.
//!
//! A pool without the bound has no `Bound` at all: its submissions touch no
//! counter.
//!
//! # Waiting for room without a lost wake-up
//!
//! A waiter, under `lock`: adds itself to `waiters`, tries to reserve, and
//! waits on `room` if that failed (releasing `lock`). A worker that takes an
//! entry: lowers `pending`, then reads `waiters`, and if it is not zero,
//! takes `lock` and wakes one waiter. Each side has a `SeqCst` fence between
//! its write and its read (a Dekker pairing): either the worker's read sees
//! the waiter (and, taking `lock`, finds it waiting or about to re-check),
//! or the waiter's reservation sees the lowered count. The fences, rather
//! than `SeqCst` accesses alone, are what loom checks (`models/bound.rs`):
//! it treats `SeqCst` accesses as `AcqRel`, and without the fences reports
//! the lost wake-up that `SeqCst` accesses alone rule out on real hardware.
//! Shutdown takes `lock` and wakes every waiter, which then sees the pool
//! closed and gives up.

use crate::sync::{AtomicUsize, Condvar, Mutex, Ordering, fence};
use crossbeam_utils::CachePadded;

/// The bound on queued work of one pool.
#[derive(Debug)]
pub(super) struct Bound {
    limit: usize,
    pending: CachePadded<AtomicUsize>,
    waiters: AtomicUsize,
    lock: Mutex<()>,
    room: Condvar,
}

impl Bound {
    pub(super) fn new(limit: usize) -> Self {
        debug_assert!(limit >= 1);
        Self {
            limit,
            pending: CachePadded::new(AtomicUsize::new(0)),
            waiters: AtomicUsize::new(0),
            lock: Mutex::new(()),
            room: Condvar::new(),
        }
    }

    /// Admits one new entry if fewer than the limit are pending.
    #[inline]
    pub(super) fn try_reserve(&self) -> bool {
        // ORDERING: SeqCst, for the waiters' protocol (module doc).
        let mut now = self.pending.load(Ordering::SeqCst);
        loop {
            if now >= self.limit {
                return false;
            }
            match self.pending.compare_exchange_weak(
                now,
                now + 1,
                Ordering::SeqCst,
                Ordering::SeqCst,
            ) {
                Ok(_) => return true,
                Err(actual) => now = actual,
            }
        }
    }

    /// Counts an entry the pool accepts whatever the count (work it had
    /// accepted already).
    #[inline]
    pub(super) fn add(&self) {
        // ORDERING: SeqCst, as in `try_reserve`.
        self.pending.fetch_add(1, Ordering::SeqCst);
    }

    /// An entry left the queues (taken to run, or never pushed after all):
    /// wakes a waiter if there is one.
    #[inline]
    pub(super) fn release(&self) {
        // ORDERING: this write, a fence, then the read of `waiters`: pairs
        // with a waiter's increment, fence and reservation (module doc).
        self.pending.fetch_sub(1, Ordering::SeqCst);
        fence(Ordering::SeqCst);
        if self.waiters.load(Ordering::SeqCst) > 0 {
            let _lock = self.lock.lock();
            self.room.notify_one();
        }
    }

    /// Admits one new entry, waiting for room as long as it takes, unless
    /// `refused()` says the pool takes no more (then returns `false`).
    pub(super) fn reserve_waiting(&self, refused: impl Fn() -> bool) -> bool {
        if self.try_reserve() {
            return true;
        }
        let mut lock = self.lock.lock();
        // ORDERING: this write, a fence, then the reservation's read of
        // `pending`: pairs with `release` (module doc).
        self.waiters.fetch_add(1, Ordering::SeqCst);
        fence(Ordering::SeqCst);
        let admitted = loop {
            if refused() {
                break false;
            }
            if self.try_reserve() {
                break true;
            }
            self.room.wait(&mut lock);
        };
        // ORDERING: SeqCst like the increment; a stale non-zero read in
        // `release` costs one needless wake-up, never a lost one.
        self.waiters.fetch_sub(1, Ordering::SeqCst);
        admitted
    }

    /// Entries counted as queued now.
    pub(super) fn pending(&self) -> usize {
        // ORDERING: Relaxed: a statistic.
        self.pending.load(Ordering::Relaxed)
    }

    /// Shutdown began: every waiter re-checks, and gives up.
    pub(super) fn wake_all(&self) {
        let _lock = self.lock.lock();
        self.room.notify_all();
    }
}
