//! The memory under the block caches of `alloc.rs`: slabs, each holding
//! blocks of one size class. A thread hands out a new slab's blocks in
//! address order by bumping a pointer. A block that no cache keeps goes back
//! onto its slab's stack, and a thread whose cache runs dry takes a slab's
//! whole stack at once. A slab is freed when all its blocks are back, except
//! a few kept empty for the next burst.
//!
//! ```text
//!  a slab: `Shape::slab` bytes, aligned to its size (a block's slab is its
//!  address with the low bits cleared)
//!  +--------+-------+-------+-----+-------+
//!  | Header | block | block | ... | block |      Header: `returned`, a stack of
//!  +--------+-------+-------+-----+-------+      blocks given back; `out`; links
//!                                                in its class's `SlabList`
//!  thread: bump through its own new slab --> blocks --> caches, depot
//!                                                          | what they do not keep
//!  thread whose cache is dry <-- take a whole stack <-- give back (onto `returned`)
//!            (class lock)          (listed slabs)       (one CAS per run of blocks)
//! ```
//!
//! * **Why:** a burst of tasks alive at once (spawn 200k, then join them)
//!   outgrows the caches, and the global allocator costs more than the task
//!   itself there (glibc: about 375 instructions per block, much of it
//!   consolidating freed chunks). Bumping a pointer costs a compare and an
//!   add, and hands the burst its blocks in address order.
//! * **`out`** counts the slab's blocks that are not on its stack: handed
//!   out, in a cache or the depot, in a thread's hands, or never handed out
//!   (the bump tail). Its top bit, `LISTED`, says the slab is on its class's
//!   list. A block is never handed out twice: only the bump and a taken
//!   stack hand blocks out.
//! * **Transitions** (the class lock is taken for all but the first):
//!   - *give back, listed, not the last:* push onto `returned`, then
//!     subtract from `out`, lock-free;
//!   - *give back, not listed:* list the slab if its stack holds blocks (a
//!     taker may have taken ours already);
//!   - *give back the last blocks out:* the slab is empty; keep it listed as
//!     a spare (at most `SPARES` per class) or unlist and free it;
//!   - *take:* unlist a slab, take its whole stack, add it to `out`; if
//!     blocks came back meanwhile, list it again.
//! * **No block is stranded:** when a giving-back or a taking returns, a
//!   slab whose stack holds blocks is listed. So the free blocks of a slab
//!   that one long-lived task keeps alive are taken again, like the chunks
//!   around a live one in a general-purpose allocator; only empty slabs
//!   beyond the spares are freed.
//! * **One atomic per run, not per block:** a thread collects the blocks it
//!   gives back to one slab ([`LocalSlab`]'s owed run) and pushes them with
//!   one CAS when a block of another slab comes, or when it exits. A run
//!   keeps at most one slab per class and thread from being taken or freed.

use super::alloc::FreeBlock;
use crate::sync::{AtomicPtr, AtomicUsize, Mutex, MutexGuard, Ordering, UnsafeCell};
use std::alloc::{self, Layout};
use std::cell::Cell;
use std::ptr::{self, NonNull};

/// `out`'s top bit: the slab is on its class's list.
const LISTED: usize = 1 << (usize::BITS - 1);
/// Where the blocks start: the header, rounded up to keep blocks 16-byte
/// aligned where their size is a multiple of 16.
const HEADER: usize = size_of::<Header>().next_multiple_of(16);
/// The smallest slab, and how many blocks one holds at least.
#[cfg(not(loom))]
const MIN_SLAB: (usize, usize) = (8192, 16);
#[cfg(loom)]
const MIN_SLAB: (usize, usize) = (0, 3);
/// Empty slabs a class keeps listed for the next burst.
#[cfg(not(loom))]
const SPARES: usize = 4;
#[cfg(loom)]
const SPARES: usize = 1;

/// A slab's first bytes.
struct Header {
    /// Blocks given back and not taken since, linked through their `next`.
    returned: AtomicPtr<FreeBlock>,
    /// See the module doc.
    out: AtomicUsize,
    /// The class list's links, under its lock.
    links: UnsafeCell<Links>,
}

