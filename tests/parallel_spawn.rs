//! The non-blocking loop, `spawn_for_range`: a `Task<LoopResult>` that can
//! be joined, awaited, continued and cancelled (no new iteration starts).

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use support::{EXPECTED, Slots, join_guarded, quiet_expected_panics, size, wait_until, within};
use taskpool::{CancellationToken, LoopResult, Parallel, ThreadPool};

#[test]
fn a_spawned_loop_runs_every_index_once_and_can_be_joined() {
    within("spawned loop", || {
        let pool = ThreadPool::new(3);
        let len = size(100_000, 2_000);
        let slots = Arc::new(Slots::new(len));
        let seen = slots.clone();
        let task = pool
            .parallel()
            .spawn_for_range(0..len, move |i, _| seen.hit(i));
        let result = join_guarded("the loop's task", task).unwrap();
        assert_eq!(
            result,
            LoopResult {
                completed: true,
                lowest_break: None
            }
        );
        slots.assert_each_exactly_once();
    });
}

#[test]
fn a_spawned_loop_can_be_awaited_and_continued() {
    within("await and then", || {
        let sum = Arc::new(AtomicUsize::new(0));
        let counted = sum.clone();
        let task = Parallel::new().spawn_for_range(0..1000, move |i, state| {
            counted.fetch_add(i, Ordering::Relaxed);
            if i == 999 {
                state.break_();
            }
        });
        let result = taskpool::block_on(task).unwrap();
        assert_eq!(result.lowest_break, Some(999));
        assert_eq!(sum.load(Ordering::Relaxed), 499_500);

        let task = Parallel::new().spawn_for_range(0..10, |_, _| {});
        let continued = task.then(|result| result.unwrap().completed);
        assert!(join_guarded("the continuation", continued).unwrap());
    });
}

#[test]
fn cancelling_a_spawned_loop_starts_no_new_iteration() {
    within("cancel the task", || {
        let pool = ThreadPool::new(2);
        let started = Arc::new(AtomicUsize::new(0));
        let cancelled = Arc::new(AtomicBool::new(false));
        let after_cancel = Arc::new(AtomicUsize::new(0));
        let (count, flag, late) = (started.clone(), cancelled.clone(), after_cancel.clone());
        let task = pool
            .parallel()
            .spawn_for_range(0..usize::MAX / 2, move |_, _| {
                if flag.load(Ordering::SeqCst) {
                    late.fetch_add(1, Ordering::SeqCst);
                }
                count.fetch_add(1, Ordering::SeqCst);
                std::thread::yield_now();
            });
        wait_until("the loop started", || started.load(Ordering::SeqCst) > 100);
        assert!(
            !task.cancel(),
            "already running: cancel asks the loop to stop"
        );
        cancelled.store(true, Ordering::SeqCst);
        let error = join_guarded("the cancelled loop", task).unwrap_err();
        assert!(error.is_cancelled());
        // At most the iterations that passed their check before the cancel,
        // one per worker, may still see the flag.
        assert!(after_cancel.load(Ordering::SeqCst) <= 2);

        // A token given to the options cancels the task as well.
        let token = CancellationToken::new();
        token.cancel();
        let ran = Arc::new(AtomicUsize::new(0));
        let counted = ran.clone();
        let task =
            Parallel::new()
                .cancellation_token(&token)
                .spawn_for_range(0..10, move |_, _| {
                    counted.fetch_add(1, Ordering::SeqCst);
                });
        assert!(
            join_guarded("pre-cancelled", task)
                .unwrap_err()
                .is_cancelled()
        );
        assert_eq!(ran.load(Ordering::SeqCst), 0);
    });
}

#[test]
fn a_panic_in_a_spawned_loop_ends_its_task_with_the_panic() {
    quiet_expected_panics();
    within("panic in the task", || {
        let pool = ThreadPool::new(2);
        let task = pool.parallel().spawn_for_range(0..1000, |i, _| {
            if i == 500 {
                panic!("{EXPECTED}: spawned loop");
            }
        });
        let error = join_guarded("the panicking loop", task).unwrap_err();
        assert!(error.is_panic());
        assert_eq!(
            error.panic_message(),
            Some(format!("{EXPECTED}: spawned loop").as_str())
        );
        assert_eq!(pool.spawn(|| 1).join().unwrap(), 1);
    });
}
