//! Cancellation that reaches async code: `spawn_async_with_token` (the future
//! gets its task's own child token; cancelling the parent ends the task),
//! `CancellationToken::run_until_cancelled`, and owned cancellation futures
//! spawned on the pool.

mod support;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::task::{Context, Poll};
use std::time::Duration;
use support::{DropCounter, WorkerGate, join_guarded, recv_guarded, size};
use taskpool::{CancellationToken, ThreadPool, sleep};

/// A future that counts its polls and stays pending.
struct CountPolls(Arc<AtomicUsize>);

impl Future for CountPolls {
    type Output = ();
    fn poll(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<()> {
        self.0.fetch_add(1, Ordering::SeqCst);
        Poll::Pending
    }
}

#[test]
fn a_parent_cancelled_before_the_start_ends_the_task_at_once_unpolled() {
    let pool = ThreadPool::new(1);
    let gate = WorkerGate::close(&pool, 1);
    let parent = CancellationToken::new();
    let polls = Arc::new(AtomicUsize::new(0));
    let locals = DropCounter::new();
    let held = locals.track();
    let counter = polls.clone();
    let task = pool.spawn_async_with_token(&parent, move |_token| async move {
        let _held = held;
        CountPolls(counter).await;
    });
    parent.cancel();
    assert!(task.is_finished(), "ended without waiting for a worker");
    assert_eq!(locals.drops(), 1, "the future was dropped by the cancel");
    gate.open();
    assert!(join_guarded("unstarted", task).unwrap_err().is_cancelled());
    pool.shutdown();
    assert_eq!(polls.load(Ordering::SeqCst), 0, "never polled");
}

#[test]
fn a_parent_cancelled_while_the_task_waits_drops_it_at_its_await() {
    let pool = ThreadPool::new(2);
    let parent = CancellationToken::new();
    let locals = DropCounter::new();
    let held = locals.track();
    let after_await = Arc::new(AtomicUsize::new(0));
    let resumed = after_await.clone();
    let (waiting, wait_waiting) = mpsc::channel();
    let task = pool.spawn_async_with_token(&parent, move |_token| async move {
        let _held = held;
        waiting.send(()).unwrap();
        sleep(Duration::from_secs(3600)).await;
        resumed.fetch_add(1, Ordering::SeqCst);
    });
    recv_guarded("the task reaches its await", &wait_waiting);
    parent.cancel();
    assert!(
        join_guarded("cancelled at await", task)
            .unwrap_err()
            .is_cancelled()
    );
    assert_eq!(locals.drops(), 1);
    pool.shutdown();
    assert_eq!(after_await.load(Ordering::SeqCst), 0, "never resumed");
}

#[test]
fn the_future_gets_a_child_token_of_its_own() {
    let pool = ThreadPool::new(1);
    let parent = CancellationToken::new();
    let (give_token, receive_token) = mpsc::channel();
    let task = pool.spawn_async_with_token(&parent, move |token| {
        give_token.send(token.clone()).unwrap();
        async move {
            token.cancelled_owned().await;
        }
    });
    let own = recv_guarded("the task's own token", &receive_token);
    assert!(!own.is_cancelled());
    let ended_here = task.cancel();
    assert!(own.is_cancelled(), "Task::cancel cancels the task's token");
    assert!(!parent.is_cancelled(), "but not its parent");
    match join_guarded("cancelled", task) {
        Err(error) => assert!(error.is_cancelled(), "{error}"),
        // `cancel` met the first poll in flight (it answered `false`): that
        // poll may have seen its token cancelled and finished the future.
        Ok(()) => assert!(!ended_here, "a task this call ended reports cancelled"),
    }
    pool.shutdown();
}

#[test]
fn a_token_cancelled_already_gives_a_cancelled_task_that_never_polls() {
    let pool = ThreadPool::new(1);
    let parent = CancellationToken::new();
    parent.cancel();
    let polls = Arc::new(AtomicUsize::new(0));
    let counter = polls.clone();
    let built = Arc::new(AtomicUsize::new(0));
    let builder_ran = built.clone();
    let task = pool.spawn_async_with_token(&parent, move |token| {
        assert!(token.is_cancelled());
        builder_ran.fetch_add(1, Ordering::SeqCst);
        CountPolls(counter)
    });
    assert!(
        join_guarded("born cancelled", task)
            .unwrap_err()
            .is_cancelled()
    );
    pool.shutdown();
    assert_eq!(built.load(Ordering::SeqCst), 1, "f runs on the caller");
    assert_eq!(polls.load(Ordering::SeqCst), 0);
}

#[test]
fn a_finished_task_ignores_a_later_parent_cancel() {
    let pool = ThreadPool::new(1);
    let parent = CancellationToken::new();
    let task = pool.spawn_async_with_token(&parent, |_token| async { 5 });
    assert_eq!(join_guarded("finished", task).unwrap(), 5);
    parent.cancel();
    pool.shutdown();
    if let Some(live) = pool.debug_live_tasks() {
        assert_eq!(live, 0, "the token's callback released the task");
    }
}

#[test]
fn parent_cancel_racing_the_first_poll_ends_each_task_exactly_once() {
    let rounds = size(200, 5);
    let pool = ThreadPool::new(2);
    let locals = DropCounter::new();
    for _ in 0..rounds {
        let parent = CancellationToken::new();
        let held = locals.track();
        let task = pool.spawn_async_with_token(&parent, move |_token| async move {
            let _held = held;
            taskpool::yield_now().await;
            1
        });
        parent.cancel();
        match join_guarded("raced", task) {
            Ok(value) => assert_eq!(value, 1),
            Err(error) => assert!(error.is_cancelled()),
        }
    }
    pool.shutdown();
    locals.assert_all_dropped("every future dropped once");
    if let Some(live) = pool.debug_live_tasks() {
        assert_eq!(live, 0, "every task freed");
    }
}

#[test]
fn the_free_function_on_a_worker_spawns_on_that_workers_pool() {
    let pool = ThreadPool::builder()
        .num_threads(1)
        .thread_name(|_| "token-pool".into())
        .build()
        .unwrap();
    let outer = pool.spawn(|| {
        let parent = CancellationToken::new();
        taskpool::spawn_async_with_token(&parent, |_token| async { support::current_thread_name() })
    });
    let inner = join_guarded("outer", outer).unwrap();
    assert_eq!(join_guarded("inner", inner).unwrap(), "token-pool");
    pool.shutdown();
}

#[test]
fn run_until_cancelled_gives_the_output_when_the_future_finishes_first() {
    let pool = ThreadPool::new(1);
    let token = CancellationToken::new();
    let task = pool.spawn_async(token.run_until_cancelled(async { "done" }));
    assert_eq!(join_guarded("finished first", task).unwrap(), Some("done"));
    token.cancel();
    pool.shutdown();
}

#[test]
fn run_until_cancelled_gives_none_and_drops_the_future_when_cancelled_first() {
    let pool = ThreadPool::new(1);
    let token = CancellationToken::new();
    let locals = DropCounter::new();
    let held = locals.track();
    let (waiting, wait_waiting) = mpsc::channel();
    let task = pool.spawn_async(token.run_until_cancelled(async move {
        let _held = held;
        waiting.send(()).unwrap();
        sleep(Duration::from_secs(3600)).await;
        "slept an hour"
    }));
    recv_guarded("the inner future waits", &wait_waiting);
    token.cancel();
    assert_eq!(join_guarded("cancelled first", task).unwrap(), None);
    assert_eq!(locals.drops(), 1);
    pool.shutdown();
}

#[test]
fn run_until_cancelled_on_a_cancelled_token_never_polls_the_future() {
    let token = CancellationToken::new();
    token.cancel();
    let polls = Arc::new(AtomicUsize::new(0));
    let outcome = taskpool::block_on(token.run_until_cancelled(CountPolls(polls.clone())));
    assert_eq!(outcome, None);
    assert_eq!(polls.load(Ordering::SeqCst), 0);
}

#[test]
fn owned_cancellation_futures_spawned_on_the_pool_all_wake() {
    let waiters = size(100, 4);
    let pool = ThreadPool::new(2);
    let token = CancellationToken::new();
    let tasks: Vec<_> = (0..waiters)
        .map(|_| pool.spawn_async(token.cancelled_owned()))
        .collect();
    assert!(tasks.iter().all(|task| !task.is_finished()));
    token.cancel();
    for task in tasks {
        join_guarded("owned waiter", task).unwrap();
    }
    pool.shutdown();
}
