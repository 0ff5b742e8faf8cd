//! Recycled task blocks: each thread keeps the blocks of the tasks it frees,
//! by size, and the next task of that size takes one back.
//!
//! ```text
//!  thread A                        thread B
//!  LocalCache                      LocalCache
//!  [class 40] -> b -> b            [class 40] -> b -> b -> ... (2 * BATCH)
//!  [class 48] -> b                        |  one more freed: BATCH of them
//!      ^                                  v  go to the depot as one chain
//!      |  empty: take a chain     Depot  [class 40]: chain, chain (DEPOT_CHAINS)
//!      +------------------------- (one lock per class, taken once per BATCH blocks)
//! ```
//!
//! * A **size class** is a block size, a multiple of 8 bytes from 32 to 256.
//!   Every block of a class comes from the class's slabs (`slab.rs`), so a
//!   block is interchangeable with any other of its class, whichever thread
//!   allocated it. Bigger or over-aligned tasks go to the global allocator
//!   directly.
//! * **The fast path takes no lock and no atomic:** a thread allocates
//!   from, and frees to, its own [`LocalCache`] (a thread-local free list per
//!   class, in `Cell`s: nothing to borrow, so a re-entrant call from the
//!   global allocator is harmless), LIFO, so the block it takes is the one
//!   it freed last, still in its cache.
//! * **Blocks freed on another thread go back through the depot.** A task
//!   made on an outside thread and freed by a worker lands in the worker's
//!   cache; when that holds `2 * BATCH` blocks of the class, `BATCH` of them
//!   move to the shared [`Depot`] as one chain, under the class's lock, and a
//!   thread whose list is empty takes a whole chain back. One lock per
//!   `BATCH` blocks, never per block.
//! * **Bounded:** a thread keeps at most `2 * BATCH` blocks per class (or
//!   one slab's stack, right after taking it), the depot at most
//!   `DEPOT_CHAINS` chains per class; what does not fit goes back to its
//!   slab. A thread whose list and the depot are both empty takes a slab's
//!   stack of given-back blocks, or else the next block of its own slab.
//!   A thread's cache is emptied when it exits, so a pool's workers give
//!   theirs back when the pool shuts down: a thread-local guard,
//!   registered when the thread first uses its cache, empties and closes
//!   it, and a block allocated or freed after that goes straight to a slab.
//!   The depot keeps its (bounded) blocks for the next pool.
//! * **Every thread keeps one**, workers and outside threads alike. An
//!   outside thread that spawns detached tasks gets back, a chain at a
//!   time, the blocks the workers freed; one that spawns a batch and joins
//!   it mostly misses (the batch is alive at once) and bumps through its
//!   slab.
//!
//! Under `cfg(loom)` tasks use the global allocator (their models check the
//! state machine, not this file); `models/alloc.rs` drives a `LocalCache`
//! per loom thread over a shared `Depot`, and `models/slab.rs` the slabs.

use super::slab::{LocalSlab, Shape, SlabList};
use crate::sync::{AtomicUsize, Mutex, Ordering};
use std::alloc::{self, Layout};
use std::cell::Cell;
use std::ptr::NonNull;

/// The smallest class: a task header.
const MIN_SIZE: usize = 32;
/// The largest class; bigger blocks bypass the cache.
const MAX_SIZE: usize = 256;
/// Class sizes step by 8 bytes.
const STEP: usize = 8;
/// Tasks aligned to more bypass the cache. A class's blocks are aligned to
/// 16 where its size is a multiple of 16, else to 8, which is enough: a
/// 16-aligned type's size is a multiple of 16 (`slab::Shape::of`).
const ALIGN: usize = 16;
const CLASSES: usize = (MAX_SIZE - MIN_SIZE) / STEP + 1;

/// Blocks moved to or from the depot at once.
#[cfg(not(loom))]
pub(crate) const BATCH: usize = 32;
#[cfg(loom)]
pub(crate) const BATCH: usize = 1;
/// Chains the depot keeps per class.
#[cfg(not(loom))]
const DEPOT_CHAINS: usize = 32;
#[cfg(loom)]
const DEPOT_CHAINS: usize = 1;

