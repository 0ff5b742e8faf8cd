//! `Task::then_inline`: the continuation runs on the thread that completes
//! the antecedent (or at once on the caller), exactly once, and a panic on
//! either side is the returned task's outcome, never a worker's.

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use support::{
    EXPECTED, WorkerGate, current_thread_name, join_guarded, pool_with_panic_log,
    quiet_expected_panics, size,
};
use taskpool::{Promise, Task, ThreadPool};

#[test]
fn the_continuation_runs_on_the_worker_that_completed_the_antecedent() {
    let pool = ThreadPool::builder()
        .num_threads(1)
        .thread_name(|_| "inline-worker".into())
        .build()
        .unwrap();
    let (release, gate) = std::sync::mpsc::channel::<()>();
    let antecedent = pool.spawn(move || gate.recv().unwrap());
    let continuation = antecedent.then_inline(|_| current_thread_name());
    release.send(()).unwrap();
    assert_eq!(
        join_guarded("inline", continuation).unwrap(),
        "inline-worker"
    );
    pool.shutdown();
}

#[test]
fn a_finished_antecedent_runs_the_continuation_at_once_on_the_caller() {
    let caller = current_thread_name();
    let continuation =
        Task::ready(1).then_inline(|result| (result.unwrap(), current_thread_name()));
    assert!(continuation.is_finished(), "ran inside then_inline");
    assert_eq!(continuation.join().unwrap(), (1, caller));
}

#[test]
fn a_continuation_does_not_wait_behind_a_busy_pool() {
    let pool = ThreadPool::new(1);
    let gate = WorkerGate::close(&pool, 1);
    let backlog_ran = Arc::new(AtomicUsize::new(0));
    for _ in 0..50 {
        let backlog_ran = backlog_ran.clone();
        pool.execute(move || {
            backlog_ran.fetch_add(1, Ordering::SeqCst);
        });
    }
    let (promise, antecedent) = Promise::new();
    let seen = backlog_ran.clone();
    let continuation =
        antecedent.then_inline(move |result| (result.unwrap(), seen.load(Ordering::SeqCst)));
    promise.resolve("resolved").unwrap();
    assert!(continuation.is_finished(), "ran in resolve, not queued");
    assert_eq!(continuation.join().unwrap(), ("resolved", 0));
    gate.open();
    pool.shutdown();
    assert_eq!(backlog_ran.load(Ordering::SeqCst), 50);
}

#[test]
fn a_panic_in_the_continuation_is_its_tasks_panic_and_the_worker_lives() {
    quiet_expected_panics();
    let (pool, panics) = pool_with_panic_log(1);
    let continuation = pool
        .spawn(|| 1)
        .then_inline(|_| -> u8 { std::panic::panic_any(format!("{EXPECTED}: continuation")) });
    let error = join_guarded("continuation panicked", continuation).unwrap_err();
    assert!(error.is_panic());
    assert_eq!(
        error.panic_message(),
        Some(&*format!("{EXPECTED}: continuation"))
    );
    assert_eq!(
        join_guarded("the worker still runs", pool.spawn(|| 2)).unwrap(),
        2
    );
    assert_eq!(pool.metrics().panicked, 0, "no panic reached the worker");
    // Dropped unjoined, the continuation's panic reaches the handler.
    pool.spawn(|| 1)
        .then_inline(|_| -> u8 { std::panic::panic_any(format!("{EXPECTED}: unjoined")) })
        .detach();
    panics.wait_for(1);
    pool.shutdown();
    assert_eq!(panics.texts(), [format!("{EXPECTED}: unjoined")]);
}

#[test]
fn the_antecedents_panic_and_cancellation_reach_the_continuation() {
    quiet_expected_panics();
    let (pool, panics) = pool_with_panic_log(1);
    let panicked = pool
        .spawn(|| -> u8 { std::panic::panic_any(format!("{EXPECTED}: antecedent")) })
        .then_inline(|result| result.unwrap_err().is_panic());
    assert!(join_guarded("saw the panic", panicked).unwrap());
    let gate = WorkerGate::close(&pool, 1);
    let queued = pool.spawn(|| 1);
    assert!(queued.cancel());
    let cancelled = queued.then_inline(|result| result.unwrap_err().is_cancelled());
    assert!(join_guarded("saw the cancellation", cancelled).unwrap());
    gate.open();
    pool.shutdown();
    assert_eq!(panics.count(), 0, "the continuation observed the panic");
}

#[test]
fn each_continuation_runs_exactly_once_whatever_the_race() {
    let rounds = size(500, 10);
    let pool = ThreadPool::new(2);
    let runs = Arc::new(AtomicUsize::new(0));
    let continuations: Vec<_> = (0..rounds)
        .map(|i| {
            let runs = runs.clone();
            pool.spawn(move || i).then_inline(move |result| {
                runs.fetch_add(1, Ordering::SeqCst);
                result.unwrap()
            })
        })
        .collect();
    let values = taskpool::when_all(continuations);
    assert_eq!(
        join_guarded("all continuations", values).unwrap(),
        (0..rounds).collect::<Vec<_>>()
    );
    pool.shutdown();
    assert_eq!(runs.load(Ordering::SeqCst), rounds);
}

#[test]
fn an_inline_continuation_chains_with_then_and_await() {
    let pool = ThreadPool::new(2);
    let chained = pool
        .spawn(|| 10)
        .then_inline(|result| result.unwrap() + 1)
        .then(|result| result.unwrap() * 2);
    let awaited = pool.spawn_async(async move { chained.await.unwrap() + 1 });
    assert_eq!(join_guarded("chained", awaited).unwrap(), 23);
    pool.shutdown();
}
