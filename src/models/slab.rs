//! The slabs under the block caches (`task/slab.rs`): blocks given back on
//! two threads while a third takes the slab's stack. Under `cfg(loom)` a
//! slab holds three blocks and a class keeps one empty spare.

use crate::sync::{Arc, thread};
use crate::task::alloc::FreeBlock;
use crate::task::slab::{LocalSlab, Shape, SlabList};
use std::collections::HashSet;
use std::ptr::NonNull;

/// A block on its way to another thread, as a task's is.
struct Block(NonNull<FreeBlock>);

// SAFETY: a block out of its slab is plain memory, owned by whoever holds
// this.
unsafe impl Send for Block {}

/// Gives `block` back on a thread of its own, and settles there.
fn give_back_on_a_thread(list: &Arc<SlabList>, block: Block) -> thread::JoinHandle<()> {
    let list = list.clone();
    thread::spawn(move || {
        let local = LocalSlab::new();
        // SAFETY: out, of `list`'s class, given up here once.
        unsafe { local.give_back(block.0, &list) };
        // SAFETY: `local` held only `list`'s slabs.
        unsafe { local.release(&list) };
    })
}

/// The blocks of the stack `list.take()` hands out, if any.
fn take(list: &SlabList) -> Vec<NonNull<FreeBlock>> {
    let Some((first, count)) = list.take() else {
        return Vec::new();
    };
    let mut blocks = vec![first];
    while blocks.len() < count {
        let last = blocks[blocks.len() - 1];
        // SAFETY: a taken stack's blocks are ours and linked.
        blocks.push(unsafe { last.as_ref().next }.expect("as many blocks as counted"));
    }
    blocks
}

/// Two threads give a block back each while the main thread takes the
/// slab's stack. The main thread never gets a block twice, nor one still
/// out; once both givers are done, the blocks it did not take are listed
/// (none stranded on an unlisted stack); and once every block is back, the
/// slab is kept as the one spare, and freed with the list.
///
/// Planted bugs seen caught:
/// - `take` not listing a slab whose stack refilled while it took (the
///   relist removed): a block given back lock-free during the take is
///   stranded, and the "listed after the givers" assertion fails;
/// - the lock-free give-back subtracting the last blocks too (`>=` for
///   `>`): the slab goes empty without the lock, uncounted as a spare (the
///   bound on spares no longer holds), and the spare count fails.
#[test]
fn give_back_races_take() {
    super::model(|| {
        let list = Arc::new(SlabList::new(Shape::of(40)));
        let bump = LocalSlab::new();
        let [a, b, c] = std::array::from_fn(|_| bump.bump(&list).cast::<FreeBlock>());
        let givers = [
            give_back_on_a_thread(&list, Block(a)),
            give_back_on_a_thread(&list, Block(b)),
        ];
        let early = take(&list);
        for giver in givers {
            giver.join().unwrap();
        }
        let late = take(&list);
        let taken: Vec<_> = early.iter().chain(&late).copied().collect();
        let unique: HashSet<_> = taken.iter().copied().collect();
        assert_eq!(unique.len(), taken.len(), "a block taken twice");
        assert_eq!(unique, HashSet::from([a, b]), "listed after the givers");
        assert!(list.take().is_none(), "nothing left to take");
        for block in taken.into_iter().chain([c]) {
            // SAFETY: out (taken, or bumped), given back once.
            unsafe { bump.give_back(block, &list) };
        }
        // SAFETY: `bump` held only `list`'s slab.
        unsafe { bump.release(&list) };
        assert_eq!(list.live_and_spare_slabs(), (1, 1), "kept as the spare");
        assert_eq!(list.free_spares(), 1);
        assert_eq!(list.live_and_spare_slabs(), (0, 0), "freed with the list");
    });
}

/// The last two blocks out of a slab given back on two threads while the
/// main thread takes its stack, with the class's one spare already kept:
/// whoever empties the slab unlists and frees it, once, and the spare
/// stays.
///
/// Planted bug seen caught: the emptying give-back keeping the slab
/// whatever the spare count (`spares < SPARES` made `true`): two empty
/// slabs stay, and the final count fails.
#[test]
fn the_last_give_back_races_take_beyond_the_spares() {
    super::model(|| {
        let list = Arc::new(SlabList::new(Shape::of(40)));
        // The spare: a slab whose one block went out and came back.
        let first = LocalSlab::new();
        let block = first.bump(&list).cast::<FreeBlock>();
        // SAFETY: `first` held only `list`'s slab; the block is out, and
        // given back once.
        unsafe {
            first.release(&list);
            first.give_back(block, &list);
            first.release(&list);
        }
        assert_eq!(list.live_and_spare_slabs(), (1, 1));
        // A second slab, two blocks out, the rest given back (listed).
        let second = LocalSlab::new();
        let [a, b] = std::array::from_fn(|_| second.bump(&list).cast::<FreeBlock>());
        // SAFETY: as above.
        unsafe { second.release(&list) };
        let givers = [
            give_back_on_a_thread(&list, Block(a)),
            give_back_on_a_thread(&list, Block(b)),
        ];
        let taken = take(&list);
        for giver in givers {
            giver.join().unwrap();
        }
        let mine = LocalSlab::new();
        for block in taken {
            // SAFETY: taken above, given back once.
            unsafe { mine.give_back(block, &list) };
        }
        // SAFETY: `mine` held only `list`'s slabs.
        unsafe { mine.release(&list) };
        assert_eq!(list.live_and_spare_slabs(), (1, 1), "one spare, no more");
        assert_eq!(list.free_spares(), 1);
        assert_eq!(list.live_and_spare_slabs(), (0, 0));
    });
}