/// The class of a block of `layout`, if the cache takes it.
#[inline(always)]
fn class_of(layout: Layout) -> Option<usize> {
    let size = layout.size().max(MIN_SIZE).next_multiple_of(STEP);
    (size <= MAX_SIZE && layout.align() <= ALIGN).then(|| (size - MIN_SIZE) / STEP)
}

/// The block size of `class`.
const fn class_size(class: usize) -> usize {
    MIN_SIZE + class * STEP
}

/// A free block: its first word links the next free block of its list or
/// chain, its second the next chain in the depot.
pub(crate) struct FreeBlock {
    pub(crate) next: Option<NonNull<FreeBlock>>,
    next_chain: Option<NonNull<FreeBlock>>,
}

const _: () = assert!(size_of::<FreeBlock>() <= MIN_SIZE);

/// Free blocks of one class, linked through `next`, owned by whoever holds
/// the chain (a depot entry, or a thread moving it). A chain in the depot
/// holds `BATCH` blocks.
struct Chain {
    head: Option<NonNull<FreeBlock>>,
}

impl Chain {
    /// Gives every block back to its slab, through `local`.
    #[cold]
    fn release(self, local: &LocalSlab, slabs: &SlabList) {
        let mut next = self.head;
        while let Some(block) = next {
            // SAFETY: the chain's blocks are free, ours, and linked.
            next = unsafe { block.as_ref().next };
            // SAFETY: every block of a class comes from its class's slabs.
            unsafe { local.give_back(block, slabs) };
        }
    }
}

/// A thread's free blocks of one class, linked through `next`.
struct FreeList {
    head: Cell<Option<NonNull<FreeBlock>>>,
    len: Cell<usize>,
}

impl FreeList {
    const fn new() -> Self {
        Self {
            head: Cell::new(None),
            len: Cell::new(0),
        }
    }

    #[inline]
    fn pop(&self) -> Option<NonNull<FreeBlock>> {
        let block = self.head.get()?;
        // SAFETY: a block in a list is free, owned by the list, and holds a
        // `FreeBlock` written by `push`.
        self.head.set(unsafe { block.as_ref().next });
        self.len.set(self.len.get() - 1);
        Some(block)
    }

    /// # Safety
    ///
    /// `block` is a free block of this list's class that the caller owns.
    #[inline]
    unsafe fn push(&self, block: NonNull<FreeBlock>) {
        // SAFETY: forwarded: the block is ours and at least `FreeBlock`-sized
        // and aligned.
        unsafe {
            block.write(FreeBlock {
                next: self.head.get(),
                next_chain: None,
            });
        }
        self.head.set(Some(block));
        self.len.set(self.len.get() + 1);
    }

    /// Moves the first `BATCH` blocks out, as a depot chain (`BATCH <= len`).
    #[cold]
    fn split_off_batch(&self) -> Chain {
        let head = self.head.get();
        let mut last = head.expect("BATCH <= len");
        for _ in 1..BATCH {
            // SAFETY: as in `pop`: the list's blocks are free and linked.
            last = unsafe { last.as_ref().next }.expect("BATCH <= len");
        }
        // SAFETY: as above; `last` is ours to relink.
        self.head.set(unsafe { last.as_mut().next.take() });
        self.len.set(self.len.get() - BATCH);
        Chain { head }
    }

    /// Replaces an empty list with a chain of `len` blocks.
    fn refill(&self, chain: Chain, len: usize) {
        debug_assert!(self.head.get().is_none());
        self.head.set(chain.head);
        self.len.set(len);
    }

    fn take_all(&self) -> Chain {
        self.len.set(0);
        Chain {
            head: self.head.take(),
        }
    }
}

/// One thread's free blocks, a list per class, and its part in each
/// class's slabs. It owns its blocks but has no `Drop` (a thread-local
/// without one costs nothing to reach): [`LocalCache::release`] gives them
/// back.
pub(crate) struct LocalCache {
    lists: [FreeList; CLASSES],
    slabs: [LocalSlab; CLASSES],
}

impl LocalCache {
    pub(crate) const fn new() -> Self {
        Self {
            lists: [const { FreeList::new() }; CLASSES],
            slabs: [const { LocalSlab::new() }; CLASSES],
        }
    }