#[derive(Clone, Copy)]
struct Links {
    prev: Option<NonNull<Header>>,
    next: Option<NonNull<Header>>,
}

/// The geometry of one class's slabs.
#[derive(Clone, Copy)]
pub(crate) struct Shape {
    /// The block size, and the distance between blocks.
    stride: usize,
    /// A power of two: the slab's size and alignment.
    slab: Layout,
    /// Blocks per slab.
    blocks: usize,
}

impl Shape {
    /// The slabs for blocks of `size` bytes, a multiple of 8. A block is
    /// aligned to 16 where `size` is a multiple of 16, else to 8: a type's
    /// size is a multiple of its alignment, so a block is aligned enough for
    /// any type of its size that is at most 16-aligned.
    pub(crate) const fn of(size: usize) -> Self {
        let (min_bytes, min_blocks) = MIN_SLAB;
        let mut bytes = (HEADER + min_blocks * size).next_power_of_two();
        if bytes < min_bytes {
            bytes = min_bytes;
        }
        let Ok(slab) = Layout::from_size_align(bytes, bytes) else {
            panic!("a power-of-two slab");
        };
        Self {
            stride: size,
            slab,
            blocks: (bytes - HEADER) / size,
        }
    }

    /// The header of the slab that holds `block`.
    #[inline(always)]
    fn header_of(self, block: NonNull<u8>) -> NonNull<Header> {
        let mask = self.slab.align() - 1;
        let header = block.as_ptr().map_addr(|addr| addr & !mask).cast();
        // SAFETY: the slab's first byte, not null: it was allocated.
        unsafe { NonNull::new_unchecked(header) }
    }

    /// A new slab, `out` blocks counted out: its first block.
    #[cold]
    fn new_slab(self, out: usize) -> NonNull<u8> {
        // SAFETY: the layout's size is at least `HEADER`, non-zero.
        let slab = unsafe { alloc::alloc(self.slab) };
        let Some(slab) = NonNull::new(slab) else {
            alloc::handle_alloc_error(self.slab)
        };
        // SAFETY: fresh memory, aligned for the header.
        unsafe {
            slab.cast::<Header>().write(Header {
                returned: AtomicPtr::new(ptr::null_mut()),
                out: AtomicUsize::new(out),
                links: UnsafeCell::new(Links {
                    prev: None,
                    next: None,
                }),
            });
        }
        // SAFETY: within the slab.
        unsafe { slab.add(HEADER) }
    }

    /// # Safety
    ///
    /// Nobody else can reach the slab: no block of it is out, and no list
    /// holds it.
    unsafe fn free_slab(self, header: NonNull<Header>) {
        // SAFETY: forwarded; the header was written by `new_slab`, and the
        // slab allocated with this layout.
        unsafe {
            header.drop_in_place();
            alloc::dealloc(header.as_ptr().cast(), self.slab);
        }
    }
}

/// One class's listed slabs: those with blocks on their stacks, and the
/// empty spares.
pub(crate) struct SlabList {
    shape: Shape,
    /// Slabs of this class allocated and not freed, for the models' leak
    /// checks (outside loom's view, as their `Count` is).
    #[cfg(loom)]
    live: std::sync::atomic::AtomicUsize,
    listed: Mutex<Listed>,
    /// `listed.count`, readable without the lock (a hint, as the depot's).
    count: AtomicUsize,
}

/// The list itself, linked through the headers' `links`.
struct Listed {
    first: Option<NonNull<Header>>,
    count: usize,
    /// Listed slabs with no block out.
    spares: usize,
}

// SAFETY: the slabs are shared memory that the list reaches only under its
// lock.
unsafe impl Send for Listed {}

