//! `Task<T>` as a `Future`: only the latest waker is woken, replaced and
//! leftover wakers are dropped, and polling after the result was taken is a
//! documented panic.
//!
//! Planted bug these pin (under ThreadSanitizer, which CI runs this file
//! under): a dropped handle that also drops a waker the completer still owns
//! (`drop_join_interest` ignoring `JOIN_WAKER`). TSan reported a data race
//! on the waiter slot in
//! `polling_with_alternating_wakers_while_the_task_completes_never_panics`;
//! the native run passes either way.

mod support;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::mpsc;
use std::task::{Context, Poll, Waker};
use support::{CountingWaker, HANG_GUARD, wait_until};
use taskpool::{Task, ThreadPool};

fn poll_once<T: Send + Unpin + 'static>(task: &mut Task<T>, waker: &Waker) -> bool {
    Pin::new(task)
        .poll(&mut Context::from_waker(waker))
        .is_pending()
}

#[test]
fn only_the_latest_waker_is_woken_and_the_replaced_one_is_dropped() {
    let pool = ThreadPool::new(1);
    let (release, gate) = mpsc::channel::<()>();
    let mut task = pool.spawn(move || gate.recv().unwrap());
    let first = CountingWaker::new();
    let second = CountingWaker::new();
    assert!(poll_once(&mut task, &Waker::from(first.clone())));
    assert_eq!(Arc::strong_count(&first), 2, "the task keeps a clone");
    assert!(poll_once(&mut task, &Waker::from(second.clone())));
    assert_eq!(
        Arc::strong_count(&first),
        1,
        "the replaced waker is dropped"
    );
    release.send(()).unwrap();
    wait_until("the latest waker is woken", || second.wakes() == 1);
    assert_eq!(first.wakes(), 0);
    assert!(!poll_once(&mut task, Waker::noop()));
    drop(task);
    assert_eq!(Arc::strong_count(&second), 1, "no waker left behind");
    assert_eq!(second.wakes(), 1);
}

#[test]
fn polling_with_the_same_waker_twice_keeps_one_registration() {
    let pool = ThreadPool::new(1);
    let (release, gate) = mpsc::channel::<()>();
    let mut task = pool.spawn(move || gate.recv().unwrap());
    let counting = CountingWaker::new();
    let waker = Waker::from(counting.clone());
    for _ in 0..10 {
        assert!(poll_once(&mut task, &waker));
    }
    release.send(()).unwrap();
    wait_until("woken", || counting.wakes() >= 1);
    assert!(!poll_once(&mut task, &waker));
    drop(task);
    drop(waker);
    assert_eq!(counting.wakes(), 1, "woken once");
    assert_eq!(Arc::strong_count(&counting), 1);
}

#[test]
fn a_handle_dropped_with_a_registered_waker_releases_it() {
    let pool = ThreadPool::new(1);
    let (release, gate) = mpsc::channel::<()>();
    let mut task = pool.spawn(move || gate.recv().unwrap());
    let counting = CountingWaker::new();
    assert!(poll_once(&mut task, &Waker::from(counting.clone())));
    drop(task);
    assert_eq!(Arc::strong_count(&counting), 1, "dropped with the handle");
    release.send(()).unwrap();
    pool.shutdown();
    assert_eq!(counting.wakes(), 0, "nobody waits any more");
}

#[test]
fn wait_timeout_after_a_poll_replaces_the_polled_waker() {
    let pool = ThreadPool::new(1);
    let (release, gate) = mpsc::channel::<u32>();
    let mut task = pool.spawn(move || gate.recv().unwrap() + 1);
    let counting = CountingWaker::new();
    assert!(poll_once(&mut task, &Waker::from(counting.clone())));
    assert!(!task.wait_timeout(std::time::Duration::from_millis(1)));
    release.send(41).unwrap();
    assert!(task.wait_timeout(HANG_GUARD));
    assert_eq!(task.join().unwrap(), 42);
    assert_eq!(counting.wakes(), 0);
    assert_eq!(Arc::strong_count(&counting), 1);
}

#[test]
fn polling_a_task_after_it_returned_its_value_panics() {
    let pool = ThreadPool::new(1);
    let mut task = pool.spawn(|| 1);
    assert!(task.wait_timeout(HANG_GUARD));
    let mut cx = Context::from_waker(Waker::noop());
    match Pin::new(&mut task).poll(&mut cx) {
        Poll::Ready(result) => assert_eq!(result.unwrap(), 1),
        Poll::Pending => panic!("a finished task is pending"),
    }
    let again = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let _ = Pin::new(&mut task).poll(&mut cx);
    }));
    assert!(again.is_err(), "the documented panic on a second poll");
}

#[test]
fn a_task_is_awaited_by_another_task_on_the_same_one_thread_pool() {
    let pool = ThreadPool::new(1);
    let inner = pool.spawn(|| 20);
    let outer = pool.spawn_async(async move { inner.await.unwrap() + 22 });
    assert_eq!(support::join_guarded("await a task", outer).unwrap(), 42);
}

#[test]
fn polling_with_alternating_wakers_while_the_task_completes_never_panics() {
    // Each poll with a different waker takes the waiter slot back from the
    // task, racing the worker that completes it and hands the slot back.
    let pool = ThreadPool::new(2);
    let first = Waker::from(CountingWaker::new());
    let second = Waker::from(CountingWaker::new());
    for round in 0..support::size(5_000, 50) {
        let mut task = pool.spawn(move || round);
        let mut polls = 0_u64;
        let value = loop {
            let waker = if polls % 2 == 0 { &first } else { &second };
            polls += 1;
            match Pin::new(&mut task).poll(&mut Context::from_waker(waker)) {
                Poll::Ready(result) => break result.unwrap(),
                // Poll again at once: the race is with the completing worker.
                // Yield now and then, so a busy machine still runs that worker.
                Poll::Pending if polls % 128 == 0 => std::thread::yield_now(),
                Poll::Pending => std::hint::spin_loop(),
            }
        };
        assert_eq!(value, round);
    }
}
