//! `when_all` and `when_any`: combined tasks that complete when their inputs
//! do, holding no thread meanwhile.

mod support;

use std::sync::mpsc;
use support::{DropCounter, EXPECTED, WorkerGate, join_guarded, pool_with_panic_log, size};
use taskpool::{ThreadPool, when_all, when_any};

#[test]
fn when_all_of_100000_tasks_gives_the_values_in_order() {
    let pool = ThreadPool::new(2);
    let count = size(100_000, 100);
    let tasks = (0..count).map(|i| pool.spawn(move || i * 2));
    let values = join_guarded("when_all of 100k", when_all(tasks)).unwrap();
    assert_eq!(values.len(), count);
    assert!(
        values.iter().enumerate().all(|(i, v)| *v == i * 2),
        "values out of order"
    );
}

#[test]
fn when_all_keeps_the_input_order_when_they_finish_in_reverse() {
    let pool = ThreadPool::new(2);
    let count = 8;
    let mut releases = Vec::new();
    let mut tasks = Vec::new();
    for i in 0..count {
        let (release, gate) = mpsc::channel::<()>();
        releases.push(release);
        tasks.push(pool.spawn_async(async move {
            // Waits without holding a worker: the channel is polled by yielding.
            loop {
                if gate.try_recv().is_ok() {
                    return i;
                }
                taskpool::yield_now().await;
            }
        }));
    }
    let all = when_all(tasks);
    for release in releases.into_iter().rev() {
        release.send(()).unwrap();
    }
    assert_eq!(
        join_guarded("when_all", all).unwrap(),
        (0..count).collect::<Vec<_>>()
    );
}

#[test]
fn when_all_with_one_failing_task_returns_that_error() {
    let (pool, log) = pool_with_panic_log(2);
    let tasks: Vec<_> = (0..100)
        .map(|i| {
            pool.spawn(move || -> usize {
                if i == 57 {
                    panic!("{EXPECTED}: input 57");
                }
                i
            })
        })
        .collect();
    let error = join_guarded("when_all with a panic", when_all(tasks)).unwrap_err();
    assert!(error.is_panic());
    assert_eq!(error.panic_message(), Some("expected panic: input 57"));
    pool.shutdown();
    assert_eq!(log.count(), 0, "the panic was returned, so observed");
}

#[test]
fn when_all_with_a_cancelled_task_returns_cancelled() {
    let pool = ThreadPool::new(1);
    let gate = WorkerGate::close(&pool, 1);
    let values = DropCounter::new();
    let tasks: Vec<_> = (0..10)
        .map(|_| {
            let values = values.clone();
            pool.spawn(move || values.track())
        })
        .collect();
    assert!(tasks[3].cancel());
    let all = when_all(tasks);
    gate.open();
    assert!(
        join_guarded("when_all with a cancel", all)
            .unwrap_err()
            .is_cancelled()
    );
    pool.shutdown();
    // The other nine ran; their values were dropped, each once.
    assert_eq!(values.made(), 9);
    assert_eq!(values.drops(), 9);
}

#[test]
fn when_all_of_an_empty_list_is_ok_and_empty() {
    let all = when_all(Vec::<taskpool::Task<u8>>::new());
    assert_eq!(
        join_guarded("empty when_all", all).unwrap(),
        Vec::<u8>::new()
    );
}

#[test]
fn when_any_returns_the_first_to_finish_with_its_index() {
    let pool = ThreadPool::new(2);
    let (release, gate) = mpsc::channel::<()>();
    let slow = pool.spawn(move || {
        gate.recv().unwrap();
        "slow"
    });
    let fast = pool.spawn(|| "fast");
    let (index, result) = join_guarded("when_any", when_any([slow, fast])).unwrap();
    assert_eq!((index, result.unwrap()), (1, "fast"));
    release.send(()).unwrap();
}

