//! A task's result is handed out once. A `Task` polled to `Ready` (as any
//! `select`-style combinator may do) has given its result away: joining it,
//! polling it again or passing it to `when_all` / `when_any` afterwards is a
//! documented panic on the caller's thread, never a second copy of the same
//! value (a double free), and the value is dropped exactly once.
//!
//! Planted bug this pins: before the check was unconditional, `join` after
//! `Ready` read the stage again; release builds aborted with a double free
//! and Miri reported a use after free.

mod support;

use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::task::{Context, Poll, Waker};
use support::{DropCounter, EXPECTED, HANG_GUARD, Tracked, panic_text, quiet_expected_panics};
use taskpool::{Task, TaskError, ThreadPool};

const TAKEN: &str = "a Task's result was already taken";

/// Polls a finished task to `Ready` and returns what it gave.
fn poll_to_ready<T: Send + 'static>(task: &mut Task<T>) -> Result<T, TaskError> {
    assert!(task.wait_timeout(HANG_GUARD), "the task finishes");
    match Pin::new(task).poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(result) => result,
        Poll::Pending => panic!("a finished task is pending"),
    }
}

/// Runs `f`, which must panic with the "already taken" message.
fn assert_panics_as_taken(f: impl FnOnce()) {
    let payload = catch_unwind(AssertUnwindSafe(f)).expect_err("a second read panics");
    let message = panic_text(&*payload).unwrap_or_default();
    assert!(message.starts_with(TAKEN), "unexpected panic: {message:?}");
}

fn tracked_task(pool: &ThreadPool, drops: &DropCounter) -> Task<(Vec<u8>, Tracked)> {
    let value = drops.track();
    pool.spawn(move || (vec![7u8; 64], value))
}

#[test]
fn join_after_the_task_was_polled_to_ready_panics_and_drops_the_value_once() {
    let pool = ThreadPool::new(1);
    let drops = DropCounter::new();
    let mut task = tracked_task(&pool, &drops);
    let (bytes, value) = poll_to_ready(&mut task).unwrap();
    assert_eq!(bytes, [7u8; 64]);
    assert_panics_as_taken(|| drop(task.join()));
    drop(value);
    assert_eq!(
        drops.drops(),
        1,
        "the value is dropped once, by its one owner"
    );
}

#[test]
fn join_after_a_panicked_task_was_polled_to_ready_panics_without_a_second_payload() {
    quiet_expected_panics();
    let pool = ThreadPool::new(1);
    let mut task =
        pool.spawn(|| -> Vec<u8> { std::panic::panic_any(format!("{EXPECTED}: in the task")) });
    let error = poll_to_ready(&mut task).unwrap_err();
    assert!(error.is_panic());
    assert_panics_as_taken(|| drop(task.join()));
    let payload = error.into_panic();
    assert_eq!(
        payload.downcast_ref::<String>().unwrap(),
        &format!("{EXPECTED}: in the task")
    );
}

#[test]
fn when_all_of_a_task_polled_to_ready_panics_on_the_caller_thread() {
    let pool = ThreadPool::new(2);
    let drops = DropCounter::new();
    let mut polled = tracked_task(&pool, &drops);
    let taken = poll_to_ready(&mut polled).unwrap();
    let fresh = tracked_task(&pool, &drops);
    assert_panics_as_taken(|| drop(taskpool::when_all([fresh, polled])));
    drop(taken);
    pool.shutdown();
    assert_eq!(
        drops.drops(),
        2,
        "each value dropped once: the taken one and the unread one"
    );
}

#[test]
fn when_any_of_a_task_polled_to_ready_panics_on_the_caller_thread() {
    let pool = ThreadPool::new(1);
    let drops = DropCounter::new();
    let mut polled = tracked_task(&pool, &drops);
    let taken = poll_to_ready(&mut polled).unwrap();
    assert_panics_as_taken(|| drop(taskpool::when_any([polled])));
    drop(taken);
    assert_eq!(drops.drops(), 1);
}

#[test]
fn a_cancelled_task_reads_as_cancelled_every_time() {
    let pool = ThreadPool::new(1);
    let gate = support::WorkerGate::close(&pool, 1);
    let mut task = pool.spawn(|| vec![1u8]);
    assert!(task.cancel());
    gate.open();
    assert!(poll_to_ready(&mut task).unwrap_err().is_cancelled());
    assert!(task.join().unwrap_err().is_cancelled());
}
