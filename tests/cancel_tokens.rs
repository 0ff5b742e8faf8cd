//! `CancellationToken` trees: a child is cancelled with its parent, never
//! the other way round, to any depth; clones share one state.

mod support;

use taskpool::{CancellationToken, Cancelled};

#[test]
fn a_new_token_is_not_cancelled_and_check_is_ok() {
    let token = CancellationToken::new();
    assert!(!token.is_cancelled());
    assert_eq!(token.check(), Ok(()));
    let default = CancellationToken::default();
    assert!(!default.is_cancelled());
}

#[test]
fn cancel_is_seen_by_every_clone_and_check_fails() {
    let token = CancellationToken::new();
    let clone = token.clone();
    clone.cancel();
    assert!(token.is_cancelled());
    assert_eq!(token.check(), Err(Cancelled));
    // Cancelling again changes nothing.
    token.cancel();
    assert!(clone.is_cancelled());
}

#[test]
fn a_child_is_cancelled_with_its_parent() {
    let parent = CancellationToken::new();
    let child = parent.child_token();
    let sibling = parent.child_token();
    assert!(!child.is_cancelled());
    parent.cancel();
    assert!(child.is_cancelled());
    assert!(sibling.is_cancelled());
}

#[test]
fn cancelling_a_child_does_not_cancel_its_parent_or_siblings() {
    let parent = CancellationToken::new();
    let child = parent.child_token();
    let sibling = parent.child_token();
    child.cancel();
    assert!(child.is_cancelled());
    assert!(!parent.is_cancelled());
    assert!(!sibling.is_cancelled());
    // The parent still cancels its other children afterwards.
    parent.cancel();
    assert!(sibling.is_cancelled());
}

#[test]
fn grandchildren_are_cancelled_with_the_root_and_not_with_a_grandchild() {
    let root = CancellationToken::new();
    let child = root.child_token();
    let grandchildren: Vec<_> = (0..3).map(|_| child.child_token()).collect();
    let great_grandchild = grandchildren[0].child_token();
    grandchildren[1].cancel();
    assert!(!child.is_cancelled());
    assert!(!root.is_cancelled());
    assert!(!grandchildren[0].is_cancelled());
    assert!(!great_grandchild.is_cancelled());
    root.cancel();
    assert!(child.is_cancelled());
    assert!(grandchildren.iter().all(CancellationToken::is_cancelled));
    assert!(great_grandchild.is_cancelled());
}

#[test]
fn cancelling_a_middle_token_cancels_only_its_subtree() {
    let root = CancellationToken::new();
    let left = root.child_token();
    let right = root.child_token();
    let left_leaf = left.child_token();
    let right_leaf = right.child_token();
    left.cancel();
    assert!(left_leaf.is_cancelled());
    assert!(!right.is_cancelled() && !right_leaf.is_cancelled() && !root.is_cancelled());
}

#[test]
fn a_child_of_a_cancelled_token_starts_cancelled() {
    let parent = CancellationToken::new();
    parent.cancel();
    let child = parent.child_token();
    assert!(child.is_cancelled());
    assert!(child.child_token().is_cancelled());
}

#[test]
fn a_child_whose_parent_handle_was_dropped_stays_linked_to_the_tree() {
    let root = CancellationToken::new();
    let grandchild = {
        let child = root.child_token();
        child.child_token()
        // `child`'s only handle is dropped here; the grandchild keeps the
        // link through it alive.
    };
    root.cancel();
    assert!(grandchild.is_cancelled());
}

/// A chain root -> child -> grandchild -> ... `depth` links long.
fn chain(depth: usize) -> (CancellationToken, Vec<CancellationToken>) {
    let root = CancellationToken::new();
    let mut chain = vec![root.child_token()];
    for _ in 1..depth {
        let next = chain.last().unwrap().child_token();
        chain.push(next);
    }
    (root, chain)
}

/// Runs `f` on a thread with the default stack size (2 MiB).
fn on_default_stack(what: &str, f: impl FnOnce() + Send + 'static) {
    std::thread::spawn(f)
        .join()
        .unwrap_or_else(|_| panic!("{what} panicked"));
}

#[test]
fn a_chain_of_1000_children_is_cancelled_from_the_root_and_dropped() {
    let depth = support::size(1_000, 50);
    on_default_stack("cancel a chain", move || {
        let (root, chain) = chain(depth);
        root.cancel();
        assert!(chain.iter().all(CancellationToken::is_cancelled));
    });
    on_default_stack("drop a chain leaf first", move || {
        let (root, mut chain) = chain(depth);
        while let Some(token) = chain.pop() {
            drop(token);
        }
        root.cancel();
    });
    on_default_stack("drop a chain root first", move || {
        let (root, chain) = chain(depth);
        drop(root);
        drop(chain);
    });
}

#[test]
fn a_chain_of_10000_children_is_cancelled_from_the_root_without_overflowing_the_stack() {
    let depth = support::size(10_000, 100);
    on_default_stack("cancel a deep chain", move || {
        let (root, chain) = chain(depth);
        root.cancel();
        assert!(chain.iter().all(CancellationToken::is_cancelled));
        // Only the cancel is under test here: leak the chain.
        std::mem::forget(chain);
    });
}

#[test]
fn a_chain_of_10000_children_is_dropped_without_overflowing_the_stack() {
    let depth = support::size(10_000, 100);
    on_default_stack("drop a deep chain", move || {
        let (root, chain) = chain(depth);
        // The Vec drops the links root-first; the leaf's drop then unlinks
        // every ancestor in turn.
        drop(chain);
        drop(root);
    });
}

#[test]
fn tokens_are_send_sync_and_debug() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<CancellationToken>();
    let token = CancellationToken::new();
    assert!(format!("{token:?}").contains("cancelled: false"));
}