impl Listed {
    /// # Safety
    ///
    /// `header` is a live slab, not on any list, and ours to list.
    unsafe fn push(&mut self, header: NonNull<Header>) {
        let next = self.first;
        // SAFETY: forwarded; the links are ours under the lock.
        unsafe { header.as_ref() }.links.with_mut(|links| {
            // SAFETY: as above.
            unsafe { *links = Links { prev: None, next } }
        });
        if let Some(next) = next {
            // SAFETY: a listed slab is live; its links are ours.
            unsafe { next.as_ref() }.links.with_mut(|links| {
                // SAFETY: as above.
                unsafe { (*links).prev = Some(header) }
            });
        }
        self.first = Some(header);
        self.count += 1;
    }

    /// # Safety
    ///
    /// `header` is on this list.
    unsafe fn unlink(&mut self, header: NonNull<Header>) {
        // SAFETY: forwarded: a listed slab is live, its links ours.
        let Links { prev, next } = unsafe { header.as_ref() }
            .links
            .with(|links| unsafe { *links });
        match prev {
            // SAFETY: as above, for its neighbours.
            Some(prev) => unsafe { prev.as_ref() }.links.with_mut(|links| unsafe {
                (*links).next = next;
            }),
            None => self.first = next,
        }
        if let Some(next) = next {
            // SAFETY: as above.
            unsafe { next.as_ref() }.links.with_mut(|links| unsafe {
                (*links).prev = prev;
            });
        }
        self.count -= 1;
    }
}

impl SlabList {
    pub(crate) fn new(shape: Shape) -> Self {
        Self {
            shape,
            #[cfg(loom)]
            live: std::sync::atomic::AtomicUsize::new(0),
            listed: Mutex::new(Listed {
                first: None,
                count: 0,
                spares: 0,
            }),
            count: AtomicUsize::new(0),
        }
    }

    /// A block for a thread without a cache (it is exiting): the first of
    /// a new slab, whose other blocks are given back at once.
    #[cfg(not(loom))]
    #[cold]
    pub(crate) fn allocate_alone(&self) -> NonNull<u8> {
        let local = LocalSlab::new();
        let block = local.bump(self);
        // SAFETY: `local` held only this list's slab.
        unsafe { local.release(self) };
        block
    }

    /// Gives back one block at once, for a thread without a cache.
    ///
    /// # Safety
    ///
    /// As for [`LocalSlab::give_back`].
    #[cfg(not(loom))]
    #[cold]
    pub(crate) unsafe fn give_back_alone(&self, block: NonNull<FreeBlock>) {
        // SAFETY: forwarded: a run of one.
        unsafe { self.give_back(block, block, 1) }
    }

    /// A new slab of this class, `out` blocks counted out: its first block.
    fn new_slab(&self, out: usize) -> NonNull<u8> {
        // ORDERING: Relaxed: a count for the models, read after their
        // threads are joined.
        #[cfg(loom)]
        self.live.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.shape.new_slab(out)
    }

    /// # Safety
    ///
    /// As for [`Shape::free_slab`], for a slab of this class.
    unsafe fn free_slab(&self, header: NonNull<Header>) {
        // ORDERING: Relaxed: as in `new_slab`.
        #[cfg(loom)]
        self.live.fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
        // SAFETY: forwarded.
        unsafe { self.shape.free_slab(header) }
    }

    /// Slabs of this class allocated and not freed, and the empty ones
    /// kept.
    #[cfg(loom)]
    pub(crate) fn live_and_spare_slabs(&self) -> (usize, usize) {
        let spares = self.listed.lock().spares;
        // ORDERING: Relaxed: as in `new_slab`.
        (self.live.load(std::sync::atomic::Ordering::Relaxed), spares)
    }

    /// Frees the empty spares; returns how many there were. A listed slab
    /// with blocks out would mean a block never given back: it is left
    /// alone (a leak, never a free of memory in use).
    pub(crate) fn free_spares(&self) -> usize {
        let mut listed = self.listed.lock();
        let mut freed = 0;
        let mut next = listed.first;
        while let Some(header) = next {
            // SAFETY: a listed slab is live, its links ours under the lock.
            let slab = unsafe { header.as_ref() };
            // SAFETY: as above.
            next = slab.links.with(|links| unsafe { (*links).next });
            // ORDERING: Acquire: pairs with the givers' Release, as in
            // `give_back_locked`.
            if slab.out.load(Ordering::Acquire) == LISTED {
                // SAFETY: listed, under the lock.
                unsafe { listed.unlink(header) };
                listed.spares -= 1;
                // SAFETY: empty and now on no list: only we reach it.
                unsafe { self.free_slab(header) };
                freed += 1;
            }
        }
        self.publish(&listed);
        freed
    }