    /// A block for `layout`: from this cache, or a chain taken from the
    /// depot, or a slab's stack, or a new block of a slab.
    #[inline(always)]
    pub(crate) fn allocate<'d>(
        &self,
        layout: Layout,
        depot: impl FnOnce() -> &'d Depot,
    ) -> NonNull<u8> {
        let Some(class) = class_of(layout) else {
            return global_allocate(layout);
        };
        let block = match self.lists[class].pop() {
            Some(block) => block.cast(),
            None => self.refill_and_allocate(class, depot()),
        };
        debug_assert!(block.cast::<u8>().align_offset(layout.align()) == 0);
        block
    }

    #[cold]
    fn refill_and_allocate(&self, class: usize, depot: &Depot) -> NonNull<u8> {
        let list = &self.lists[class];
        let slabs = &depot.classes[class].slabs;
        if let Some(chain) = depot.take_chain(class) {
            list.refill(chain, BATCH);
        } else if let Some((head, len)) = slabs.take() {
            list.refill(Chain { head: Some(head) }, len);
        }
        match list.pop() {
            Some(block) => block.cast(),
            None => self.slabs[class].bump(slabs),
        }
    }

    /// Keeps a block that an `allocate` (of any thread's cache, or the
    /// uncached path) returned for `layout`, moving `BATCH` blocks to the
    /// depot when the list is full.
    ///
    /// # Safety
    ///
    /// `block` came from an `allocate` for `layout`, is no longer used, and
    /// the caller gives it up.
    #[inline(always)]
    pub(crate) unsafe fn free<'d>(
        &self,
        block: NonNull<u8>,
        layout: Layout,
        depot: impl FnOnce() -> &'d Depot,
    ) {
        let Some(class) = class_of(layout) else {
            // SAFETY: forwarded: allocated by the global allocator as is.
            return unsafe { alloc::dealloc(block.as_ptr(), layout) };
        };
        let list = &self.lists[class];
        if list.len.get() >= 2 * BATCH {
            // SAFETY: forwarded.
            return unsafe { self.keep_full(class, block.cast(), depot()) };
        }
        // SAFETY: forwarded.
        unsafe { list.push(block.cast()) };
    }

    /// `free` into a full list.
    ///
    /// # Safety
    ///
    /// As for `free`, for a block of `class`.
    #[cold]
    unsafe fn keep_full(&self, class: usize, block: NonNull<FreeBlock>, depot: &Depot) {
        let (local, slabs) = (&self.slabs[class], &depot.classes[class].slabs);
        if depot.is_full(class) {
            // SAFETY: forwarded: a block of the class's slabs.
            return unsafe { local.give_back(block, slabs) };
        }
        let list = &self.lists[class];
        let chain = list.split_off_batch();
        // SAFETY: forwarded.
        unsafe { list.push(block) };
        if let Some(chain) = depot.put_chain(class, chain) {
            chain.release(local, slabs);
        }
    }

    /// Gives back every block this cache holds, and its part in the slabs.
    pub(crate) fn release(&self, depot: &Depot) {
        for (class, (list, local)) in self.lists.iter().zip(&self.slabs).enumerate() {
            let slabs = &depot.classes[class].slabs;
            list.take_all().release(local, slabs);
            // SAFETY: this cache's part in `class` holds only its slabs.
            unsafe { local.release(slabs) };
        }
    }

    /// Whether the cache holds no block.
    #[cfg(all(test, not(loom)))]
    fn is_empty(&self) -> bool {
        self.lists.iter().all(|list| list.len.get() == 0)
    }
}

/// The shared chains of free blocks, `BATCH` blocks each, at most
/// `DEPOT_CHAINS` per class.
pub(crate) struct Depot {
    classes: [DepotClass; CLASSES],
}

struct DepotClass {
    chains: Mutex<Chains>,
    /// Where the class's blocks come from, and go back to.
    slabs: SlabList,
    /// `chains.count`, readable without the lock: a thread with an empty
    /// list looks here before it locks. A stale value costs one needless
    /// lock, or one allocation the depot could have saved; never a block.
    available: AtomicUsize,
}

