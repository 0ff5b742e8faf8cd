//! `Promise<T>` (.NET's `TaskCompletionSource`): a task completed from
//! outside exactly once, with a value, a failure without a panic, or
//! cancellation; the second completion is refused; dropped unset, its task
//! ends cancelled; the task works with join, await, then and when_all.

mod support;

use std::sync::{Arc, Barrier};
use support::{DropCounter, join_guarded, pool_with_panic_log, size, within};
use taskpool::{Promise, ThreadPool};

fn assert_send_sync<T: Send + Sync>() {}

#[test]
fn a_promise_is_send_and_sync() {
    assert_send_sync::<Promise<String>>();
}

#[test]
fn the_first_completion_wins_and_later_ones_are_refused() {
    let (promise, task) = Promise::new();
    assert!(!promise.is_completed());
    assert_eq!(promise.resolve(1), Ok(()));
    assert!(promise.is_completed());
    assert_eq!(promise.resolve(2), Err(2));
    assert!(!promise.fail("too late"));
    assert!(!promise.cancel());
    assert!(matches!(promise.complete(Ok(3)), Err(Ok(3))));
    assert_eq!(task.join().unwrap(), 1);
}

#[test]
fn two_threads_racing_to_resolve_one_wins_and_its_value_arrives() {
    for _ in 0..size(200, 5) {
        let (promise, task) = Promise::new();
        let promise = Arc::new(promise);
        let barrier = Arc::new(Barrier::new(2));
        let racers: Vec<_> = (0..2_u32)
            .map(|id| {
                let promise = promise.clone();
                let barrier = barrier.clone();
                std::thread::spawn(move || {
                    barrier.wait();
                    promise.resolve(id).is_ok().then_some(id)
                })
            })
            .collect();
        let winners: Vec<u32> = racers
            .into_iter()
            .filter_map(|racer| racer.join().unwrap())
            .collect();
        assert_eq!(winners.len(), 1, "exactly one resolve wins");
        assert_eq!(join_guarded("raced promise", task).unwrap(), winners[0]);
    }
}

#[test]
fn a_promise_dropped_unset_cancels_its_task_and_wakes_a_waiter() {
    let (promise, task) = Promise::<u8>::new();
    let waiter = std::thread::spawn(move || join_guarded("waits for the drop", task));
    drop(promise);
    assert!(waiter.join().unwrap().unwrap_err().is_cancelled());
}

#[test]
fn a_failure_is_not_a_panic_and_keeps_its_error() {
    let (promise, task) = Promise::<u8>::new();
    assert!(promise.fail(std::io::Error::other("disk gone")));
    let error = task.join().unwrap_err();
    assert!(error.is_failed());
    assert!(!error.is_panic());
    assert!(!error.is_cancelled());
    assert_eq!(error.panic_message(), None);
    assert!(error.failure().unwrap().is::<std::io::Error>());
    assert_eq!(error.to_string(), "task failed: disk gone");
    assert!(std::error::Error::source(&error).is_some());
    let error = error.try_into_panic().unwrap_err();
    assert!(error.is_failed(), "try_into_panic gives a failure back");
}

#[test]
fn an_unread_failure_never_reaches_a_panic_handler() {
    let (pool, panics) = pool_with_panic_log(1);
    let (promise, task) = Promise::<u8>::new();
    pool.spawn(move || {
        drop(task);
        assert!(promise.fail("nobody reads this"));
    })
    .join()
    .unwrap();
    pool.shutdown();
    assert_eq!(panics.count(), 0);
}

#[test]
fn complete_passes_a_panic_on_as_a_panic() {
    support::quiet_expected_panics();
    let pool = ThreadPool::new(1);
    let failed = pool
        .spawn(|| -> u8 { std::panic::panic_any(format!("{}: forwarded", support::EXPECTED)) })
        .join();
    let (promise, task) = Promise::new();
    assert!(promise.complete(failed).is_ok());
    let error = task.join().unwrap_err();
    assert!(error.is_panic());
    assert!(error.panic_message().unwrap().ends_with("forwarded"));
    pool.shutdown();
}

#[test]
fn a_promised_task_can_be_awaited_continued_and_gathered() {
    let pool = ThreadPool::new(2);
    let (first, awaited) = Promise::new();
    let waiter = pool.spawn_async(async move { awaited.await.unwrap() * 2 });
    let (second, continued) = Promise::new();
    let continuation = continued.then(|result| result.unwrap() + 1);
    let (third, gathered_a) = Promise::new();
    let (fourth, gathered_b) = Promise::new();
    let gathered = taskpool::when_all([gathered_a, gathered_b]);
    // Completed from other threads, after everything waits.
    std::thread::spawn(move || {
        first.resolve(21).unwrap();
        second.resolve(41).unwrap();
        fourth.resolve(4).unwrap();
        third.resolve(3).unwrap();
    })
    .join()
    .unwrap();
    assert_eq!(join_guarded("awaited", waiter).unwrap(), 42);
    assert_eq!(join_guarded("continued", continuation).unwrap(), 42);
    assert_eq!(join_guarded("gathered", gathered).unwrap(), [3, 4]);
    pool.shutdown();
}

#[test]
fn a_promised_value_is_dropped_exactly_once_whoever_goes_last() {
    let values = DropCounter::new();
    // Task dropped first, then resolved: the promise side drops the value.
    let (promise, task) = Promise::new();
    drop(task);
    promise.resolve(values.track()).unwrap();
    assert_eq!(values.drops(), 1);
    // Resolved first, then the task dropped unread.
    let (promise, task) = Promise::new();
    promise.resolve(values.track()).unwrap();
    drop(promise);
    assert_eq!(values.drops(), 1);
    drop(task);
    assert_eq!(values.drops(), 2);
    // A refused value comes back to the caller, who drops it.
    let (promise, task) = Promise::new();
    promise.resolve(values.track()).unwrap();
    drop(promise.resolve(values.track()).unwrap_err());
    assert_eq!(values.drops(), 3);
    drop(join_guarded("joined", task).unwrap());
    values.assert_all_dropped("every promised value");
}

#[test]
fn joining_a_promise_from_a_worker_of_a_one_thread_pool_completes() {
    let pool = ThreadPool::new(1);
    let (promise, task) = Promise::new();
    let joiner = pool.spawn(move || task.join().unwrap());
    let resolver = within("resolve from outside", move || promise.resolve(9));
    assert_eq!(resolver, Ok(()));
    assert_eq!(
        join_guarded("worker joined the promise", joiner).unwrap(),
        9
    );
    pool.shutdown();
}

#[test]
fn task_cancel_does_not_complete_a_promise() {
    let (promise, task) = Promise::new();
    assert!(!task.cancel(), "the promise decides, not the handle");
    assert!(!task.is_finished());
    promise.resolve("still mine").unwrap();
    assert_eq!(task.join().unwrap(), "still mine");
}
