//! A `spawn_with_token` task whose token is cancelled before it starts ends
//! cancelled at once, as an unstarted .NET task whose token is signalled
//! does: its joiners do not wait for the backlog ahead of it in the queue,
//! and its closure is dropped unrun. The token's hold on the task (a
//! callback with a reference) is released when the task ends, so nothing
//! leaks.

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use support::{DropCounter, HANG_GUARD, WorkerGate, join_guarded};
use taskpool::{CancellationToken, ThreadPool};

#[test]
fn a_queued_task_whose_token_is_cancelled_ends_before_the_busy_worker_reaches_it() {
    let pool = ThreadPool::new(1);
    let gate = WorkerGate::close(&pool, 1);
    let token = CancellationToken::new();
    let ran = Arc::new(AtomicBool::new(false));
    let drops = DropCounter::new();
    let captured = drops.track();
    let flag = ran.clone();
    let mut task = pool.spawn_with_token(&token, move |_| {
        captured.touch();
        flag.store(true, Ordering::SeqCst);
        Ok(1)
    });
    assert!(!task.is_finished());
    token.cancel();
    // The only worker is still held by the gate: the task ended without it.
    assert!(task.is_finished(), "cancelled at once, not when dequeued");
    assert!(task.wait_timeout(HANG_GUARD));
    assert_eq!(drops.drops(), 1, "the closure was dropped unrun");
    assert!(task.join().unwrap_err().is_cancelled());
    gate.open();
    pool.shutdown();
    assert!(!ran.load(Ordering::SeqCst));
}

#[test]
fn when_all_over_a_queued_task_whose_token_is_cancelled_does_not_wait_for_the_backlog() {
    let pool = ThreadPool::new(1);
    let gate = WorkerGate::close(&pool, 1);
    let token = CancellationToken::new();
    let tasks: Vec<_> = (0..3)
        .map(|i| pool.spawn_with_token(&token, move |_| Ok(i)))
        .collect();
    let all = taskpool::when_all(tasks);
    token.cancel();
    // Joined from this thread while the worker is still held by the gate.
    assert!(
        join_guarded("when_all of cancelled tasks", all)
            .unwrap_err()
            .is_cancelled()
    );
    gate.open();
}

#[test]
fn task_cancel_on_a_queued_token_task_reports_that_it_cancelled() {
    let pool = ThreadPool::new(1);
    let gate = WorkerGate::close(&pool, 1);
    let token = CancellationToken::new();
    let task = pool.spawn_with_token(&token, |_| Ok(5));
    assert!(task.cancel(), "an unstarted task is cancelled by this call");
    assert!(!task.cancel(), "and only once");
    assert!(!token.is_cancelled(), "the parent token is not touched");
    assert!(task.join().unwrap_err().is_cancelled());
    gate.open();
}

#[test]
fn a_token_cancelled_before_the_spawn_ends_the_task_at_once() {
    let pool = ThreadPool::new(1);
    let gate = WorkerGate::close(&pool, 1);
    let token = CancellationToken::new();
    token.cancel();
    let task = pool.spawn_with_token(&token, |_| Ok(5));
    assert!(task.is_finished());
    assert!(task.join().unwrap_err().is_cancelled());
    gate.open();
}

#[test]
fn cancelling_the_token_after_the_task_started_leaves_a_task_that_ignores_it_alone() {
    let pool = ThreadPool::new(1);
    let token = CancellationToken::new();
    let (started, wait_started) = std::sync::mpsc::channel();
    let (release, wait_release) = std::sync::mpsc::channel::<()>();
    let task = pool.spawn_with_token(&token, move |_| {
        started.send(()).unwrap();
        wait_release.recv().unwrap();
        Ok(7)
    });
    support::recv_guarded("the task starts", &wait_started);
    token.cancel();
    release.send(()).unwrap();
    assert_eq!(join_guarded("the started task", task).unwrap(), 7);
}

#[test]
fn the_output_of_a_token_task_is_freed_when_its_handle_is_dropped_unjoined() {
    let drops = DropCounter::new();
    let pool = ThreadPool::new(2);
    let token = CancellationToken::new();
    for _ in 0..100 {
        let output = drops.track();
        drop(pool.spawn_with_token(&token, move |_| Ok(output)));
    }
    pool.shutdown();
    // A task kept alive by its token's callback would never drop its output.
    assert_eq!(drops.drops(), 100);
    drop(token);
}