    fn publish(&self, listed: &MutexGuard<'_, Listed>) {
        // ORDERING: Relaxed: a hint; the slabs are handed over under the lock.
        self.count.store(listed.count, Ordering::Relaxed);
    }

    /// Gives back a run of `count` blocks of one slab, linked from `first`
    /// to `last` through `next`.
    ///
    /// # Safety
    ///
    /// The blocks are of a slab of this list's class, out, and given up by
    /// the caller; the run is linked.
    unsafe fn give_back(&self, first: NonNull<FreeBlock>, last: NonNull<FreeBlock>, count: usize) {
        let header = self.shape.header_of(first.cast());
        // SAFETY: the slab lives while our blocks are counted in `out`.
        let slab = unsafe { header.as_ref() };
        // ORDERING: Relaxed: only seeds the CAS, which publishes the links.
        let mut top = slab.returned.load(Ordering::Relaxed);
        loop {
            // SAFETY: `last` is ours until the push succeeds.
            unsafe { (*last.as_ptr()).next = NonNull::new(top) };
            // ORDERING: Release: a taker's Acquire swap sees the links.
            match slab.returned.compare_exchange_weak(
                top,
                first.as_ptr(),
                Ordering::Release,
                Ordering::Relaxed,
            ) {
                Ok(_) => break,
                Err(now) => top = now,
            }
        }
        // Lock-free while the slab is listed and other blocks stay out.
        // ORDERING: Relaxed: only seeds the CAS below, or the locked path,
        // which loads again with Acquire.
        let mut out = slab.out.load(Ordering::Relaxed);
        while out & LISTED != 0 && out & !LISTED > count {
            // ORDERING: Release: our use of the blocks happens before
            // whoever frees the slab, which loads `out` with Acquire.
            match slab.out.compare_exchange_weak(
                out,
                out - count,
                Ordering::Release,
                Ordering::Relaxed,
            ) {
                Ok(_) => return,
                Err(now) => out = now,
            }
        }
        // SAFETY: forwarded: our `count` blocks are still counted out.
        unsafe { self.give_back_locked(header, count) }
    }

    /// `give_back` where the slab is not listed or these are its last
    /// blocks out: both change the list.
    ///
    /// # Safety
    ///
    /// `count` blocks of the slab of `header`, already on its stack, are
    /// still counted out and given up by the caller.
    #[cold]
    unsafe fn give_back_locked(&self, header: NonNull<Header>, count: usize) {
        let mut listed = self.listed.lock();
        // SAFETY: as in `give_back`.
        let slab = unsafe { header.as_ref() };
        // ORDERING: Acquire: pairs with every lock-free giver's Release, so
        // that freeing the slab comes after their use of its blocks.
        let mut out = slab.out.load(Ordering::Acquire);
        loop {
            let was_listed = out & LISTED != 0;
            let Some(left_out) = (out & !LISTED).checked_sub(count) else {
                crate::unwind::abort("a slab got back more blocks than it had out");
            };
            if left_out == 0 {
                // The last blocks out: lock-free givers need blocks out, and
                // takers the lock, so nobody else changes `out` now.
                if listed.spares < SPARES {
                    // ORDERING: Relaxed: under the lock, which a taker holds.
                    slab.out.store(LISTED, Ordering::Relaxed);
                    listed.spares += 1;
                    if !was_listed {
                        // SAFETY: live (ours), and not listed.
                        unsafe { listed.push(header) };
                    }
                } else {
                    if was_listed {
                        // SAFETY: listed, says `out`, under the lock.
                        unsafe { listed.unlink(header) };
                    }
                    self.publish(&listed);
                    drop(listed);
                    // SAFETY: no block out, on no list: only we reach it.
                    return unsafe { self.free_slab(header) };
                }
                return self.publish(&listed);
            }
            // List it if its stack holds blocks: ours may be gone already,
            // taken with the stack after we pushed them. A block pushed
            // after this load finds the slab unlisted and lists it.
            // ORDERING: Acquire: pairs with the givers' Release pushes.
            let list_it = !was_listed && !slab.returned.load(Ordering::Acquire).is_null();
            let listed_bit = if was_listed || list_it { LISTED } else { 0 };
            // ORDERING: AcqRel: as the lock-free path's Release, and we may
            // have read a lock-free giver's value.
            match slab.out.compare_exchange_weak(
                out,
                left_out | listed_bit,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => {
                    if list_it {
                        // SAFETY: live (other blocks are out), not listed,
                        // and we set `LISTED` under the lock.
                        unsafe { listed.push(header) };
                        self.publish(&listed);
                    }
                    return;
                }
                Err(now) => out = now,
            }
        }
    }

