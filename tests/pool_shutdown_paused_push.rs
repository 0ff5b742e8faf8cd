//! An outside submission that is inside its push while the pool shuts down
//! is either refused, or run by a worker before `shutdown` returns and
//! counted; never run on the submitting thread.
//!
//! To hold the submitter inside the push, this process has a global
//! allocator that pauses the submitting thread while it allocates the
//! injector's next block (crossbeam's injector allocates one, of about a
//! kilobyte, every few dozen pushes, from inside `push`). Alone in its own
//! file for that reason.

mod support;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use taskpool::ThreadPool;

/// Allocations at least this big on an armed thread are the injector's
/// blocks; the jobs' own boxes are far smaller.
const BLOCK_SIZE_AT_LEAST: usize = 512;
/// How long the push stays paused at most. A correct pool waits for the
/// paused submitter before it stops, so the pause ends by this timeout; a
/// pool that stops without it ends the pause as soon as `shutdown` returns.
/// (Not an assertion: a slow machine only makes the race less likely.)
const PAUSE_AT_MOST: Duration = Duration::from_millis(500);

thread_local! {
    /// Set on the submitting thread while it submits.
    static ARMED: Cell<bool> = const { Cell::new(false) };
    /// Set on the submitting thread for the life of the test.
    static ON_SUBMITTER: Cell<bool> = const { Cell::new(false) };
}
static PAUSED_IN_PUSH: AtomicBool = AtomicBool::new(false);
static SHUTDOWN_RETURNED: AtomicBool = AtomicBool::new(false);

struct PausingAllocator;

impl PausingAllocator {
    fn maybe_pause(layout: Layout) {
        if layout.size() >= BLOCK_SIZE_AT_LEAST && ARMED.get() {
            // Once only, and nothing here allocates.
            ARMED.set(false);
            PAUSED_IN_PUSH.store(true, Ordering::SeqCst);
            let start = Instant::now();
            while !SHUTDOWN_RETURNED.load(Ordering::SeqCst) && start.elapsed() < PAUSE_AT_MOST {
                std::thread::sleep(Duration::from_millis(1));
            }
        }
    }
}

// SAFETY: forwards every call to `System` unchanged; the pause only delays.
unsafe impl GlobalAlloc for PausingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        Self::maybe_pause(layout);
        // SAFETY: the caller upholds `GlobalAlloc::alloc`'s contract.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        Self::maybe_pause(layout);
        // SAFETY: the caller upholds `GlobalAlloc::alloc_zeroed`'s contract.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller upholds `GlobalAlloc::dealloc`'s contract.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: the caller upholds `GlobalAlloc::realloc`'s contract.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: PausingAllocator = PausingAllocator;

#[test]
#[cfg_attr(
    miri,
    ignore = "pauses a thread inside the allocator for up to half a second"
)]
fn an_outside_push_paused_across_shutdown_runs_on_a_worker_before_shutdown_returns() {
    let pool = Arc::new(ThreadPool::new(1));
    let ran = Arc::new(AtomicUsize::new(0));
    let ran_on_submitter = Arc::new(AtomicUsize::new(0));

    let submitter = {
        let (pool, ran, ran_on_submitter) = (pool.clone(), ran.clone(), ran_on_submitter.clone());
        std::thread::spawn(move || {
            ON_SUBMITTER.set(true);
            let mut accepted = 0;
            // Submit until one push has been paused (within one block's worth
            // of pushes), or the pool refuses.
            while !PAUSED_IN_PUSH.load(Ordering::SeqCst) {
                let (ran, ran_on_submitter) = (ran.clone(), ran_on_submitter.clone());
                let job = move || {
                    ran.fetch_add(1, Ordering::SeqCst);
                    if ON_SUBMITTER.get() {
                        ran_on_submitter.fetch_add(1, Ordering::SeqCst);
                    }
                };
                ARMED.set(true);
                let submitted = pool.try_execute(job);
                ARMED.set(false);
                match submitted {
                    Ok(()) => accepted += 1,
                    Err(_) => break,
                }
            }
            accepted
        })
    };

    support::wait_until("a push is paused inside the injector", || {
        PAUSED_IN_PUSH.load(Ordering::SeqCst)
    });
    // The submitter is inside `try_execute`, past any check of the pool's
    // state, before its job is visible in the injector.
    pool.shutdown();
    let ran_by_shutdown = ran.load(Ordering::SeqCst);
    SHUTDOWN_RETURNED.store(true, Ordering::SeqCst);
    let accepted = submitter.join().unwrap();

    let ran = ran.load(Ordering::SeqCst);
    let ran_on_submitter = ran_on_submitter.load(Ordering::SeqCst);
    let executed = pool.metrics().executed;
    assert_eq!(ran, accepted, "every accepted job runs exactly once");
    assert!(
        (ran_on_submitter, ran - ran_by_shutdown, executed) == (0, 0, accepted as u64),
        "of {accepted} accepted jobs, {ran_on_submitter} ran on the submitting thread inside \
         try_execute, {} ran after shutdown() had returned, and metrics().executed is {executed}",
        ran - ran_by_shutdown,
    );
}
