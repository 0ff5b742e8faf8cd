//! Recycled task blocks: each worker keeps the blocks of the tasks it frees,
//! by size, and the next task of that size takes one back.
//!
//! ```text
//!  worker A                        worker B
//!  LocalCache                      LocalCache
//!  [class 40] -> b -> b            [class 40] -> b -> b -> ... (2 * BATCH)
//!  [class 48] -> b                        |  one more freed: BATCH of them
//!      ^                                  v  go to the depot as one chain
//!      |  empty: take a chain     Depot  [class 40]: chain, chain (DEPOT_CHAINS)
//!      +------------------------- (one lock per class, taken once per BATCH blocks)
//! ```
//!
//! * A **size class** is a block size, a multiple of 8 bytes from 32 to 256;
//!   every block of a class is allocated and freed with the same layout
//!   ([`class_layout`]), so a block is interchangeable with any other of
//!   its class, whichever thread allocated it. Bigger or over-aligned
//!   tasks go to the global allocator directly.
//! * **The fast path takes no lock and no atomic:** a thread allocates
//!   from, and frees to, its own [`LocalCache`] (a thread-local free list per
//!   class), LIFO, so the block it takes is the one it freed last, still in
//!   its cache.
//! * **Blocks freed on another thread go back through the depot.** A task
//!   made on an outside thread and freed by a worker lands in the worker's
//!   cache; when that holds `2 * BATCH` blocks of the class, `BATCH` of them
//!   move to the shared [`Depot`] as one chain, under the class's lock, and a
//!   thread whose list is empty takes a whole chain back. One lock per
//!   `BATCH` blocks, never per block.
//! * **Bounded:** a thread keeps at most `2 * BATCH` blocks per class, the
//!   depot at most `DEPOT_CHAINS` chains per class; what does not fit goes
//!   back to the global allocator. A thread's cache is freed when the thread
//!   exits: a pool's workers free theirs when the pool shuts down. The
//!   depot keeps its (bounded) blocks for the next pool.
//! * **Only pool workers keep a cache.** Elsewhere (a thread that spawns
//!   and joins from outside, a blocking thread) tasks use the global
//!   allocator: there a cache mostly misses (the tasks of a spawn-all,
//!   join-all loop are all alive at once), and its misses cost more than
//!   its hits save. So does a worker inside a thread-local destructor, or
//!   re-entered from the global allocator.
//!
//! Under `cfg(loom)` tasks use the global allocator (their models check the
//! state machine, not this file); `models/alloc.rs` drives a `LocalCache`
//! per loom thread over a shared `Depot`.

#[cfg(not(loom))]
use crate::pool::WorkerThread;
use crate::sync::{AtomicUsize, Mutex, Ordering};
use std::alloc::{self, Layout};
use std::ptr::NonNull;

/// The smallest class: a task header.
const MIN_SIZE: usize = 32;
/// The largest class; bigger blocks bypass the cache.
const MAX_SIZE: usize = 256;
/// Class sizes step by 8 bytes.
const STEP: usize = 8;
/// Blocks are allocated with this alignment (what `malloc` gives anyway),
/// and tasks aligned to more bypass the cache.
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

/// The layout every block of `class` is allocated and freed with.
#[inline]
fn class_layout(class: usize) -> Layout {
    Layout::from_size_align(MIN_SIZE + class * STEP, ALIGN).expect("a valid class layout")
}

/// A free block: its first word links the next free block of its list or
/// chain, its second the next chain in the depot.
struct FreeBlock {
    next: Option<NonNull<FreeBlock>>,
    next_chain: Option<NonNull<FreeBlock>>,
}

const _: () = assert!(size_of::<FreeBlock>() <= MIN_SIZE);

/// A list of free blocks of one class, linked through `next`.
struct FreeList {
    head: Option<NonNull<FreeBlock>>,
    len: usize,
}

impl FreeList {
    const EMPTY: FreeList = FreeList { head: None, len: 0 };

    #[inline]
    fn pop(&mut self) -> Option<NonNull<FreeBlock>> {
        let block = self.head?;
        // SAFETY: a block in a list is free, owned by the list, and holds a
        // `FreeBlock` written by `push`.
        self.head = unsafe { block.as_ref().next };
        self.len -= 1;
        Some(block)
    }

