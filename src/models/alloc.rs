//! Recycled task blocks (`task/alloc.rs`): a block allocated on one thread
//! and freed on another comes back through the depot, and the depot's bound
//! holds when two threads spill at once. Each loom thread has its own
//! `LocalCache` (what a worker's thread-local is outside models), which it
//! releases before it ends; under `cfg(loom)`
//! a chain is one block, a thread keeps two per class, the depot one chain.

use crate::sync::{Arc, thread};
use crate::task::alloc::{BATCH, Depot, LocalCache};
use std::alloc::Layout;
use std::ptr::NonNull;

/// A task-sized block (40 bytes, the class of a `u64` task).
fn layout() -> Layout {
    Layout::new::<[u64; 5]>()
}

/// A block on its way to another thread, as a task is.
struct Block(NonNull<u8>);

// SAFETY: a free block is plain memory, owned by whoever holds this.
unsafe impl Send for Block {}

/// Allocates on the main thread, frees on another, which spills a chain to
/// the depot while the main thread allocates again: the main thread gets
/// the spilled block back, now or within its next three allocations, and
/// never a block that is still in use.
///
/// The spilled block is the second one freed: the freer's list keeps two
/// (LIFO), and the third free moves the newer of them, `blocks[1]`, to the
/// depot. Only the depot can hand that address out again: the freer gives
/// its other two blocks back to their slab when it ends, and the main
/// thread may take them first (its first allocation can miss the depot's
/// chain and find the slab's stack), but they are not `blocks[1]`.
///
/// Both orders are explored: the spilled chain reaches the depot before the
/// main thread's first allocation, or after it. Without the `yield_now`
/// below, loom ran this model once, always in the second order (its
/// exploration never moved the spill ahead of the main thread's read of the
/// depot's count); the test counts the orders it saw and fails if either is
/// missing.
///
/// Planted bug seen caught: `put_chain` not publishing the depot's count
/// (`available` stays 0): the main thread never takes the chain and the
/// "came back" assertion fails. An earlier form of this model, which only
/// asked whether the main thread got *some* address the freer had freed,
/// passed with that bug once both orders were explored: the global
/// allocator (which held the blocks then) handed back the freer's others.
#[test]
fn a_block_freed_on_another_thread_comes_back_through_the_depot() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    // Outside loom's view, as `Count` is (`models/mod.rs`).
    static CAME_FIRST: AtomicUsize = AtomicUsize::new(0);
    static CAME_AFTER: AtomicUsize = AtomicUsize::new(0);
    super::model(|| {
        let depot = Arc::new(Depot::new());
        let mine = LocalCache::new();
        let blocks: Vec<Block> = (0..=2 * BATCH)
            .map(|_| Block(mine.allocate(layout(), || &*depot)))
            .collect();
        let spilled: NonNull<u8> = blocks[1].0;
        let freer = thread::spawn({
            let depot = depot.clone();
            move || {
                let theirs = LocalCache::new();
                for block in blocks {
                    // SAFETY: each block came from `allocate` for `layout()`
                    // and is freed once.
                    unsafe { theirs.free(block.0, layout(), || &*depot) };
                }
                theirs.release(&depot);
            }
        });
        // Lets loom run the freer first.
        thread::yield_now();
        let first = mine.allocate(layout(), || &*depot);
        let order = if first == spilled {
            &CAME_FIRST
        } else {
            &CAME_AFTER
        };
        order.fetch_add(1, Ordering::Relaxed);
        freer.join().unwrap();
        let mut taken = vec![first];
        taken.extend((0..3).map(|_| mine.allocate(layout(), || &*depot)));
        let unique: std::collections::HashSet<_> = taken.iter().collect();
        assert_eq!(unique.len(), taken.len(), "one block handed out twice");
        assert!(
            taken.contains(&spilled),
            "the spilled block never came back"
        );
        for block in taken {
            // SAFETY: as above.
            unsafe { mine.free(block, layout(), || &*depot) };
        }
        mine.release(&depot);
    });
    let orders = (
        CAME_FIRST.load(Ordering::Relaxed),
        CAME_AFTER.load(Ordering::Relaxed),
    );
    assert!(
        orders.0 > 0 && orders.1 > 0,
        "an order never explored: {orders:?}"
    );
}

/// Two threads spill a chain each into a depot with room for one: one is
/// kept, the other goes back to the global allocator, and the depot hands
/// out exactly the one it kept.
///
/// Planted bug seen caught: `put_chain` not publishing the depot's count:
/// the taker finds no chain, and the bound assertion fails.
#[test]
fn two_threads_spilling_at_once_keep_the_depot_bound() {
    super::model(|| {
        let depot = Arc::new(Depot::new());
        let main = LocalCache::new();
        let spill = |depot: Arc<Depot>, blocks: Vec<Block>| {
            move || {
                let cache = LocalCache::new();
                for block in blocks {
                    // SAFETY: allocated for `layout()` by `main`, freed once.
                    unsafe { cache.free(block.0, layout(), || &*depot) };
                }
                cache.release(&depot);
            }
        };
        let blocks = || -> Vec<Block> {
            (0..=2 * BATCH)
                .map(|_| Block(main.allocate(layout(), || &*depot)))
                .collect()
        };
        let (first, second) = (blocks(), blocks());
        let one = thread::spawn(spill(depot.clone(), first));
        let two = thread::spawn(spill(depot.clone(), second));
        one.join().unwrap();
        two.join().unwrap();
        assert_eq!(depot.release_chains_of(layout()), 1, "the depot's bound");
        main.release(&depot);
    });
}
