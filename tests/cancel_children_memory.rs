//! A long-lived parent token does not accumulate dead children: a child
//! unlinks itself when its last handle is dropped.
//!
//! Memory is not visible to a test directly; this asserts through behaviour
//! (a million children made and dropped complete, and cancelling the parent
//! afterwards still works) and, on Linux, through the resident set size: a
//! leaked child node is a few hundred bytes, so a million of them would add
//! hundreds of MiB.

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;
use support::{resident_bytes, size, within};
use taskpool::CancellationToken;

#[test]
fn a_million_children_made_and_dropped_under_one_parent_do_not_pile_up() {
    let count = size(1_000_000, 1_000);
    let (took, growth, calls) = within("a million child tokens", move || {
        let parent = CancellationToken::new();
        let calls = Arc::new(AtomicUsize::new(0));
        let counter = calls.clone();
        let _kept = parent.register(move || {
            counter.fetch_add(1, Ordering::SeqCst);
        });
        // Warm up the allocator before the baseline.
        for _ in 0..size(10_000, 10) {
            drop(parent.child_token());
        }
        let before = resident_bytes();
        let start = Instant::now();
        for round in 0..count {
            let child = parent.child_token();
            let grandchild = child.child_token();
            if round % 2 == 0 {
                drop(child);
                drop(grandchild);
            } else {
                drop(grandchild);
                drop(child);
            }
        }
        let took = start.elapsed();
        let growth = match (before, resident_bytes()) {
            (Some(before), Some(after)) => Some(after.saturating_sub(before)),
            _ => None,
        };
        // The parent still works, and runs its one live callback once.
        let live_child = parent.child_token();
        parent.cancel();
        assert!(live_child.is_cancelled());
        (took, growth, calls.load(Ordering::SeqCst))
    });
    println!(
        "{count} children and grandchildren made and dropped in {took:?}; resident growth {growth:?} bytes"
    );
    assert_eq!(calls, 1);
    if let Some(growth) = growth {
        assert!(
            growth < 64 << 20,
            "resident memory grew by {} MiB over {count} dropped children: they are kept",
            growth >> 20
        );
    }
}

#[test]
fn many_registrations_made_and_dropped_do_not_pile_up() {
    let count = size(1_000_000, 1_000);
    let growth = within("a million registrations", move || {
        let token = CancellationToken::new();
        for _ in 0..size(10_000, 10) {
            drop(token.register(|| {}));
        }
        let before = resident_bytes();
        for _ in 0..count {
            drop(token.register(|| {}));
        }
        let growth = before
            .zip(resident_bytes())
            .map(|(b, a)| a.saturating_sub(b));
        token.cancel();
        growth
    });
    if let Some(growth) = growth {
        assert!(
            growth < 64 << 20,
            "resident memory grew by {} MiB",
            growth >> 20
        );
    }
}

#[test]
fn children_kept_alive_are_all_cancelled_with_the_parent() {
    let parent = CancellationToken::new();
    let children: Vec<_> = (0..size(10_000, 100))
        .map(|_| parent.child_token())
        .collect();
    // Drop every other one: the rest must still be linked.
    let kept: Vec<_> = children.into_iter().step_by(2).collect();
    parent.cancel();
    assert!(kept.iter().all(CancellationToken::is_cancelled));
}
