//! The scope's latch and a scoped task's state word (`scope/latch.rs`,
//! `scope/task.rs`): the owner deciding to park while the last task ends, a
//! `join` registering its waker while the task completes, and a handle
//! dropped while the task completes.
//!
//! Each model runs a one-thread pool and a scope called from the model's
//! main thread, outside the pool: the owner's wait is the pool's one-token
//! parker, the task runs on the worker. A lost wake-up shows up as a
//! deadlock; a result dropped twice or never, or a closure run twice, as a
//! failed count.

use super::Count;
use crate::ThreadPool;
use crate::sync::UnsafeCell;

/// A value the task writes and the owner reads after the scope, with no
/// synchronisation of its own: loom checks that the scope's latch orders
/// the write before the read.
struct Borrowed(UnsafeCell<u32>);

// SAFETY: the model's task writes it and the owner reads it only after the
// scope returned; whether that is ordered is exactly what loom checks.
unsafe impl Sync for Borrowed {}

/// The body spawns one task and returns at once, so that the owner's
/// release of its count, its look at `done` and its park race the worker
/// running the task and taking `pending` to zero.
///
/// Planted bugs seen caught (each planted in `src/scope/latch.rs`, run,
/// restored): the last task not waking the owner (`owner.wake()` removed):
/// loom reports a deadlock, the owner parked forever; `is_done` loading
/// with `Relaxed`: loom reports a causality violation (the owner reads the
/// task's write to the borrowed value without seeing it).
#[test]
fn last_task_ends_while_the_owner_decides_to_park() {
    super::model(|| {
        let pool = ThreadPool::new(1);
        let (runs, captured_drops) = (Count::new(), Count::new());
        let borrowed = Borrowed(UnsafeCell::new(0));
        pool.scope(|s| {
            let captured = captured_drops.tracker();
            let ran = runs.clone();
            let borrowed = &borrowed;
            s.spawn(move || {
                let _captured = captured;
                ran.add();
                // SAFETY: the only access until the scope returned.
                borrowed.0.with_mut(|value| unsafe { *value = 7 });
            });
        });
        // SAFETY: the task ended before the scope returned.
        assert_eq!(borrowed.0.with(|value| unsafe { *value }), 7);
        assert_eq!(runs.get(), 1);
        assert_eq!(captured_drops.get(), 1);
        drop(pool);
    });
}

/// The body joins its task: `join` stores its waker and sets `WAITER`
/// while the worker completes the task and looks for `WAITER`.
///
/// Planted bug seen caught (in `src/scope/task.rs`, run, restored): the
/// completer's `WAITER` branch not waking the joiner (`waker.wake()`
/// removed): loom reports a deadlock.
#[test]
fn join_races_completion() {
    super::model(|| {
        let pool = ThreadPool::new(1);
        let (runs, output_drops) = (Count::new(), Count::new());
        let value = pool.scope(|s| {
            let output = output_drops.tracker();
            let ran = runs.clone();
            let task = s.spawn(move || {
                ran.add();
                output
            });
            task.join().expect("a plain task completes")
        });
        assert_eq!(runs.get(), 1);
        assert_eq!(output_drops.get(), 0, "the joiner holds the output");
        drop(value);
        assert_eq!(output_drops.get(), 1);
        drop(pool);
    });
}

/// The handle is dropped while the worker completes the task: whoever comes
/// second (`HANDLE_GONE` after `DONE`, or the other way round) drops the
/// output, exactly once, before the scope returns.
///
/// Planted bug seen caught (in `src/scope/task.rs`, run, restored): the
/// handle's drop ignoring `DONE` (never disposing of the result): the
/// output is never dropped, and the count says so.
#[test]
fn dropped_handle_races_completion() {
    super::model(|| {
        let pool = ThreadPool::new(1);
        let (runs, output_drops) = (Count::new(), Count::new());
        pool.scope(|s| {
            let output = output_drops.tracker();
            let ran = runs.clone();
            drop(s.spawn(move || {
                ran.add();
                output
            }));
        });
        assert_eq!(runs.get(), 1);
        assert_eq!(output_drops.get(), 1);
        drop(pool);
    });
}

/// A task spawns a child from the worker (counted in `pending`, not in the
/// owner's counter) while the body folds its own count in and the owner
/// decides to park: the scope waits for the child too.
///
/// Planted bug seen caught (in `src/scope/latch.rs`, run, restored):
/// `task_spawned` counting every spawn in the owner's counter (the thread
/// check removed): the worker touches the owner-only counter while the
/// owner folds it in; loom reports a causality violation.
#[test]
fn a_task_spawns_a_child_while_the_body_ends() {
    super::model(|| {
        let pool = ThreadPool::new(1);
        let runs = Count::new();
        pool.scope(|s| {
            let ran = runs.clone();
            s.spawn(move || {
                let ran_child = ran.clone();
                s.spawn(move || ran_child.add());
                ran.add();
            });
        });
        assert_eq!(
            runs.get(),
            2,
            "the scope returned before its grandchild ran"
        );
        drop(pool);
    });
}