    /// Takes the whole stack of a listed slab: its first block and how many
    /// are linked from it, or `None` if no slab is listed.
    #[cold]
    pub(crate) fn take(&self) -> Option<(NonNull<FreeBlock>, usize)> {
        // ORDERING: Relaxed: see `count`.
        if self.count.load(Ordering::Relaxed) == 0 {
            return None;
        }
        let mut listed = self.listed.lock();
        let header = listed.first?;
        // SAFETY: listed, under the lock.
        unsafe { listed.unlink(header) };
        // SAFETY: a listed slab is live, and the list's while we hold the
        // lock and its `LISTED` bit.
        let slab = unsafe { header.as_ref() };
        // ORDERING: Acquire: pairs with the givers' Release pushes, so the
        // links we walk are theirs.
        let first = slab.returned.swap(ptr::null_mut(), Ordering::Acquire);
        let Some(first) = NonNull::new(first) else {
            crate::unwind::abort("a listed slab had no block to take");
        };
        let mut taken = 1;
        let mut block = first;
        // SAFETY: the stack's blocks are free and now ours, linked.
        while let Some(next) = unsafe { block.as_ref().next } {
            block = next;
            taken += 1;
        }
        // ORDERING: Relaxed: under the lock. It seeds the CAS, and tells a
        // spare: `out == LISTED` (no block out) cannot change while we
        // hold the lock, which also orders the store that made it so.
        let mut out = slab.out.load(Ordering::Relaxed);
        if out == LISTED {
            listed.spares -= 1;
        }
        loop {
            // ORDERING: AcqRel: lock-free givers may still subtract until
            // they see `LISTED` cleared.
            match slab.out.compare_exchange_weak(
                out,
                (out + taken) & !LISTED,
                Ordering::AcqRel,
                Ordering::Relaxed,
            ) {
                Ok(_) => break,
                Err(now) => out = now,
            }
        }
        // Blocks pushed since the swap, by givers that then saw the slab
        // listed: list it again, or they would be stranded. We hold blocks
        // out, so the slab lives; givers that see it unlisted wait for the
        // lock.
        // ORDERING: Acquire: a giver's push happens before its subtraction,
        // which our CAS read or preceded.
        if !slab.returned.load(Ordering::Acquire).is_null() {
            // ORDERING: Relaxed: under the lock; lock-free givers only
            // subtract once the bit is set, and the lock publishes it.
            slab.out.fetch_or(LISTED, Ordering::Relaxed);
            // SAFETY: live (our blocks are out), unlisted.
            unsafe { listed.push(header) };
        }
        self.publish(&listed);
        Some((first.cast(), taken))
    }
}

impl Drop for SlabList {
    fn drop(&mut self) {
        self.free_spares();
    }
}

/// One thread's part in one class: the slab it bumps through, and the run
/// of blocks it owes a slab.
pub(crate) struct LocalSlab {
    /// The next block the bump hands out, and how many are left from it.
    next: Cell<Option<NonNull<u8>>>,
    left: Cell<usize>,
    /// The owed run: blocks of one slab given back here and not yet pushed,
    /// linked from `first` to `last`.
    first: Cell<Option<NonNull<FreeBlock>>>,
    last: Cell<Option<NonNull<FreeBlock>>>,
    owed: Cell<usize>,
}

