//! The task state machine of `task/state.rs`: join, completion, cancel and
//! a dropped handle, racing each other.
//!
//! Every model counts the runs of the task's closure and the drops of what
//! it captured and of its output: each closure runs at most once, each
//! captured value and each output is dropped exactly once, and `join` says
//! which outcome won. loom adds two checks of its own: a join that is never
//! woken deadlocks, and a task that is never freed leaks its pool's
//! registry `Arc`.

use super::Count;
use crate::ThreadPool;

/// A task completing on a worker while an outside thread joins it: the
/// joiner registers its waker and parks, the worker completes and wakes it.
///
/// Planted bugs seen caught (each planted in `src/task/state.rs`, run,
/// restored): `transition_to_complete` never asking to wake the join waker
/// (`ToComplete::Done` instead of `WakeJoiner`): loom reports a deadlock, the joiner parked
/// forever; `State::load` with `Relaxed` instead of `Acquire`: loom reports a
/// causality violation (the joiner reads the output slot without seeing the
/// worker's write).
#[test]
fn join_races_completion() {
    super::model(|| {
        let pool = ThreadPool::new(1);
        let (runs, captured_drops, output_drops) = (Count::new(), Count::new(), Count::new());
        let captured = captured_drops.tracker();
        let output = output_drops.tracker();
        let ran = runs.clone();
        let task = pool.spawn(move || {
            let _captured = captured;
            ran.add();
            output
        });
        let value = task.join().expect("a plain task completes");
        assert_eq!(runs.get(), 1);
        assert_eq!(captured_drops.get(), 1);
        assert_eq!(output_drops.get(), 0, "the joiner holds the output");
        drop(value);
        assert_eq!(output_drops.get(), 1);
        drop(pool);
    });
}

/// `cancel` racing the worker that starts the task, then `join`: one atomic
/// transition decides, and `cancel`'s answer, the join result and the run
/// count agree.
///
/// Planted bug seen caught: `transition_to_cancelled` claiming the stage
/// even while `RUNNING` (its `is_running` branch removed): the canceller drops
/// the closure the worker is running; loom reports a causality violation
/// (concurrent writes to the stage's `UnsafeCell`).
#[test]
fn cancel_races_start_then_join() {
    super::model(|| {
        let pool = ThreadPool::new(1);
        let (runs, captured_drops, output_drops) = (Count::new(), Count::new(), Count::new());
        let captured = captured_drops.tracker();
        let output = output_drops.tracker();
        let ran = runs.clone();
        let task = pool.spawn(move || {
            let _captured = captured;
            ran.add();
            output
        });
        let stopped_before_start = task.cancel();
        match task.join() {
            Ok(value) => {
                assert!(
                    !stopped_before_start,
                    "cancel said it won, yet the task ran"
                );
                assert_eq!(runs.get(), 1);
                drop(value);
            }
            Err(error) => {
                assert!(error.is_cancelled());
                assert!(stopped_before_start, "cancel said it lost, yet no value");
                assert_eq!(runs.get(), 0);
            }
        }
        // The output was made and dropped, or dropped unmade with the closure
        // that held it: once either way.
        assert_eq!(captured_drops.get(), 1);
        assert_eq!(output_drops.get(), 1);
        drop(pool);
    });
}

/// The handle dropped while the worker completes the task, with and
/// without a `cancel` just before: whoever ends interest last drops the
/// output, exactly once, and the allocation is freed.
///
/// Planted bug seen caught: `transition_to_running` releasing no
/// reference when it skips a task that is already complete (`- REF_ONE`
/// removed): the queue entry of the cancelled task never frees it; loom
/// reports "Arc leaked" (the task's registry `Arc`).
/// Planted and not caught, on purpose: `drop_join_interest` never asking the
/// handle to drop the output (never `DropOutput`): `dealloc` drops an output
/// nobody consumed, so the output is still dropped exactly once; that backstop
/// is what the model sees.
#[test]
fn dropped_handle_races_completion() {
    super::model(|| {
        let pool = ThreadPool::new(1);
        let (runs, captured_drops, output_drops) = (Count::new(), Count::new(), Count::new());
        for cancel_first in [false, true] {
            let captured = captured_drops.tracker();
            let output = output_drops.tracker();
            let ran = runs.clone();
            let task = pool.spawn(move || {
                let _captured = captured;
                ran.add();
                output
            });
            if cancel_first {
                let _ = task.cancel();
            }
            drop(task);
        }
        // Shutdown runs what is still queued and joins the worker.
        drop(pool);
        assert!(runs.get() >= 1, "the task that was not cancelled ran");
        assert_eq!(captured_drops.get(), 2);
        assert_eq!(output_drops.get(), 2);
    });
}