/// A class's chains, linked through their first blocks' `next_chain`.
#[derive(Default)]
struct Chains {
    first: Option<NonNull<FreeBlock>>,
    count: usize,
}

// SAFETY: the blocks are free memory that only the depot (under its locks)
// or the one thread that took them refers to.
unsafe impl Send for Chains {}

impl DepotClass {
    fn new(class: usize) -> Self {
        Self {
            chains: Mutex::new(Chains::default()),
            slabs: SlabList::new(Shape::of(class_size(class))),
            available: AtomicUsize::new(0),
        }
    }

    /// Publishes the chain count, under the lock.
    fn publish(&self, chains: &Chains) {
        // ORDERING: Relaxed: a hint only; the chains themselves are handed
        // over under the lock.
        self.available.store(chains.count, Ordering::Relaxed);
    }
}

impl Depot {
    pub(crate) fn new() -> Self {
        Self {
            classes: std::array::from_fn(DepotClass::new),
        }
    }

    #[cold]
    fn take_chain(&self, class: usize) -> Option<Chain> {
        let depot = &self.classes[class];
        // ORDERING: Relaxed: see `available`.
        if depot.available.load(Ordering::Relaxed) == 0 {
            return None;
        }
        let mut chains = depot.chains.lock();
        let head = chains.first?;
        // SAFETY: the first block of a chain in the depot is the depot's;
        // we hold its lock.
        chains.first = unsafe { (*head.as_ptr()).next_chain.take() };
        chains.count -= 1;
        depot.publish(&chains);
        Some(Chain { head: Some(head) })
    }

    /// Takes every chain of `class` and gives its blocks back to their
    /// slabs; returns how many chains there were.
    fn release_class(&self, class: usize) -> usize {
        let (local, slabs) = (LocalSlab::new(), &self.classes[class].slabs);
        let mut released = 0;
        while let Some(chain) = self.take_chain(class) {
            chain.release(&local, slabs);
            released += 1;
        }
        // SAFETY: `local` holds only blocks of `class`.
        unsafe { local.release(slabs) };
        released
    }

    /// `release_class` for the class of `layout`, for the models.
    #[cfg(loom)]
    pub(crate) fn release_chains_of(&self, layout: Layout) -> usize {
        self.release_class(class_of(layout).expect("a cached class"))
    }

    /// Whether the class holds `DEPOT_CHAINS` chains, as last published.
    fn is_full(&self, class: usize) -> bool {
        // ORDERING: Relaxed: see `available`.
        self.classes[class].available.load(Ordering::Relaxed) == DEPOT_CHAINS
    }

    /// Keeps `chain`, or hands it back if the class holds its bound.
    #[cold]
    fn put_chain(&self, class: usize, chain: Chain) -> Option<Chain> {
        let depot = &self.classes[class];
        let mut chains = depot.chains.lock();
        if chains.count == DEPOT_CHAINS {
            return Some(chain);
        }
        let head = chain.head.expect("a chain is never empty");
        // SAFETY: the chain's blocks are ours until the depot holds them.
        unsafe { (*head.as_ptr()).next_chain = chains.first };
        chains.first = Some(head);
        chains.count += 1;
        depot.publish(&chains);
        None
    }
}

impl Drop for Depot {
    fn drop(&mut self) {
        for class in 0..CLASSES {
            self.release_class(class);
        }
    }
}

#[cold]
fn global_allocate(layout: Layout) -> NonNull<u8> {
    // SAFETY: every layout here has a non-zero size (a task header at least).
    let block = unsafe { alloc::alloc(layout) };
    NonNull::new(block).unwrap_or_else(|| alloc::handle_alloc_error(layout))
}

/// `allocate` with no cache: a block of a slab of the class, so that any
/// cache can keep it later.
#[cfg(not(loom))]
fn allocate_uncached(layout: Layout, depot: &Depot) -> NonNull<u8> {
    match class_of(layout) {
        Some(class) => depot.classes[class].slabs.allocate_alone(),
        None => global_allocate(layout),
    }
}

