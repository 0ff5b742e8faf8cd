//! Tokens under concurrency: register racing cancel runs the callback
//! exactly once; unlinking a child racing its parent's cancel neither
//! deadlocks nor loses or repeats a callback; re-entrant drops from inside
//! callbacks do not deadlock.

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier, Mutex};
use support::{DropCounter, size, within};
use taskpool::{CancellationRegistration, CancellationToken};

#[test]
fn register_racing_cancel_runs_the_callback_exactly_once() {
    within("register vs cancel", || {
        for round in 0..size(1_000, 20) {
            let token = CancellationToken::new();
            let calls = Arc::new(AtomicUsize::new(0));
            let barrier = Arc::new(Barrier::new(2));
            let canceller = {
                let (token, barrier) = (token.clone(), barrier.clone());
                std::thread::spawn(move || {
                    barrier.wait();
                    token.cancel();
                })
            };
            barrier.wait();
            let counter = calls.clone();
            let registration = token.register(move || {
                counter.fetch_add(1, Ordering::SeqCst);
            });
            canceller.join().unwrap();
            assert_eq!(calls.load(Ordering::SeqCst), 1, "round {round}");
            drop(registration);
            assert_eq!(calls.load(Ordering::SeqCst), 1, "round {round}");
        }
    });
}

#[test]
fn dropping_a_child_racing_its_parents_cancel_neither_deadlocks_nor_repeats_a_callback() {
    within("child drop vs parent cancel", || {
        let captured = DropCounter::new();
        let calls = Arc::new(AtomicUsize::new(0));
        let rounds = size(1_000, 20);
        for _ in 0..rounds {
            let parent = CancellationToken::new();
            let child = parent.child_token();
            let (value, counter) = (captured.track(), calls.clone());
            let registration = child.register(move || {
                value.touch();
                counter.fetch_add(1, Ordering::SeqCst);
            });
            let barrier = Arc::new(Barrier::new(2));
            let canceller = {
                let (parent, barrier) = (parent.clone(), barrier.clone());
                std::thread::spawn(move || {
                    barrier.wait();
                    parent.cancel();
                })
            };
            barrier.wait();
            drop(child);
            drop(registration);
            canceller.join().unwrap();
        }
        assert!(calls.load(Ordering::SeqCst) <= rounds);
        assert_eq!(
            captured.drops(),
            rounds,
            "every callback dropped exactly once"
        );
    });
}

#[test]
fn cancelling_a_parent_and_its_child_at_once_runs_each_callback_once() {
    within("parent and child cancelled at once", || {
        for round in 0..size(1_000, 20) {
            let parent = CancellationToken::new();
            let child = parent.child_token();
            let calls = Arc::new(AtomicUsize::new(0));
            let counter = calls.clone();
            let registration = child.register(move || {
                counter.fetch_add(1, Ordering::SeqCst);
            });
            let barrier = Arc::new(Barrier::new(2));
            let canceller = {
                let (parent, barrier) = (parent.clone(), barrier.clone());
                std::thread::spawn(move || {
                    barrier.wait();
                    parent.cancel();
                })
            };
            barrier.wait();
            child.cancel();
            canceller.join().unwrap();
            assert_eq!(calls.load(Ordering::SeqCst), 1, "round {round}");
            drop(registration);
        }
    });
}

#[test]
fn a_callback_that_drops_the_last_handle_of_its_own_child_token_does_not_deadlock() {
    let calls = within("drop the last child handle inside its callback", || {
        let parent = CancellationToken::new();
        let child = parent.child_token();
        let slot: Arc<Mutex<Option<CancellationRegistration>>> = Arc::default();
        let calls = Arc::new(AtomicUsize::new(0));
        let (inner, counter) = (slot.clone(), calls.clone());
        let registration = child.register(move || {
            counter.fetch_add(1, Ordering::SeqCst);
            // The registration holds the child's last handle: dropping it
            // unlinks the child from the parent that is cancelling it.
            let own = inner.lock().unwrap().take();
            drop(own);
        });
        *slot.lock().unwrap() = Some(registration);
        drop(child);
        parent.cancel();
        calls.load(Ordering::SeqCst)
    });
    assert_eq!(calls, 1);
}

#[test]
fn a_sibling_kept_linked_by_its_registration_is_cancelled_after_a_callback_drops_its_token() {
    let calls = within("drop a sibling inside a callback", || {
        let parent = CancellationToken::new();
        let sibling = Arc::new(Mutex::new(Some(parent.child_token())));
        let calls = Arc::new(AtomicUsize::new(0));
        let counter = calls.clone();
        let _sibling_callback = {
            let guard = sibling.lock().unwrap();
            let token = guard.as_ref().unwrap().clone();
            drop(guard);
            // Registered on the sibling: runs only if the sibling is still
            // linked when the parent's cancel reaches it.
            let registration = token.register(move || {
                counter.fetch_add(1, Ordering::SeqCst);
            });
            drop(token);
            registration
        };
        let inner = sibling.clone();
        // Registered after the sibling's link, so it runs first and unlinks
        // the sibling (its last token handle) while the cancel is under way.
        let _unlinker = parent.register(move || drop(inner.lock().unwrap().take()));
        parent.cancel();
        calls.load(Ordering::SeqCst)
    });
    // The sibling's registration still holds a handle, so the sibling stays
    // linked: its callback runs once.
    assert_eq!(calls, 1);
}

#[test]
fn many_threads_making_and_dropping_children_of_one_parent_while_it_is_cancelled() {
    within("children churn during cancel", || {
        let parent = CancellationToken::new();
        let start = Arc::new(Barrier::new(5));
        let churners: Vec<_> = (0..4)
            .map(|_| {
                let (parent, start) = (parent.clone(), start.clone());
                std::thread::spawn(move || {
                    start.wait();
                    let mut seen_cancelled = 0;
                    for _ in 0..size(20_000, 50) {
                        let child = parent.child_token();
                        let grandchild = child.child_token();
                        if grandchild.is_cancelled() {
                            seen_cancelled += 1;
                            assert!(child.is_cancelled(), "grandchild cancelled before child");
                        }
                        drop(child);
                        drop(grandchild);
                    }
                    seen_cancelled
                })
            })
            .collect();
        start.wait();
        parent.cancel();
        for churner in churners {
            churner.join().unwrap();
        }
        // Children made after the cancel start cancelled.
        assert!(parent.child_token().is_cancelled());
    });
}

#[test]
fn a_callback_that_drops_the_very_last_handle_of_a_pending_sibling_does_not_deadlock() {
    within("unlink a pending sibling inside a callback", || {
        let parent = CancellationToken::new();
        let sibling = Arc::new(Mutex::new(Some(parent.child_token())));
        let inner = sibling.clone();
        let _unlinker = parent.register(move || drop(inner.lock().unwrap().take()));
        drop(sibling);
        parent.cancel();
        // The parent still works afterwards.
        assert!(parent.child_token().is_cancelled());
    });
}