/// A task joined on the worker that spawned it (run inline, as .NET
/// inlines) while a second worker steals its queue entry: the claim and the
/// steal race through one transition, and the closure runs once.
///
/// Planted bug seen caught: `transition_to_running` running a task that
/// another thread is `RUNNING` (only `COMPLETE` makes it skip): the thief
/// runs the closure the joiner claimed; loom reports a causality violation
/// (concurrent writes to the stage's `UnsafeCell`).
#[test]
fn inline_join_races_steal() {
    super::model(|| {
        let pool = ThreadPool::new(2);
        let (runs, captured_drops, joined) = (Count::new(), Count::new(), Count::new());
        let captured = captured_drops.tracker();
        let ran = runs.clone();
        let joined_in_job = joined.clone();
        // A level-1 job is enough to be on a worker, and cheaper to model
        // than an outer task.
        pool.execute(move || {
            // On a worker: the inner task goes on this worker's own deque,
            // where the other worker may steal it.
            let inner = crate::spawn(move || {
                let _captured = captured;
                ran.add();
                21
            });
            assert_eq!(inner.join().expect("the inner task completes"), 21);
            joined_in_job.add();
        });
        // Shutdown waits for the job, and for the thief to drop the entry.
        drop(pool);
        assert_eq!(joined.get(), 1);
        assert_eq!(runs.get(), 1);
        assert_eq!(captured_drops.get(), 1);
    });
}

/// A worker joins the task it spawned last while another thread cancels
/// it through a `CancelHandle`: the joiner takes the queue entry back, and
/// runs the task with no transition only if it is then the task's sole
/// user (`State::is_owned_by_joiner`); a live cancel handle, or a cancel
/// that came first, sends it through the transitions instead.
///
/// Planted bug seen caught: `is_owned_by_joiner` ignoring the reference
/// count (only the flags checked): with the cancel handle still alive, the
/// joiner frees the task under it, and the handle's `cancel` then finds a
/// state no transition allows and aborts. (Counting only the references, the
/// flags ignored, was not caught: the interleaving where the canceller claims
/// the task and drops its handle between the join's first look at the state
/// and the take-back is one loom never scheduled, even at four preemptions.)
#[test]
fn take_back_races_cancel_handle() {
    super::model(|| {
        let pool = ThreadPool::new(1);
        let (runs, captured_drops, joined, cancels) =
            (Count::new(), Count::new(), Count::new(), Count::new());
        let captured = captured_drops.tracker();
        let ran = runs.clone();
        let (joined_in_job, cancels_in_job) = (joined.clone(), cancels.clone());
        pool.execute(move || {
            let inner = crate::spawn(move || {
                let _captured = captured;
                ran.add();
                21
            });
            let handle = inner.cancel_handle();
            let canceller = loom::thread::spawn(move || handle.cancel());
            let result = inner.join();
            if canceller.join().unwrap() {
                cancels_in_job.add();
            }
            match result {
                Ok(21) => joined_in_job.add(),
                Err(error) if error.is_cancelled() => joined_in_job.add(),
                _ => {}
            }
        });
        drop(pool);
        assert_eq!(
            joined.get(),
            1,
            "the join ended with neither value nor cancel"
        );
        assert_eq!(
            runs.get(),
            1 - cancels.get(),
            "cancel's answer and the run disagree"
        );
        assert_eq!(captured_drops.get(), 1);
    });
}
