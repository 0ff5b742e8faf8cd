//! `Task::cancel_handle`: a cloneable, `Send + Sync` right to cancel a task
//! from a token callback or another thread, once the `Task` moved elsewhere;
//! it does not keep the task's output alive.

mod support;

use std::sync::mpsc;
use std::sync::{Arc, Barrier};
use support::{DropCounter, Gate, WorkerGate, join_guarded, recv_guarded, size};
use taskpool::{CancelHandle, CancellationToken, ThreadPool};

fn assert_send_sync_clone<T: Send + Sync + Clone + 'static>() {}

#[test]
fn a_cancel_handle_is_clone_send_sync_and_static() {
    assert_send_sync_clone::<CancelHandle>();
}

#[test]
fn a_handle_cancels_a_queued_task_whose_task_moved_to_another_thread() {
    let pool = ThreadPool::new(1);
    let gate = WorkerGate::close(&pool, 1);
    let ran = DropCounter::new();
    let marker = ran.track();
    let task = pool.spawn(move || {
        marker.touch();
        "ran"
    });
    let handle = task.cancel_handle();
    let joiner = std::thread::spawn(move || join_guarded("moved task", task));
    let canceller = std::thread::spawn(move || handle.cancel());
    assert!(
        canceller.join().unwrap(),
        "it was queued: the handle ends it"
    );
    gate.open();
    assert!(joiner.join().unwrap().unwrap_err().is_cancelled());
    assert_eq!(ran.drops(), 1, "the closure was dropped unrun, once");
    pool.shutdown();
}

#[test]
fn a_token_callback_cancels_a_waiting_async_task_through_its_handle() {
    let pool = ThreadPool::new(2);
    let shutdown = CancellationToken::new();
    let locals = DropCounter::new();
    let held = locals.track();
    let (polled, wait_polled) = mpsc::channel();
    let task = pool.spawn_async(async move {
        let _held = held;
        polled.send(()).unwrap();
        std::future::pending::<()>().await;
    });
    let handle = task.cancel_handle();
    let (answer, receive_answer) = mpsc::channel();
    let _registration = shutdown.register(move || answer.send(handle.cancel()).unwrap());
    recv_guarded("the task reaches its await", &wait_polled);
    shutdown.cancel();
    recv_guarded("the callback ran", &receive_answer);
    assert!(
        join_guarded("cancelled from a callback", task)
            .unwrap_err()
            .is_cancelled()
    );
    assert_eq!(locals.drops(), 1, "the future was dropped once");
    pool.shutdown();
}

#[test]
fn clones_racing_to_cancel_a_queued_task_end_it_exactly_once() {
    let rounds = size(50, 3);
    let pool = ThreadPool::new(1);
    for _ in 0..rounds {
        let gate = WorkerGate::close(&pool, 1);
        let task = pool.spawn(|| 1);
        let racers = 4;
        let barrier = Arc::new(Barrier::new(racers));
        let threads: Vec<_> = (0..racers)
            .map(|_| {
                let handle = task.cancel_handle();
                let barrier = barrier.clone();
                std::thread::spawn(move || {
                    barrier.wait();
                    handle.cancel()
                })
            })
            .collect();
        let wins = threads
            .into_iter()
            .map(|thread| thread.join().unwrap())
            .filter(|won| *won)
            .count();
        assert_eq!(wins, 1, "exactly one cancel ends the task");
        gate.open();
        assert!(join_guarded("raced", task).unwrap_err().is_cancelled());
    }
    pool.shutdown();
}

#[test]
fn a_handle_on_a_running_closure_answers_false_and_the_value_arrives() {
    let pool = ThreadPool::new(1);
    let gate = Arc::new(Gate::new());
    let (started, wait_started) = mpsc::channel();
    let inside = gate.clone();
    let task = pool.spawn(move || {
        started.send(()).unwrap();
        inside.wait();
        7
    });
    let handle = task.cancel_handle();
    recv_guarded("the closure starts", &wait_started);
    assert!(!handle.cancel(), "running: not ended by the call");
    assert!(!handle.is_finished());
    gate.open();
    assert_eq!(join_guarded("ran to completion", task).unwrap(), 7);
    assert!(handle.is_finished());
    assert!(!handle.clone().cancel(), "finished: nothing to cancel");
    pool.shutdown();
}

#[test]
fn a_handle_does_not_keep_the_output_alive() {
    let pool = ThreadPool::new(1);
    let outputs = DropCounter::new();

    // Joined: the value leaves with `join`, and dies with it.
    let value = outputs.track();
    let task = pool.spawn(move || value);
    let joined_handle = task.cancel_handle();
    drop(join_guarded("joined", task).unwrap());
    assert_eq!(outputs.drops(), 1, "dropped by the joiner, handle alive");

    // Detached: the value is dropped when the task ends.
    let value = outputs.track();
    let task = pool.spawn(move || value);
    let detached_handle = task.cancel_handle();
    task.detach();
    support::wait_until("the detached output is dropped", || outputs.drops() == 2);
    assert!(detached_handle.is_finished());

    drop((joined_handle, detached_handle));
    pool.shutdown();
    if let Some(live) = pool.debug_live_tasks() {
        assert_eq!(live, 0, "the last handle frees the task");
    }
}

#[test]
fn a_handle_outliving_its_task_and_pool_is_harmless() {
    let pool = ThreadPool::new(1);
    let task = pool.spawn(|| 3);
    let handle = task.cancel_handle();
    assert_eq!(join_guarded("done", task).unwrap(), 3);
    pool.shutdown();
    drop(pool);
    assert!(handle.is_finished());
    assert!(!handle.cancel());
    assert!(format!("{handle:?}").contains("finished: true"));
}