/// `free` with no cache.
///
/// # Safety
///
/// As for `free`.
#[cfg(not(loom))]
unsafe fn free_uncached(block: NonNull<u8>, layout: Layout, depot: &Depot) {
    match class_of(layout) {
        // SAFETY: forwarded: a block of the class's slabs.
        Some(class) => unsafe { depot.classes[class].slabs.give_back_alone(block.cast()) },
        // SAFETY: forwarded: allocated with this very layout.
        None => unsafe { alloc::dealloc(block.as_ptr(), layout) },
    }
}

#[cfg(not(loom))]
mod per_thread {
    use super::{Depot, LocalCache};
    use std::cell::Cell;
    use std::ptr::NonNull;
    use std::sync::OnceLock;

    static DEPOT: OnceLock<Depot> = OnceLock::new();

    /// Where this thread's cache stands.
    #[derive(Clone, Copy, PartialEq, Eq)]
    enum Stage {
        /// Empty, its guard not registered yet.
        Fresh,
        /// Its guard will empty it when the thread exits.
        Open,
        /// The thread is exiting: the cache is empty and keeps nothing.
        Closed,
    }

    std::thread_local! {
        /// No `Drop`, so reaching it costs one address computation.
        static CACHE: LocalCache = const { LocalCache::new() };
        static STAGE: Cell<Stage> = const { Cell::new(Stage::Fresh) };
        /// Empties `CACHE` when the thread exits.
        static GUARD: Guard = const { Guard };
    }

    struct Guard;

    impl Drop for Guard {
        fn drop(&mut self) {
            STAGE.set(Stage::Closed);
            CACHE.with(|cache| cache.release(depot()));
        }
    }

    /// Whether this thread may use its cache: it is open, or opens now
    /// (its first use registers the guard that will empty it).
    #[inline(always)]
    pub(super) fn is_open() -> bool {
        STAGE.get() == Stage::Open || open()
    }

    #[cold]
    fn open() -> bool {
        if STAGE.get() == Stage::Fresh && GUARD.try_with(|_| ()).is_ok() {
            STAGE.set(Stage::Open);
        }
        STAGE.get() == Stage::Open
    }

    /// This thread's cache. Reaching it through a pointer keeps the
    /// thread-local access down to an address computation where it is
    /// inlined, instead of a call through `LocalKey::with`'s closure.
    ///
    /// The pointer is valid on this thread until it exits (`CACHE` has no
    /// `Drop`, and its guard only empties it), and only there.
    #[inline(always)]
    pub(super) fn cache() -> NonNull<LocalCache> {
        CACHE.with(|cache| NonNull::from(cache))
    }

    pub(super) fn depot() -> &'static Depot {
        DEPOT.get_or_init(Depot::new)
    }
}

/// Memory for a task of `layout`: a recycled block of its class where this
/// thread's cache has one.
#[cfg(not(loom))]
#[inline(always)]
pub(super) fn allocate(layout: Layout) -> NonNull<u8> {
    if !per_thread::is_open() {
        // A cache that is not open is empty, and must stay so.
        return allocate_uncached(layout, per_thread::depot());
    }
    // SAFETY: used within this call, on this thread.
    let cache = unsafe { per_thread::cache().as_ref() };
    cache.allocate(layout, per_thread::depot)
}

/// Frees the memory of a task of `layout` into this thread's cache.
///
/// # Safety
///
/// `block` came from [`allocate`] for `layout`, on any thread, and is no
/// longer used.
#[cfg(not(loom))]
#[inline(always)]
pub(super) unsafe fn free(block: NonNull<u8>, layout: Layout) {
    if !per_thread::is_open() {
        // SAFETY: forwarded.
        return unsafe { free_uncached(block, layout, per_thread::depot()) };
    }
    // SAFETY: used within this call, on this thread.
    let cache = unsafe { per_thread::cache().as_ref() };
    // SAFETY: forwarded.
    unsafe { cache.free(block, layout, per_thread::depot) }
}

#[cfg(loom)]
pub(super) fn allocate(layout: Layout) -> NonNull<u8> {
    global_allocate(layout)
}