    /// # Safety
    ///
    /// `block` is a free block of this list's class that the caller owns.
    #[inline]
    unsafe fn push(&mut self, block: NonNull<FreeBlock>) {
        // SAFETY: forwarded: the block is ours and at least `FreeBlock`-sized
        // and aligned.
        unsafe {
            block.write(FreeBlock {
                next: self.head,
                next_chain: None,
            })
        };
        self.head = Some(block);
        self.len += 1;
    }

    /// Moves the first `count` blocks out, as a chain (`count <= len`).
    #[cold]
    fn split_off(&mut self, count: usize) -> FreeList {
        debug_assert!(0 < count && count <= self.len);
        let head = self.head;
        let mut last = head.expect("count <= len");
        for _ in 1..count {
            // SAFETY: as in `pop`: the list's blocks are free and linked.
            last = unsafe { last.as_ref().next }.expect("count <= len");
        }
        // SAFETY: as above; `last` is ours to relink.
        self.head = unsafe { last.as_mut().next.take() };
        self.len -= count;
        FreeList { head, len: count }
    }

    /// Frees every block to the global allocator.
    #[cold]
    fn release(&mut self, class: usize) {
        while let Some(block) = self.pop() {
            // SAFETY: every block of `class` was allocated with this layout.
            unsafe { alloc::dealloc(block.as_ptr().cast(), class_layout(class)) };
        }
    }
}

/// One thread's free blocks, a list per class, at most `2 * BATCH` each.
pub(crate) struct LocalCache {
    lists: [FreeList; CLASSES],
}

impl LocalCache {
    pub(crate) const fn new() -> Self {
        Self {
            lists: [FreeList::EMPTY; CLASSES],
        }
    }

    /// A free block of `class`: this thread's, or a chain taken from the
    /// depot, or `None` (then the caller allocates).
    #[inline]
    fn take(&mut self, class: usize, depot: &Depot) -> Option<NonNull<FreeBlock>> {
        let list = &mut self.lists[class];
        if list.head.is_none() {
            *list = depot.take_chain(class)?;
        }
        list.pop()
    }

    /// Keeps a freed block of `class`, moving `BATCH` blocks to the depot
    /// when the list is full.
    ///
    /// # Safety
    ///
    /// `block` was allocated with `class_layout(class)`, is no longer used,
    /// and the caller gives it up.
    #[inline]
    unsafe fn keep(&mut self, class: usize, block: NonNull<FreeBlock>, depot: &Depot) {
        let list = &mut self.lists[class];
        if list.len == 2 * BATCH {
            if depot.is_full(class) {
                // SAFETY: forwarded: allocated with the class's layout.
                unsafe { alloc::dealloc(block.as_ptr().cast(), class_layout(class)) };
                return;
            }
            depot.put_chain(class, list.split_off(BATCH));
        }
        // SAFETY: forwarded.
        unsafe { list.push(block) };
    }

    /// A block for `layout`, from the cache if it has one of its class.
    #[inline(always)]
    pub(crate) fn allocate(&mut self, layout: Layout, depot: &Depot) -> NonNull<u8> {
        match class_of(layout) {
            Some(class) => match self.take(class, depot) {
                Some(block) => block.cast(),
                None => global_allocate(class_layout(class)),
            },
            None => global_allocate(layout),
        }
    }

    /// Gives back a block that `allocate` (of any thread's cache, or
    /// [`allocate`]) returned for `layout`.
    ///
    /// # Safety
    ///
    /// `block` came from an `allocate` for `layout`, is no longer used, and
    /// the caller gives it up.
    #[inline(always)]
    pub(crate) unsafe fn free(&mut self, block: NonNull<u8>, layout: Layout, depot: &Depot) {
        match class_of(layout) {
            // SAFETY: forwarded: a block of this class has its layout.
            Some(class) => unsafe { self.keep(class, block.cast(), depot) },
            // SAFETY: forwarded: allocated by the global allocator as is.
            None => unsafe { alloc::dealloc(block.as_ptr(), layout) },
        }
    }
}

#[cfg(loom)]
impl LocalCache {
    /// Takes every chain the depot holds for the class of a 40-byte block,
    /// freeing them; returns how many there were.
    pub(crate) fn chains_taken_from(&mut self, depot: &Depot) -> usize {
        let class = class_of(Layout::new::<[u64; 5]>()).expect("a cached class");
        let mut taken = 0;
        while let Some(mut chain) = depot.take_chain(class) {
            chain.release(class);
            taken += 1;
        }
        taken
    }
}

impl Drop for LocalCache {
    fn drop(&mut self) {
        for (class, list) in self.lists.iter_mut().enumerate() {
            list.release(class);
        }
    }
}