#[test]
fn when_any_returns_a_failing_first_task_with_its_error() {
    let (pool, log) = pool_with_panic_log(2);
    let (release, gate) = mpsc::channel::<()>();
    let slow = pool.spawn(move || -> u32 {
        gate.recv().unwrap();
        1
    });
    let failing = pool.spawn(|| -> u32 { panic!("{EXPECTED}: first") });
    let (index, result) = join_guarded("when_any", when_any([slow, failing])).unwrap();
    assert_eq!(index, 1);
    assert_eq!(
        result.unwrap_err().panic_message(),
        Some("expected panic: first")
    );
    release.send(()).unwrap();
    pool.shutdown();
    assert_eq!(log.count(), 0);
}

#[test]
fn when_any_drops_the_late_results_and_reports_a_late_panic() {
    // Three threads: the two late tasks each block a worker until released,
    // and the first one needs a third to run on.
    let (pool, log) = pool_with_panic_log(3);
    let values = DropCounter::new();
    let (release, gate) = mpsc::channel::<()>();
    let late_value = {
        let values = values.clone();
        pool.spawn(move || {
            gate.recv().unwrap();
            Ok::<_, ()>(values.track())
        })
    };
    let (release_panic, gate_panic) = mpsc::channel::<()>();
    let late_panic = pool.spawn(move || {
        gate_panic.recv().unwrap();
        panic!("{EXPECTED}: late")
    });
    let first = {
        let values = values.clone();
        pool.spawn_async(async move { Ok::<_, ()>(values.track()) })
    };
    // Hold the slow ones off until `first` has won.
    let any = when_any([first, late_value, late_panic]);
    let (index, result) = join_guarded("when_any", any).unwrap();
    assert_eq!(index, 0);
    drop(result);
    release.send(()).unwrap();
    release_panic.send(()).unwrap();
    log.wait_for(1);
    pool.shutdown();
    assert_eq!(values.made(), 2);
    assert_eq!(values.drops(), 2);
    assert_eq!(log.messages(), [Some("expected panic: late".to_string())]);
}

#[test]
fn when_any_of_an_empty_list_is_cancelled() {
    let any = when_any(Vec::<taskpool::Task<u8>>::new());
    assert!(
        join_guarded("empty when_any", any)
            .unwrap_err()
            .is_cancelled()
    );
}

#[test]
fn when_all_and_when_any_can_be_awaited_and_continued() {
    let pool = ThreadPool::new(2);
    let all = when_all((1..=4).map(|i| pool.spawn(move || i)));
    let summed = all.then(|result| result.unwrap().into_iter().sum::<i32>());
    assert_eq!(join_guarded("then after when_all", summed).unwrap(), 10);
    let any = when_any([pool.spawn(|| 5)]);
    let awaited = pool.spawn_async(async move { any.await.unwrap().1.unwrap() });
    assert_eq!(join_guarded("await when_any", awaited).unwrap(), 5);
}

#[test]
fn when_all_with_two_failing_tasks_returns_one_error_and_reports_the_other_once() {
    let (pool, log) = pool_with_panic_log(2);
    let values = DropCounter::new();
    let gate = WorkerGate::close(&pool, 2);
    let tasks: Vec<_> = (0..10)
        .map(|i| {
            let values = values.clone();
            pool.spawn(move || {
                if i == 2 || i == 7 {
                    panic!("{EXPECTED}: input {i}");
                }
                values.track()
            })
        })
        .collect();
    let all = when_all(tasks);
    gate.open();
    let error = join_guarded("when_all with two panics", all).unwrap_err();
    let returned = error.panic_message().unwrap().to_string();
    log.wait_for(1);
    pool.shutdown();
    let reported = log.messages();
    assert_eq!(reported.len(), 1, "the other panic reported exactly once");
    let mut both = vec![returned, reported[0].clone().unwrap()];
    both.sort();
    assert_eq!(both, ["expected panic: input 2", "expected panic: input 7"]);
    assert_eq!(values.made(), 8);
    assert_eq!(
        values.drops(),
        8,
        "the values of a failed when_all are dropped"
    );
}