/// # Safety
///
/// As for the other `cfg`'s `free`.
#[cfg(loom)]
pub(super) unsafe fn free(block: NonNull<u8>, layout: Layout) {
    // SAFETY: forwarded: allocated with this very layout.
    unsafe { alloc::dealloc(block.as_ptr(), layout) }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::{BATCH, DEPOT_CHAINS, Depot, LocalCache, class_of};
    use std::alloc::Layout;
    use std::collections::HashSet;
    use std::ptr::NonNull;

    /// The layout of a task with a `u64` result: a 40-byte block.
    fn task() -> Layout {
        Layout::new::<[u64; 5]>()
    }

    struct Block(NonNull<u8>);
    // SAFETY: a free block is plain memory, owned by whoever holds it.
    unsafe impl Send for Block {}

    #[test]
    fn the_last_block_freed_is_the_next_one_allocated() {
        let depot = Depot::new();
        let cache = LocalCache::new();
        let first = cache.allocate(task(), || &depot);
        // SAFETY: allocated just above for this layout, freed once.
        unsafe { cache.free(first, task(), || &depot) };
        let again = cache.allocate(task(), || &depot);
        assert_eq!(first, again, "LIFO: the warm block comes back first");
        // SAFETY: as above.
        unsafe { cache.free(again, task(), || &depot) };
        cache.release(&depot);
    }

    #[test]
    fn a_thread_keeps_two_batches_and_the_depot_its_bound_the_rest_is_freed() {
        let depot = Depot::new();
        let cache = LocalCache::new();
        let blocks = 2 * BATCH + (DEPOT_CHAINS + 2) * BATCH;
        let all: HashSet<NonNull<u8>> = (0..blocks)
            .map(|_| cache.allocate(task(), || &depot))
            .collect();
        for &block in &all {
            // SAFETY: allocated above for this layout, freed once.
            unsafe { cache.free(block, task(), || &depot) };
        }
        let class = class_of(task()).unwrap();
        assert_eq!(cache.lists[class].len.get(), 2 * BATCH);
        assert_eq!(depot.classes[class].chains.lock().count, DEPOT_CHAINS);
        // What the cache and the depot hold comes back, each block once.
        let kept = 2 * BATCH + DEPOT_CHAINS * BATCH;
        let mut taken = HashSet::new();
        for _ in 0..kept {
            let block = cache.allocate(task(), || &depot);
            assert!(all.contains(&block), "a recycled block");
            assert!(taken.insert(block), "a block handed out twice");
        }
        for block in taken {
            // SAFETY: as above.
            unsafe { cache.free(block, task(), || &depot) };
        }
        cache.release(&depot);
        assert!(cache.is_empty());
    }

    #[test]
    fn blocks_freed_on_another_thread_come_back_through_the_depot() {
        let depot = Depot::new();
        let mine = LocalCache::new();
        let blocks: Vec<Block> = (0..3 * BATCH)
            .map(|_| Block(mine.allocate(task(), || &depot)))
            .collect();
        let addresses: HashSet<NonNull<u8>> = blocks.iter().map(|block| block.0).collect();
        std::thread::scope(|s| {
            s.spawn(|| {
                let theirs = LocalCache::new();
                for block in blocks {
                    // SAFETY: allocated above for this layout, freed once.
                    unsafe { theirs.free(block.0, task(), || &depot) };
                }
                theirs.release(&depot);
            });
        });
        let back: Vec<NonNull<u8>> = (0..BATCH)
            .map(|_| mine.allocate(task(), || &depot))
            .collect();
        assert!(back.iter().all(|block| addresses.contains(block)));
        for block in back {
            // SAFETY: as above.
            unsafe { mine.free(block, task(), || &depot) };
        }
        mine.release(&depot);
    }

    #[test]
    fn big_and_over_aligned_blocks_bypass_the_cache() {
        assert_eq!(class_of(Layout::new::<[u64; 33]>()), None);
        assert_eq!(class_of(Layout::from_size_align(64, 64).unwrap()), None);
        let depot = Depot::new();
        let cache = LocalCache::new();
        for layout in [
            Layout::new::<[u64; 33]>(),
            Layout::from_size_align(64, 64).unwrap(),
        ] {
            let block = cache.allocate(layout, || &depot);
            assert_eq!(block.as_ptr() as usize % layout.align(), 0);
            // SAFETY: allocated just above for this layout, freed once.
            unsafe { cache.free(block, layout, || &depot) };
        }
        assert!(cache.is_empty());
    }
}
