//! Panics in a scope: a task's panic that no `join` observed is re-raised by
//! the scope only after every task ended; a panic of the body waits for the
//! tasks too; a joined panic is returned, not re-raised; the pool keeps
//! serving afterwards, and no panic disappears without trace.

mod support;

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;
use support::{EXPECTED, Gate, panic_text, pool_with_panic_log, quiet_expected_panics, within};
use taskpool::ThreadPool;

#[test]
fn an_unjoined_task_panic_is_re_raised_only_after_a_slow_sibling_finished() {
    quiet_expected_panics();
    within("panic timing", || {
        let pool = ThreadPool::new(2);
        let sibling_done = AtomicBool::new(false);
        let gate = Gate::new();
        let payload = catch_unwind(AssertUnwindSafe(|| {
            pool.scope(|s| {
                s.spawn(|| {
                    // Finishes well after the panic below.
                    gate.wait();
                    std::thread::sleep(Duration::from_millis(50));
                    sibling_done.store(true, Ordering::SeqCst);
                });
                s.spawn(|| -> () {
                    gate.open();
                    panic!("{EXPECTED}: task");
                });
            });
        }))
        .expect_err("the scope re-raises the task's panic");
        assert_eq!(panic_text(&*payload), Some("expected panic: task"));
        assert!(
            sibling_done.load(Ordering::SeqCst),
            "re-raised before the sibling ended"
        );
        // The pool keeps serving.
        assert_eq!(pool.spawn(|| 1).join().unwrap(), 1);
        assert_eq!(pool.scope(|s| s.spawn(|| 2).join().unwrap()), 2);
    });
}

#[test]
fn a_body_panic_waits_for_the_tasks_then_resumes() {
    quiet_expected_panics();
    within("body panic", || {
        let pool = ThreadPool::new(2);
        let finished = AtomicUsize::new(0);
        let gate = Gate::new();
        let payload = catch_unwind(AssertUnwindSafe(|| {
            pool.scope(|s| {
                for _ in 0..4 {
                    s.spawn(|| {
                        gate.wait();
                        std::thread::sleep(Duration::from_millis(20));
                        finished.fetch_add(1, Ordering::SeqCst);
                    });
                }
                gate.open();
                panic!("{EXPECTED}: body");
            })
        }))
        .expect_err("the body's panic is resumed");
        assert_eq!(panic_text(&*payload), Some("expected panic: body"));
        assert_eq!(
            finished.load(Ordering::SeqCst),
            4,
            "resumed before the tasks ended"
        );
    });
}

#[test]
fn the_body_panic_wins_and_an_unjoined_task_panic_goes_to_the_handler() {
    quiet_expected_panics();
    let (pool, log) = pool_with_panic_log(2);
    let payload = catch_unwind(AssertUnwindSafe(|| {
        pool.scope(|s| {
            let task = s.spawn(|| -> () { panic!("{EXPECTED}: task") });
            while !task.is_finished() {
                std::thread::yield_now();
            }
            drop(task);
            panic!("{EXPECTED}: body");
        })
    }))
    .expect_err("the body's panic is resumed");
    assert_eq!(panic_text(&*payload), Some("expected panic: body"));
    log.wait_for(1);
    assert_eq!(log.texts(), ["expected panic: task"]);
}

#[test]
fn a_joined_panic_is_returned_and_not_re_raised() {
    quiet_expected_panics();
    let (pool, log) = pool_with_panic_log(2);
    let (error, value) = pool.scope(|s| {
        let failing = s.spawn(|| -> u32 { panic!("{EXPECTED}: joined") });
        let fine = s.spawn(|| 41 + 1);
        (failing.join().unwrap_err(), fine.join().unwrap())
    });
    assert!(error.is_panic());
    assert_eq!(error.panic_message(), Some("expected panic: joined"));
    assert_eq!(value, 42);
    pool.shutdown();
    assert_eq!(log.count(), 0, "an observed panic reached the handler");
}

#[test]
fn of_several_unjoined_panics_one_is_re_raised_and_the_others_reach_the_handler() {
    quiet_expected_panics();
    let (pool, log) = pool_with_panic_log(2);
    let tasks = 10;
    let payload = catch_unwind(AssertUnwindSafe(|| {
        pool.scope(|s| {
            for i in 0..tasks {
                s.spawn(move || -> () { panic!("{EXPECTED}: {i}") });
            }
        })
    }))
    .expect_err("a task's panic is re-raised");
    let reraised = panic_text(&*payload).unwrap().to_owned();
    log.wait_for(tasks - 1);
    let mut all = log.texts();
    all.push(reraised);
    all.sort();
    let mut expected: Vec<String> = (0..tasks).map(|i| format!("{EXPECTED}: {i}")).collect();
    expected.sort();
    assert_eq!(all, expected, "every panic exactly once");
}

#[test]
fn a_panic_in_the_drop_of_an_unjoined_result_is_re_raised_like_a_task_panic() {
    quiet_expected_panics();
    struct PanicsOnDrop;
    impl Drop for PanicsOnDrop {
        fn drop(&mut self) {
            panic!("{EXPECTED}: drop");
        }
    }
    let pool = ThreadPool::new(2);
    let payload = catch_unwind(AssertUnwindSafe(|| {
        pool.scope(|s| {
            s.spawn(|| PanicsOnDrop);
        })
    }))
    .expect_err("the result's drop panicked");
    assert_eq!(panic_text(&*payload), Some("expected panic: drop"));
}

#[test]
fn a_scope_on_the_only_worker_re_raises_after_its_tasks_and_the_worker_lives_on() {
    quiet_expected_panics();
    within("one worker", || {
        let pool = ThreadPool::new(1);
        let ran = AtomicUsize::new(0);
        let outcome = pool.install(|| {
            catch_unwind(AssertUnwindSafe(|| {
                taskpool::scope(|s| {
                    s.spawn(|| -> () { panic!("{EXPECTED}: on the only worker") });
                    for _ in 0..10 {
                        s.spawn(|| ran.fetch_add(1, Ordering::SeqCst));
                    }
                })
            }))
        });
        let payload = outcome.expect_err("re-raised on the worker");
        assert_eq!(
            panic_text(&*payload),
            Some("expected panic: on the only worker")
        );
        assert_eq!(ran.load(Ordering::SeqCst), 10);
        assert_eq!(pool.install(|| 5), 5);
    });
}
