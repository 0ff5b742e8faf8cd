//! `CancellationToken` (`cancel.rs`): `cancel` racing `register`, the drop
//! of a registration (unregistering), and the unlinking of a child token.
//! No pool: the token is plain shared state.

use super::Count;
use crate::CancellationToken;
use crate::sync::{Arc, AtomicBool, Ordering, thread};

/// A callback registered while another thread cancels runs exactly once:
/// by `cancel` if it was registered first, else by `register` itself.
///
/// Planted bug seen caught: `CancellationToken::register` reading the
/// flag before taking the callbacks lock: a `cancel` that sets the flag and
/// drains the list between that read and the push leaves the callback in the
/// list, never run (the run-count assertion fails: 0, expected 1).
#[test]
fn register_races_cancel() {
    super::model(|| {
        let token = CancellationToken::new();
        let canceller = {
            let token = token.clone();
            thread::spawn(move || token.cancel())
        };
        let (runs, drops) = (Count::new(), Count::new());
        let ran = runs.clone();
        let dropped = drops.tracker();
        let registration = token.register(move || {
            let _dropped = dropped;
            ran.add();
        });
        canceller.join().unwrap();
        assert_eq!(runs.get(), 1);
        assert_eq!(drops.get(), 1);
        drop(registration);
        assert_eq!(runs.get(), 1);
    });
}

/// Dropping a registration while another thread cancels: the callback runs
/// at most once, and once the drop returns it is not running any more (the
/// drop waits for a callback that started, as .NET's `Dispose` does).
///
/// The callback's progress is kept in loom atomics (not a [`Count`]): the
/// main thread's reads must be visible to loom, or it would never try the
/// drop in the middle of the callback.
///
/// Planted bug seen caught: `CancellationRegistration::drop` not waiting
/// for a callback that is running (the wait loop removed): the assertion
/// below fails (the drop returned while the callback ran). With the progress
/// kept in `std` atomics, invisible to loom, the same bug went unseen: loom
/// never tried the drop in the middle of the callback.
#[test]
fn unregister_races_cancel() {
    super::model(|| {
        let token = CancellationToken::new();
        let started = Arc::new(AtomicBool::new(false));
        let finished = Arc::new(AtomicBool::new(false));
        let drops = Count::new();
        let registration = {
            let (started, finished) = (started.clone(), finished.clone());
            let dropped = drops.tracker();
            token.register(move || {
                let _dropped = dropped;
                started.store(true, Ordering::Release);
                finished.store(true, Ordering::Release);
            })
        };
        let canceller = {
            let token = token.clone();
            thread::spawn(move || token.cancel())
        };
        drop(registration);
        // ORDERING: Acquire pairs with the callback's stores.
        let (finished, started) = (
            finished.load(Ordering::Acquire),
            started.load(Ordering::Acquire),
        );
        assert!(
            finished || !started,
            "the registration's drop returned while its callback ran"
        );
        canceller.join().unwrap();
        assert_eq!(drops.get(), 1, "the callback was run or dropped, once");
    });
}

/// A child token made, and its last handle dropped, while the parent is
/// cancelled: the child is cancelled if it still existed when the parent
/// was, its link to the parent is released either way (else loom reports a
/// leaked `Arc`), and a child made after the cancel starts cancelled.
///
/// Planted bug seen caught: `CancellationToken::child_token` dropping
/// the registration instead of storing it in the child (never linked): a
/// parent cancelled after the child was made leaves the grandchild
/// uncancelled (the `is_cancelled` assertion fails).
#[test]
fn child_token_races_parent_cancel() {
    super::model(|| {
        let parent = CancellationToken::new();
        let canceller = {
            let parent = parent.clone();
            thread::spawn(move || parent.cancel())
        };
        let child = parent.child_token();
        let grandchild = child.child_token();
        drop(child);
        canceller.join().unwrap();
        assert!(parent.is_cancelled());
        assert!(
            grandchild.is_cancelled(),
            "cancelling reaches every descendant"
        );
        drop(grandchild);
    });
}