impl LocalSlab {
    pub(crate) const fn new() -> Self {
        Self {
            next: Cell::new(None),
            left: Cell::new(0),
            first: Cell::new(None),
            last: Cell::new(None),
            owed: Cell::new(0),
        }
    }

    /// A block from this thread's slab, or from a new one.
    #[inline]
    pub(crate) fn bump(&self, list: &SlabList) -> NonNull<u8> {
        let shape = list.shape;
        let block = match self.next.get() {
            Some(block) if self.left.get() > 0 => block,
            _ => {
                self.left.set(shape.blocks);
                list.new_slab(shape.blocks)
            }
        };
        self.left.set(self.left.get() - 1);
        // SAFETY: within the slab, or one past its last block.
        self.next.set(Some(unsafe { block.add(shape.stride) }));
        block
    }

    /// Gives back a block, pushed later with the rest of its slab's run.
    ///
    /// # Safety
    ///
    /// `block` is out, of a slab of `list`'s class (any thread's), and
    /// given up by the caller.
    #[inline]
    pub(crate) unsafe fn give_back(&self, block: NonNull<FreeBlock>, list: &SlabList) {
        let shape = list.shape;
        let same_slab = self
            .first
            .get()
            .is_some_and(|first| shape.header_of(first.cast()) == shape.header_of(block.cast()));
        if !same_slab {
            // SAFETY: forwarded: the owed run is of `list`'s class.
            unsafe { self.settle(list) };
            self.last.set(Some(block));
        }
        // SAFETY: the block is ours now.
        unsafe { (*block.as_ptr()).next = self.first.get() };
        self.first.set(Some(block));
        self.owed.set(self.owed.get() + 1);
    }

    /// Pushes the owed run.
    ///
    /// # Safety
    ///
    /// The owed run is of `list`'s class.
    #[cold]
    unsafe fn settle(&self, list: &SlabList) {
        let (Some(first), Some(last)) = (self.first.take(), self.last.take()) else {
            return;
        };
        // SAFETY: forwarded; the run was given up to us, linked by
        // `give_back`.
        unsafe { list.give_back(first, last, self.owed.replace(0)) };
    }

