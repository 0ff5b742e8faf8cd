//! Cancelling an async task: dropped at its `.await` (its locals dropped
//! exactly once), or never polled if it had not started.

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, mpsc};
use std::time::Duration;
use support::{DropCounter, WorkerGate, join_guarded, recv_guarded, size};
use taskpool::{CancellationToken, ThreadPool, sleep};

#[test]
fn cancel_at_an_await_drops_the_locals_exactly_once_and_reports_cancelled() {
    let pool = ThreadPool::new(2);
    let locals = DropCounter::new();
    let (first, second) = (locals.track(), locals.track());
    let (asleep, wait_asleep) = mpsc::channel();
    let resumed = Arc::new(AtomicUsize::new(0));
    let after_await = resumed.clone();
    let task = pool.spawn_async(async move {
        let first = first;
        asleep.send(()).unwrap();
        sleep(Duration::from_secs(3600)).await;
        // Never reached: the future is dropped at the await.
        after_await.fetch_add(1, Ordering::SeqCst);
        second.touch();
        first.touch();
    });
    recv_guarded("the task reaches its await", &wait_asleep);
    // `true` if the poll had returned to its await, `false` if it was still
    // running: either way the future is dropped at that await.
    task.cancel();
    let error = join_guarded("cancelled at await", task).unwrap_err();
    assert!(error.is_cancelled());
    assert_eq!(locals.drops(), 2, "both locals dropped by the cancel");
    pool.shutdown();
    assert_eq!(locals.drops(), 2);
    assert_eq!(resumed.load(Ordering::SeqCst), 0);
}

#[test]
fn cancel_racing_the_first_poll_drops_the_future_exactly_once() {
    let pool = ThreadPool::new(2);
    let locals = DropCounter::new();
    let rounds = size(10_000, 50);
    let mut won = 0;
    for _ in 0..rounds {
        let held = locals.track();
        let task = pool.spawn_async(async move {
            let _held = held;
            sleep(Duration::from_secs(3600)).await;
        });
        if task.cancel() {
            won += 1;
        }
        assert!(
            join_guarded("raced cancel", task)
                .unwrap_err()
                .is_cancelled()
        );
    }
    pool.shutdown();
    println!("cancel() won {won} of {rounds} before the first poll");
    assert_eq!(locals.drops(), rounds);
}

#[test]
fn a_not_yet_polled_async_task_cancelled_returns_true_and_is_never_polled() {
    let pool = ThreadPool::new(1);
    let gate = WorkerGate::close(&pool, 1);
    let polled = Arc::new(AtomicUsize::new(0));
    let captured = DropCounter::new();
    let held = captured.track();
    let counter = polled.clone();
    let task = pool.spawn_async(async move {
        counter.fetch_add(1, Ordering::SeqCst);
        held.touch();
    });
    assert!(task.cancel());
    assert_eq!(captured.drops(), 1, "dropped by the canceller");
    gate.open();
    assert!(join_guarded("unpolled", task).unwrap_err().is_cancelled());
    pool.shutdown();
    assert_eq!(polled.load(Ordering::SeqCst), 0);
    assert_eq!(captured.drops(), 1);
}

#[test]
fn cancel_of_an_async_task_woken_and_queued_drops_it_without_polling_again() {
    let pool = ThreadPool::new(1);
    let locals = DropCounter::new();
    let held = locals.track();
    let polls = Arc::new(AtomicUsize::new(0));
    let counter = polls.clone();
    let (send_waker, receive_waker) = mpsc::channel::<std::task::Waker>();
    let task = pool.spawn_async(async move {
        let _held = held;
        std::future::poll_fn(|cx| {
            if counter.fetch_add(1, Ordering::SeqCst) == 0 {
                send_waker.send(cx.waker().clone()).unwrap();
                std::task::Poll::Pending
            } else {
                std::task::Poll::Ready(())
            }
        })
        .await;
    });
    let waker = recv_guarded("first poll", &receive_waker);
    // The gate starts after the first poll returned; the wake-up then
    // queues the task behind it, where the cancel finds it.
    let gate = WorkerGate::close(&pool, 1);
    waker.wake();
    assert!(task.cancel(), "queued, not running: this call ends it");
    assert_eq!(locals.drops(), 1, "dropped by the canceller");
    gate.open();
    let result = join_guarded("cancel while queued", task);
    pool.shutdown();
    assert!(result.unwrap_err().is_cancelled());
    assert_eq!(
        polls.load(Ordering::SeqCst),
        1,
        "a cancelled task is not polled again"
    );
    assert_eq!(locals.drops(), 1);
}

#[test]
fn a_future_awaiting_its_token_sees_task_cancel_when_spawned_with_one() {
    // An async task has no token of its own: it can await one it captured.
    let pool = ThreadPool::new(1);
    let token = CancellationToken::new();
    let watched = token.clone();
    let task = pool.spawn_async(async move {
        watched.cancelled().await;
        "token seen"
    });
    token.cancel();
    assert_eq!(join_guarded("token future", task).unwrap(), "token seen");
}
