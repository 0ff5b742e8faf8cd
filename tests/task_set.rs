//! `TaskSet<T>` (tokio's `JoinSet`): results in completion order, a set
//! dropped cancels what is still in it, results freed as they are taken,
//! and waiting on a worker does not deadlock.

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use support::{DropCounter, EXPECTED, Gate, WorkerGate, pool_with_panic_log, size, within};
use taskpool::{Promise, Task, TaskSet, ThreadPool};

#[test]
fn results_come_in_completion_order_not_insertion_order() {
    let pool = ThreadPool::new(3);
    let gates: Vec<Arc<Gate>> = (0..3).map(|_| Arc::new(Gate::new())).collect();
    let mut set = TaskSet::new();
    for (id, gate) in gates.iter().enumerate() {
        let gate = gate.clone();
        set.insert(pool.spawn(move || {
            gate.wait();
            id
        }));
    }
    let mut order = Vec::new();
    for id in [2, 0, 1] {
        gates[id].open();
        order.push(set.join_next().unwrap().unwrap());
    }
    assert_eq!(order, [2, 0, 1]);
    assert!(set.join_next().is_none());
    pool.shutdown();
}

#[test]
fn promises_collected_into_a_set_come_out_in_resolve_order() {
    let (promises, tasks): (Vec<_>, Vec<_>) = (0..5).map(|_| Promise::new()).unzip();
    let mut set: TaskSet<usize> = tasks.into_iter().collect();
    assert_eq!(set.len(), 5);
    for (id, promise) in promises.iter().enumerate().rev() {
        promise.resolve(id).unwrap();
    }
    let order: Vec<usize> = std::iter::from_fn(|| set.join_next())
        .map(Result::unwrap)
        .collect();
    assert_eq!(order, [4, 3, 2, 1, 0]);
}

#[test]
fn dropping_the_set_cancels_the_tasks_still_in_it() {
    let pool = ThreadPool::new(1);
    let gate = WorkerGate::close(&pool, 1);
    let ran = Arc::new(AtomicUsize::new(0));
    let futures = DropCounter::new();
    let mut set = TaskSet::new();
    for _ in 0..10 {
        let ran = ran.clone();
        set.insert(pool.spawn(move || {
            ran.fetch_add(1, Ordering::SeqCst);
        }));
    }
    for _ in 0..5 {
        let held = futures.track();
        set.insert(pool.spawn_async(async move {
            let _held = held;
            std::future::pending::<()>().await;
        }));
    }
    assert_eq!(set.len(), 15);
    drop(set);
    gate.open();
    pool.shutdown();
    assert_eq!(ran.load(Ordering::SeqCst), 0, "no queued closure ran");
    futures.assert_all_dropped("every future dropped unpolled");
    if let Some(live) = pool.debug_live_tasks() {
        assert_eq!(live, 0, "every task freed");
    }
}

#[test]
fn a_dropped_set_keeps_a_running_closure_to_its_end_and_drops_its_value() {
    let pool = ThreadPool::new(1);
    let values = DropCounter::new();
    let gate = Arc::new(Gate::new());
    let (started, wait_started) = std::sync::mpsc::channel();
    let value = values.track();
    let inside = gate.clone();
    let mut set = TaskSet::new();
    set.insert(pool.spawn(move || {
        started.send(()).unwrap();
        inside.wait();
        value
    }));
    support::recv_guarded("the closure starts", &wait_started);
    drop(set);
    gate.open();
    pool.shutdown();
    values.assert_all_dropped("the value of a task that finished after the drop");
}

#[test]
fn a_taken_result_is_freed_and_the_rest_stay_until_taken() {
    let count = size(20, 4);
    let pool = ThreadPool::new(2);
    let values = DropCounter::new();
    let mut set = TaskSet::new();
    for _ in 0..count {
        let value = values.track();
        set.insert(pool.spawn(move || value));
    }
    for taken in 1..=count {
        let value = set.join_next().unwrap().unwrap();
        drop(value);
        assert_eq!(values.drops(), taken, "only the taken result is gone");
        assert_eq!(set.len(), count - taken);
    }
    assert!(set.is_empty());
    pool.shutdown();
    if let Some(live) = pool.debug_live_tasks() {
        assert_eq!(live, 0, "every taken task freed");
    }
}

#[test]
fn join_next_on_the_only_worker_runs_the_sets_tasks_meanwhile() {
    let pool = ThreadPool::new(1);
    let outer = pool.spawn(|| {
        let mut set = TaskSet::new();
        for i in 0..10_u32 {
            set.spawn(move || i);
            set.spawn_async(async move { i * 100 });
        }
        std::iter::from_fn(|| set.join_next())
            .map(Result::unwrap)
            .sum::<u32>()
    });
    let sum = within("join_next on a one-thread pool", move || outer.join());
    assert_eq!(sum.unwrap(), 45 + 4500);
    pool.shutdown();
}

#[test]
fn next_await_gathers_inside_an_async_task() {
    let pool = ThreadPool::new(2);
    let gathered = pool.spawn_async(async {
        let mut set = TaskSet::new();
        for i in 0..8_u64 {
            set.spawn_async(async move {
                taskpool::yield_now().await;
                i
            });
        }
        let mut seen = Vec::new();
        while let Some(result) = set.join_next_async().await {
            seen.push(result.unwrap());
        }
        seen.sort_unstable();
        seen
    });
    assert_eq!(
        support::join_guarded("gathered", gathered).unwrap(),
        (0..8).collect::<Vec<_>>()
    );
    pool.shutdown();
}

#[test]
fn cancel_all_leaves_the_tasks_in_the_set_with_their_outcomes() {
    let pool = ThreadPool::new(1);
    let mut set = TaskSet::new();
    for _ in 0..3 {
        set.insert(pool.spawn_async(std::future::pending::<u8>()));
    }
    set.insert(Task::ready(9));
    set.cancel_all();
    assert_eq!(set.len(), 4);
    let (mut cancelled, mut values) = (0, Vec::new());
    while let Some(result) = set.join_next() {
        match result {
            Ok(value) => values.push(value),
            Err(error) => {
                assert!(error.is_cancelled());
                cancelled += 1;
            }
        }
    }
    assert_eq!((cancelled, values), (3, vec![9]));
    pool.shutdown();
}

#[test]
fn a_panic_taken_from_the_set_is_observed_and_an_untaken_one_is_reported() {
    support::quiet_expected_panics();
    let (pool, panics) = pool_with_panic_log(1);
    let mut set = TaskSet::new();
    set.insert(pool.spawn(|| -> u8 { std::panic::panic_any(format!("{EXPECTED}: taken")) }));
    let error = set.join_next().unwrap().unwrap_err();
    assert!(error.is_panic());
    let mut left = pool.spawn(|| -> u8 { std::panic::panic_any(format!("{EXPECTED}: left")) });
    assert!(left.wait_timeout(support::HANG_GUARD), "it finished");
    set.insert(left);
    assert_eq!(set.len(), 1);
    drop(set);
    pool.shutdown();
    panics.wait_for(1);
    assert_eq!(panics.texts(), [format!("{EXPECTED}: left")]);
}

#[test]
fn an_empty_set_gives_none_at_once() {
    let mut set = TaskSet::<u8>::new();
    assert!(set.join_next().is_none());
    assert!(taskpool::block_on(set.join_next_async()).is_none());
}
