//! `CancellationToken::cancelled()` and `cancel_after`: awaiting a token.

mod support;

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};
use support::{CountingWaker, join_guarded, recv_guarded, within};
use taskpool::{CancellationToken, ThreadPool, block_on};

#[test]
fn cancelled_future_completes_when_the_token_is_cancelled_from_another_thread() {
    let pool = ThreadPool::new(1);
    let token = CancellationToken::new();
    let (waiting, wait_waiting) = std::sync::mpsc::channel();
    let watched = token.clone();
    let task = pool.spawn_async(async move {
        waiting.send(()).unwrap();
        watched.cancelled().await;
        watched.is_cancelled()
    });
    recv_guarded("the task awaits the token", &wait_waiting);
    let canceller = token.clone();
    std::thread::spawn(move || canceller.cancel())
        .join()
        .unwrap();
    assert!(join_guarded("awaiting the token", task).unwrap());
}

#[test]
fn cancelled_future_completes_under_block_on_when_cancelled_from_another_thread() {
    let token = CancellationToken::new();
    let canceller = token.clone();
    let done = within("block_on(token.cancelled())", move || {
        let thread = std::thread::spawn(move || canceller.cancel());
        block_on(token.cancelled());
        thread.join().unwrap();
        token.is_cancelled()
    });
    assert!(done);
}

#[test]
fn cancelled_future_of_a_cancelled_token_is_ready_at_its_first_poll() {
    let token = CancellationToken::new();
    token.cancel();
    let mut cx = Context::from_waker(Waker::noop());
    assert_eq!(pin!(token.cancelled()).poll(&mut cx), Poll::Ready(()));
    let child = token.child_token();
    assert_eq!(pin!(child.cancelled()).poll(&mut cx), Poll::Ready(()));
}

#[test]
fn cancelled_future_is_pending_until_cancel_and_then_ready() {
    let token = CancellationToken::new();
    let mut cx = Context::from_waker(Waker::noop());
    let mut waiting = pin!(token.cancelled());
    assert_eq!(waiting.as_mut().poll(&mut cx), Poll::Pending);
    assert_eq!(waiting.as_mut().poll(&mut cx), Poll::Pending);
    token.cancel();
    assert_eq!(waiting.as_mut().poll(&mut cx), Poll::Ready(()));
}

#[test]
fn cancelled_future_of_a_child_completes_when_the_parent_is_cancelled() {
    let parent = CancellationToken::new();
    let child = parent.child_token();
    let pool = ThreadPool::new(1);
    let task = pool.spawn_async(async move { child.cancelled().await });
    parent.cancel();
    join_guarded("child's cancelled()", task).unwrap();
}

#[test]
fn a_dropped_cancelled_future_leaves_the_token_usable() {
    let token = CancellationToken::new();
    let mut cx = Context::from_waker(Waker::noop());
    for _ in 0..100 {
        let mut waiting = Box::pin(token.cancelled());
        assert_eq!(waiting.as_mut().poll(&mut cx), Poll::Pending);
    }
    token.cancel();
    assert!(token.is_cancelled());
}

#[test]
fn cancel_after_cancels_the_token_once_the_delay_passed() {
    let token = CancellationToken::new();
    let start = Instant::now();
    token.cancel_after(Duration::from_millis(10));
    let waited = token.clone();
    within("cancel_after", move || block_on(waited.cancelled()));
    assert!(token.is_cancelled());
    assert!(
        start.elapsed() >= Duration::from_millis(10),
        "cancelled early"
    );
}

#[test]
fn cancel_after_zero_cancels_at_once_and_a_huge_delay_never_does() {
    let now = CancellationToken::new();
    now.cancel_after(Duration::ZERO);
    assert!(now.is_cancelled());
    let never = CancellationToken::new();
    never.cancel_after(Duration::MAX);
    let result = within("cancel_after(MAX)", move || {
        block_on(taskpool::timeout(
            Duration::from_millis(20),
            never.cancelled(),
        ))
    });
    assert_eq!(result, Err(taskpool::TimedOut));
}

#[test]
fn cancel_after_stops_a_cooperative_task() {
    let pool = ThreadPool::new(1);
    let token = CancellationToken::new();
    let task: taskpool::Task<()> = pool.spawn_with_token(&token, |own| {
        loop {
            own.check()?;
            std::thread::yield_now();
        }
    });
    token.cancel_after(Duration::from_millis(5));
    assert!(
        join_guarded("cancel_after", task)
            .unwrap_err()
            .is_cancelled()
    );
}

#[test]
fn cancelled_future_polled_again_with_a_new_waker_wakes_only_the_new_one() {
    let token = CancellationToken::new();
    let first = CountingWaker::new();
    let second = CountingWaker::new();
    let (first_waker, second_waker) = (Waker::from(first.clone()), Waker::from(second.clone()));
    let mut waiting = Box::pin(token.cancelled());
    assert!(
        waiting
            .as_mut()
            .poll(&mut Context::from_waker(&first_waker))
            .is_pending()
    );
    assert!(
        waiting
            .as_mut()
            .poll(&mut Context::from_waker(&second_waker))
            .is_pending()
    );
    let canceller = token.clone();
    std::thread::spawn(move || canceller.cancel())
        .join()
        .unwrap();
    assert_eq!(second.wakes(), 1);
    assert_eq!(first.wakes(), 0);
    assert_eq!(
        waiting
            .as_mut()
            .poll(&mut Context::from_waker(&second_waker)),
        Poll::Ready(())
    );
}