/// The shared chains of free blocks, `BATCH` blocks each, at most
/// `DEPOT_CHAINS` per class.
pub(crate) struct Depot {
    classes: [DepotClass; CLASSES],
}

struct DepotClass {
    chains: Mutex<Chains>,
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

impl DepotClass {
    fn new() -> Self {
        Self {
            chains: Mutex::new(Chains::default()),
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

// SAFETY: the blocks are free memory that only the depot (under its locks)
// or the one thread that took them refers to.
unsafe impl Send for Chains {}

impl Depot {
    pub(crate) fn new() -> Self {
        Self {
            classes: std::array::from_fn(|_| DepotClass::new()),
        }
    }

    #[cold]
    fn take_chain(&self, class: usize) -> Option<FreeList> {
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
        Some(FreeList {
            head: Some(head),
            len: BATCH,
        })
    }

    /// Whether the class holds `DEPOT_CHAINS` chains, as last published.
    fn is_full(&self, class: usize) -> bool {
        // ORDERING: Relaxed: see `available`.
        self.classes[class].available.load(Ordering::Relaxed) == DEPOT_CHAINS
    }

    #[cold]
    fn put_chain(&self, class: usize, mut chain: FreeList) {
        debug_assert_eq!(chain.len, BATCH);
        let depot = &self.classes[class];
        let mut chains = depot.chains.lock();
        if chains.count == DEPOT_CHAINS {
            drop(chains);
            chain.release(class);
            return;
        }
        let head = chain.head.expect("a chain is never empty");
        // SAFETY: the chain's blocks are ours until the depot holds them.
        unsafe { (*head.as_ptr()).next_chain = chains.first };
        chains.first = Some(head);
        chains.count += 1;
        depot.publish(&chains);
    }
}

impl Drop for Depot {
    fn drop(&mut self) {
        for (class, depot) in self.classes.iter_mut().enumerate() {
            let chains = &mut *depot.chains.lock();
            while let Some(head) = chains.first {
                // SAFETY: as in `take_chain`; we own the depot.
                chains.first = unsafe { (*head.as_ptr()).next_chain };
                FreeList {
                    head: Some(head),
                    len: BATCH,
                }
                .release(class);
            }
        }
    }
}

#[cold]
fn global_allocate(layout: Layout) -> NonNull<u8> {
    // SAFETY: every layout here has a non-zero size (a task header at least).
    let block = unsafe { alloc::alloc(layout) };
    NonNull::new(block).unwrap_or_else(|| alloc::handle_alloc_error(layout))
}

#[cfg(not(loom))]
mod per_thread {
    use super::{Depot, LocalCache};
    use std::cell::RefCell;
    use std::sync::OnceLock;

    static DEPOT: OnceLock<Depot> = OnceLock::new();

    std::thread_local! {
        static CACHE: RefCell<LocalCache> = const { RefCell::new(LocalCache::new()) };
    }

    #[inline]
    pub(super) fn depot() -> &'static Depot {
        DEPOT.get_or_init(Depot::new)
    }

    /// Runs `f` on this thread's cache, or returns `None` where it is gone
    /// (a thread-local destructor) or in use (re-entered from the global
    /// allocator).
    #[inline(always)]
    pub(super) fn with_cache<R>(f: impl FnOnce(&mut LocalCache) -> R) -> Option<R> {
        CACHE
            .try_with(|cache| cache.try_borrow_mut().ok().map(|mut cache| f(&mut cache)))
            .ok()
            .flatten()
    }
}

/// Memory for a task of `layout`: a recycled block of its class where this
/// thread's cache has one.
#[cfg(not(loom))]
#[inline(always)]
pub(super) fn allocate(layout: Layout) -> NonNull<u8> {
    if !WorkerThread::is_current() {
        return LocalCache::allocate_uncached(layout);
    }
    per_thread::with_cache(|cache| cache.allocate(layout, per_thread::depot()))
        .unwrap_or_else(|| LocalCache::allocate_uncached(layout))
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
    if !WorkerThread::is_current() {
        // SAFETY: forwarded.
        return unsafe { LocalCache::free_uncached(block, layout) };
    }
    // SAFETY: forwarded.
    let kept = per_thread::with_cache(|cache| unsafe {
        cache.free(block, layout, per_thread::depot());
    });
    if kept.is_none() {
        // SAFETY: forwarded.
        unsafe { LocalCache::free_uncached(block, layout) };
    }
}

#[cfg(loom)]
pub(super) fn allocate(layout: Layout) -> NonNull<u8> {
    LocalCache::allocate_uncached(layout)
}

/// # Safety
///
/// As for the other `cfg`'s `free`.
#[cfg(loom)]
pub(super) unsafe fn free(block: NonNull<u8>, layout: Layout) {
    // SAFETY: forwarded.
    unsafe { LocalCache::free_uncached(block, layout) }
}

impl LocalCache {
    /// `allocate` with no cache at hand: the class's layout from the global
    /// allocator, so that any cache can keep the block later.
    fn allocate_uncached(layout: Layout) -> NonNull<u8> {
        global_allocate(class_of(layout).map_or(layout, class_layout))
    }

    /// `free` with no cache at hand.
    ///
    /// # Safety
    ///
    /// As for `free`.
    unsafe fn free_uncached(block: NonNull<u8>, layout: Layout) {
        let layout = class_of(layout).map_or(layout, class_layout);
        // SAFETY: forwarded: allocated with this very layout.
        unsafe { alloc::dealloc(block.as_ptr(), layout) }
    }
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
        let mut cache = LocalCache::new();
        let first = cache.allocate(task(), &depot);
        // SAFETY: allocated just above for this layout, freed once.
        unsafe { cache.free(first, task(), &depot) };
        let again = cache.allocate(task(), &depot);
        assert_eq!(first, again, "LIFO: the warm block comes back first");
        // SAFETY: as above.
        unsafe { cache.free(again, task(), &depot) };
    }

    #[test]
    fn a_thread_keeps_two_batches_and_the_depot_its_bound_the_rest_is_freed() {
        let depot = Depot::new();
        let mut cache = LocalCache::new();
        let blocks = 2 * BATCH + (DEPOT_CHAINS + 2) * BATCH;
        let all: HashSet<NonNull<u8>> = (0..blocks)
            .map(|_| cache.allocate(task(), &depot))
            .collect();
        for &block in &all {
            // SAFETY: allocated above for this layout, freed once.
            unsafe { cache.free(block, task(), &depot) };
        }
        let class = class_of(task()).unwrap();
        assert_eq!(cache.lists[class].len, 2 * BATCH);
        assert_eq!(depot.classes[class].chains.lock().count, DEPOT_CHAINS);
        // What the cache and the depot hold comes back, each block once.
        let kept = 2 * BATCH + DEPOT_CHAINS * BATCH;
        let mut taken = HashSet::new();
        for _ in 0..kept {
            let block = cache.allocate(task(), &depot);
            assert!(all.contains(&block), "a recycled block");
            assert!(taken.insert(block), "a block handed out twice");
        }
        for block in taken {
            // SAFETY: as above.
            unsafe { cache.free(block, task(), &depot) };
        }
    }

    #[test]
    fn blocks_freed_on_another_thread_come_back_through_the_depot() {
        let depot = Depot::new();
        let mut mine = LocalCache::new();
        let blocks: Vec<Block> = (0..3 * BATCH)
            .map(|_| Block(mine.allocate(task(), &depot)))
            .collect();
        let addresses: HashSet<NonNull<u8>> = blocks.iter().map(|block| block.0).collect();
        std::thread::scope(|s| {
            s.spawn(|| {
                let mut theirs = LocalCache::new();
                for block in blocks {
                    // SAFETY: allocated above for this layout, freed once.
                    unsafe { theirs.free(block.0, task(), &depot) };
                }
            });
        });
        let back: Vec<NonNull<u8>> = (0..BATCH).map(|_| mine.allocate(task(), &depot)).collect();
        assert!(back.iter().all(|block| addresses.contains(block)));
        for block in back {
            // SAFETY: as above.
            unsafe { mine.free(block, task(), &depot) };
        }
    }

    #[test]
    fn big_and_over_aligned_blocks_bypass_the_cache() {
        assert_eq!(class_of(Layout::new::<[u64; 33]>()), None);
        assert_eq!(class_of(Layout::from_size_align(64, 64).unwrap()), None);
        let depot = Depot::new();
        let mut cache = LocalCache::new();
        for layout in [
            Layout::new::<[u64; 33]>(),
            Layout::from_size_align(64, 64).unwrap(),
        ] {
            let block = cache.allocate(layout, &depot);
            assert_eq!(block.as_ptr() as usize % layout.align(), 0);
            // SAFETY: allocated just above for this layout, freed once.
            unsafe { cache.free(block, layout, &depot) };
        }
        assert!(cache.lists.iter().all(|list| list.len == 0));
    }
}