    /// Pushes the owed run and gives back the blocks the bump never handed
    /// out: the thread keeps nothing of `list`'s slabs.
    ///
    /// # Safety
    ///
    /// This state has only ever held slabs of `list`'s class.
    pub(crate) unsafe fn release(&self, list: &SlabList) {
        // SAFETY: forwarded.
        unsafe { self.settle(list) };
        let left = self.left.replace(0);
        let Some(next) = self.next.take() else {
            return;
        };
        if left == 0 {
            return;
        }
        // Link the tail into one run: its blocks are free memory, counted out.
        let stride = list.shape.stride;
        let first = next.cast::<FreeBlock>();
        let mut last = first;
        for _ in 1..left {
            // SAFETY: the tail's blocks lie within the slab, `stride` apart.
            let block = unsafe { last.byte_add(stride) };
            // SAFETY: as above; never handed out, so ours.
            unsafe { (*last.as_ptr()).next = Some(block) };
            last = block;
        }
        // SAFETY: as above: `left` blocks from `next`, counted out, ours.
        unsafe { list.give_back(first, last, left) };
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::{FreeBlock, LocalSlab, SPARES, Shape, SlabList};
    use std::collections::HashSet;
    use std::ptr::NonNull;

    /// The class of a task with a `u64` result.
    fn list() -> SlabList {
        SlabList::new(Shape::of(40))
    }

    struct Block(NonNull<FreeBlock>);
    // SAFETY: a block out of its slab is plain memory, owned by whoever
    // holds this.
    unsafe impl Send for Block {}

    fn bump(local: &LocalSlab, list: &SlabList, count: usize) -> Vec<NonNull<FreeBlock>> {
        (0..count).map(|_| local.bump(list).cast()).collect()
    }

    /// Gives `blocks` back, then settles.
    fn give_back(
        local: &LocalSlab,
        list: &SlabList,
        blocks: impl IntoIterator<Item = NonNull<FreeBlock>>,
    ) {
        for block in blocks {
            // SAFETY: each block is out, of `list`'s class, given back once.
            unsafe { local.give_back(block, list) };
        }
        // SAFETY: `local` held only `list`'s slabs.
        unsafe { local.release(list) };
    }

    fn take_all(list: &SlabList) -> Vec<NonNull<FreeBlock>> {
        let mut blocks = Vec::new();
        while let Some((first, count)) = list.take() {
            let mut next = Some(first);
            for _ in 0..count {
                let block = next.expect("as many blocks as counted");
                // SAFETY: a taken stack's blocks are ours and linked.
                next = unsafe { block.as_ref().next };
                blocks.push(block);
            }
        }
        blocks
    }

    #[test]
    fn a_burst_gets_its_blocks_in_address_order() {
        let (list, local) = (list(), LocalSlab::new());
        let shape = Shape::of(40);
        let blocks = bump(&local, &list, shape.blocks);
        for pair in blocks.windows(2) {
            assert_eq!(pair[1].addr().get() - pair[0].addr().get(), 40);
        }
        assert!(shape.blocks * 40 + super::HEADER <= shape.slab.size());
        give_back(&local, &list, blocks);
    }

    #[test]
    fn blocks_are_aligned_for_their_size() {
        for size in (32..=256).step_by(8) {
            let (list, local) = (SlabList::new(Shape::of(size)), LocalSlab::new());
            let blocks = bump(&local, &list, 3);
            let align = if size % 16 == 0 { 16 } else { 8 };
            assert!(blocks.iter().all(|block| block.addr().get() % align == 0));
            give_back(&local, &list, blocks);
        }
    }

    /// The pinning that slabs without reuse suffer: one long-lived block
    /// keeps its slab, and every other block of it, freed on another thread,
    /// is taken again rather than stranded.
    #[test]
    fn a_live_block_keeps_its_slab_and_its_neighbours_are_taken_again() {
        let (list, local) = (list(), LocalSlab::new());
        let mut blocks = bump(&local, &list, Shape::of(40).blocks);
        let kept = blocks.pop().expect("a slab holds blocks");
        let freed: HashSet<_> = blocks.iter().copied().collect();
        let moved: Vec<Block> = blocks.into_iter().map(Block).collect();
        std::thread::scope(|s| {
            s.spawn(|| give_back(&LocalSlab::new(), &list, moved.into_iter().map(|b| b.0)));
        });
        let taken = take_all(&list);
        assert_eq!(taken.iter().copied().collect::<HashSet<_>>(), freed);
        assert_eq!(taken.len(), freed.len(), "each block taken once");
        give_back(&local, &list, taken.into_iter().chain([kept]));
        assert_eq!(list.free_spares(), 1);
    }

    #[test]
    fn empty_slabs_are_kept_up_to_the_bound_and_the_rest_freed() {
        let list = list();
        let slabs = SPARES + 2;
        let locals: Vec<LocalSlab> = (0..slabs).map(|_| LocalSlab::new()).collect();
        let blocks: Vec<_> = locals.iter().map(|local| bump(local, &list, 1)).collect();
        for (local, blocks) in locals.iter().zip(blocks) {
            give_back(local, &list, blocks);
        }
        assert_eq!(list.free_spares(), SPARES);
        assert!(list.take().is_none());
    }

    #[test]
    fn a_block_for_a_thread_without_a_cache_leaves_the_rest_of_its_slab_to_others() {
        let list = list();
        let alone = list.allocate_alone().cast::<FreeBlock>();
        let others = take_all(&list);
        assert_eq!(others.len(), Shape::of(40).blocks - 1);
        assert!(!others.contains(&alone));
        // SAFETY: out, given back once.
        unsafe { list.give_back_alone(alone) };
        give_back(&LocalSlab::new(), &list, others);
        assert_eq!(list.free_spares(), 1);
    }
}
