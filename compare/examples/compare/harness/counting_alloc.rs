//! A global allocator that counts, for the heap-per-queued-job workload.
//!
//! Only the compare example and the `heap` bench install it (as their
//! `#[global_allocator]`); every other bench keeps the system allocator
//! untouched. Counting is off except inside [`CountingAllocator::measure`],
//! so the rest of a run pays one relaxed load per allocation.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// Wraps [`System`], counting allocation calls and bytes while switched on.
#[derive(Debug)]
pub struct CountingAllocator {
    counting: AtomicBool,
    allocations: AtomicU64,
    allocated: AtomicU64,
    freed: AtomicU64,
}

/// What happened on the heap while a closure ran, on all threads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct HeapDelta {
    /// Calls to `alloc`, `alloc_zeroed` and `realloc`.
    pub allocations: u64,
    /// Bytes allocated minus bytes freed: what is still held afterwards.
    pub net_bytes: i64,
}

impl CountingAllocator {
    /// An allocator that is not counting yet.
    pub const fn new() -> Self {
        Self {
            counting: AtomicBool::new(false),
            allocations: AtomicU64::new(0),
            allocated: AtomicU64::new(0),
            freed: AtomicU64::new(0),
        }
    }

    /// Runs `f` with counting on and returns what it did to the heap. Do
    /// not nest calls, nor run two at once.
    pub fn measure<R>(&self, f: impl FnOnce() -> R) -> (R, HeapDelta) {
        let before = self.totals();
        // ORDERING: SeqCst on the switch only: the counters themselves are
        // read after `f` returned, when the allocations of interest are done.
        self.counting.store(true, Ordering::SeqCst);
        let result = f();
        self.counting.store(false, Ordering::SeqCst);
        let after = self.totals();
        let delta = HeapDelta {
            allocations: after.0 - before.0,
            net_bytes: (after.1 - before.1) as i64 - (after.2 - before.2) as i64,
        };
        (result, delta)
    }

    fn totals(&self) -> (u64, u64, u64) {
        (
            self.allocations.load(Ordering::SeqCst),
            self.allocated.load(Ordering::SeqCst),
            self.freed.load(Ordering::SeqCst),
        )
    }

    fn on_alloc(&self, size: usize) {
        if self.counting.load(Ordering::Relaxed) {
            self.allocations.fetch_add(1, Ordering::Relaxed);
            self.allocated.fetch_add(size as u64, Ordering::Relaxed);
        }
    }

    fn on_free(&self, size: usize) {
        if self.counting.load(Ordering::Relaxed) {
            self.freed.fetch_add(size as u64, Ordering::Relaxed);
        }
    }
}

impl Default for CountingAllocator {
    fn default() -> Self {
        Self::new()
    }
}

// SAFETY: every method forwards to `System` with the caller's arguments
// unchanged, so `System`'s guarantees are ours; counting touches only atomics
// and never allocates.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        self.on_alloc(layout.size());
        // SAFETY: forwarded as is; the caller upholds `alloc`'s contract.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        self.on_alloc(layout.size());
        // SAFETY: forwarded as is; the caller upholds `alloc_zeroed`'s contract.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        self.on_free(layout.size());
        // SAFETY: forwarded as is; `ptr` came from `System` through us.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        self.on_free(layout.size());
        self.on_alloc(new_size);
        // SAFETY: forwarded as is; `ptr` came from `System` through us.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}
