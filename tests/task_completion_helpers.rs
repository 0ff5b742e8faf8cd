//! The small level-2 helpers for real services: `when_all_settled` keeps
//! every outcome, `Task::ready` is a task finished from the start,
//! `Task::detach` lets a task run on without a handle, and
//! `CancellationToken::cancelled_owned` is a `'static` cancellation future.

mod support;

use std::sync::mpsc;
use support::{
    DropCounter, EXPECTED, HANG_GUARD, WorkerGate, join_guarded, pool_with_panic_log,
    quiet_expected_panics, recv_guarded,
};
use taskpool::{CancellationToken, Task, ThreadPool};

#[test]
fn when_all_settled_keeps_every_value_panic_and_cancellation_in_order() {
    quiet_expected_panics();
    let (pool, panics) = pool_with_panic_log(2);
    let gate = WorkerGate::close(&pool, 2);
    let cancelled = pool.spawn(|| 2);
    assert!(cancelled.cancel());
    let tasks = vec![
        pool.spawn(|| 0),
        pool.spawn(|| -> i32 { std::panic::panic_any(format!("{EXPECTED}: input 1")) }),
        cancelled,
        pool.spawn(|| 3),
    ];
    let settled = taskpool::when_all_settled(tasks);
    gate.open();
    let outcomes = join_guarded("when_all_settled", settled).unwrap();
    assert_eq!(outcomes.len(), 4);
    assert_eq!(*outcomes[0].as_ref().unwrap(), 0);
    let panic = outcomes[1].as_ref().unwrap_err();
    assert!(panic.is_panic());
    assert_eq!(
        panic.panic_message(),
        Some(&*format!("{EXPECTED}: input 1"))
    );
    assert!(outcomes[2].as_ref().unwrap_err().is_cancelled());
    assert_eq!(*outcomes[3].as_ref().unwrap(), 3);
    pool.shutdown();
    assert_eq!(
        panics.count(),
        0,
        "a settled panic is observed, not reported"
    );
}

#[test]
fn when_all_settled_of_nothing_is_complete_at_once() {
    let settled = taskpool::when_all_settled(Vec::<Task<u8>>::new());
    assert!(settled.is_finished());
    assert!(settled.join().unwrap().is_empty());
}

#[test]
fn when_all_settled_dropped_unjoined_drops_every_value_once() {
    let drops = DropCounter::new();
    let pool = ThreadPool::new(2);
    let tasks: Vec<_> = (0..50)
        .map(|_| {
            let value = drops.track();
            pool.spawn(move || value)
        })
        .collect();
    drop(taskpool::when_all_settled(tasks));
    pool.shutdown();
    support::wait_until("every value dropped", || drops.drops() == 50);
}

#[test]
fn a_ready_task_is_finished_joinable_awaitable_and_continuable() {
    assert!(Task::ready(1).is_finished());
    assert_eq!(Task::ready("now").join().unwrap(), "now");
    assert_eq!(taskpool::block_on(Task::ready(5)).unwrap(), 5);
    let all = taskpool::when_all([Task::ready(1), Task::ready(2)]);
    assert_eq!(
        join_guarded("when_all of ready tasks", all).unwrap(),
        [1, 2]
    );
    let doubled = Task::ready(21).then(|result| result.unwrap() * 2);
    assert_eq!(
        join_guarded("a continuation of a ready task", doubled).unwrap(),
        42
    );
}

#[test]
fn a_ready_task_dropped_unjoined_drops_its_value_once() {
    let drops = DropCounter::new();
    drop(Task::ready(drops.track()));
    assert_eq!(drops.drops(), 1);
}

#[test]
fn a_detached_task_runs_and_its_panic_goes_to_the_pool_handler() {
    quiet_expected_panics();
    let (pool, panics) = pool_with_panic_log(1);
    let (sender, receiver) = mpsc::channel();
    pool.spawn_async(async move { sender.send(7).unwrap() })
        .detach();
    assert_eq!(recv_guarded("the detached task runs", &receiver), 7);
    pool.spawn(|| std::panic::panic_any(format!("{EXPECTED}: detached")))
        .detach();
    panics.wait_for(1);
    assert_eq!(panics.texts(), [format!("{EXPECTED}: detached")]);
}

#[test]
fn an_owned_cancellation_future_is_static_and_completes_on_cancel() {
    let pool = ThreadPool::new(1);
    let token = CancellationToken::new();
    let waiter = pool.spawn_async(token.cancelled_owned());
    let mut child_waiter = pool.spawn_async(token.child_token().cancelled_owned());
    assert!(!waiter.is_finished());
    token.cancel();
    assert!(join_guarded("the owned future", waiter).is_ok());
    assert!(
        child_waiter.wait_timeout(HANG_GUARD),
        "a child token's future too"
    );
    drop(token);
}

#[test]
fn an_owned_cancellation_future_of_a_cancelled_token_is_ready_at_its_first_poll() {
    let token = CancellationToken::new();
    token.cancel();
    taskpool::block_on(token.cancelled_owned());
    let dropped = CancellationToken::new();
    let future = dropped.cancelled_owned();
    drop(dropped);
    drop(future); // never polled: nothing registered, nothing leaks
}
