//! `Task::cancel` and `spawn_with_token`: before the task runs, while it
//! runs (cooperatively), after it finished.

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, mpsc};
use support::{DropCounter, WorkerGate, join_guarded, recv_guarded};
use taskpool::{CancellationToken, Cancelled, ThreadPool};

#[test]
fn cancel_before_run_never_runs_the_closure() {
    let pool = ThreadPool::new(1);
    let gate = WorkerGate::close(&pool, 1);
    let runs = Arc::new(AtomicUsize::new(0));
    let captured = DropCounter::new();
    let value = captured.track();
    let counter = runs.clone();
    let task = pool.spawn(move || {
        value.touch();
        counter.fetch_add(1, Ordering::SeqCst);
        1
    });
    assert!(
        task.cancel(),
        "the task was queued behind the gate, not started"
    );
    // The closure is dropped by the canceller, at once, exactly once.
    assert_eq!(captured.drops(), 1);
    assert!(task.is_finished());
    // A second cancel finds it complete.
    assert!(!task.cancel());
    gate.open();
    let error = join_guarded("cancelled task", task).unwrap_err();
    assert!(error.is_cancelled());
    assert!(!error.is_panic());
    pool.shutdown();
    assert_eq!(runs.load(Ordering::SeqCst), 0);
    assert_eq!(captured.drops(), 1);
}

#[test]
fn cancel_during_run_ends_cancelled_when_the_closure_checks_its_token() {
    let pool = ThreadPool::new(1);
    let (started, wait_started) = mpsc::channel();
    let captured = DropCounter::new();
    let value = captured.track();
    let task = pool.spawn_with_token(&CancellationToken::new(), move |own| {
        value.touch();
        started.send(()).unwrap();
        let mut rounds = 0_u64;
        loop {
            own.check()?;
            rounds += 1;
            std::thread::yield_now();
            if rounds == u64::MAX {
                return Ok(rounds);
            }
        }
    });
    recv_guarded("the task starts", &wait_started);
    assert!(!task.cancel(), "the task was running: cancel must say so");
    let error = join_guarded("cooperative cancel", task).unwrap_err();
    assert!(error.is_cancelled());
    assert_eq!(captured.drops(), 1);
}

#[test]
fn cancel_of_a_running_plain_spawn_lets_it_run_to_completion() {
    let pool = ThreadPool::new(1);
    let (started, wait_started) = mpsc::channel();
    let (release, gate) = mpsc::channel::<()>();
    let task = pool.spawn(move || {
        started.send(()).unwrap();
        gate.recv().unwrap();
        "finished anyway"
    });
    recv_guarded("the task starts", &wait_started);
    assert!(!task.cancel());
    release.send(()).unwrap();
    assert_eq!(
        join_guarded("plain spawn", task).unwrap(),
        "finished anyway"
    );
}

#[test]
fn cancel_after_completion_returns_false_and_join_gives_the_value() {
    let pool = ThreadPool::new(1);
    let outputs = DropCounter::new();
    let make = outputs.clone();
    let mut task = pool.spawn(move || make.track());
    assert!(task.wait_timeout(support::HANG_GUARD));
    assert!(!task.cancel());
    let output = join_guarded("completed task", task).expect("the value survives cancel");
    assert_eq!(outputs.drops(), 0);
    drop(output);
    assert_eq!((outputs.made(), outputs.drops()), (1, 1));
}

#[test]
fn token_cancelled_before_spawn_means_the_closure_never_runs() {
    let pool = ThreadPool::new(1);
    let token = CancellationToken::new();
    token.cancel();
    let runs = Arc::new(AtomicUsize::new(0));
    let captured = DropCounter::new();
    let value = captured.track();
    let counter = runs.clone();
    let task = pool.spawn_with_token(&token, move |_| {
        value.touch();
        counter.fetch_add(1, Ordering::SeqCst);
        Ok(1)
    });
    assert!(
        join_guarded("pre-cancelled", task)
            .unwrap_err()
            .is_cancelled()
    );
    pool.shutdown();
    assert_eq!(runs.load(Ordering::SeqCst), 0);
    assert_eq!(captured.drops(), 1);
}

#[test]
fn token_cancelled_while_the_task_is_queued_means_the_closure_never_runs() {
    let pool = ThreadPool::new(1);
    let gate = WorkerGate::close(&pool, 1);
    let token = CancellationToken::new();
    let runs = Arc::new(AtomicUsize::new(0));
    let captured = DropCounter::new();
    let value = captured.track();
    let counter = runs.clone();
    let task = pool.spawn_with_token(&token, move |_| {
        value.touch();
        counter.fetch_add(1, Ordering::SeqCst);
        Ok(1)
    });
    token.cancel();
    gate.open();
    assert!(
        join_guarded("cancelled while queued", task)
            .unwrap_err()
            .is_cancelled()
    );
    pool.shutdown();
    assert_eq!(runs.load(Ordering::SeqCst), 0);
    assert_eq!(captured.drops(), 1);
}

#[test]
fn cancelling_the_parent_token_stops_a_running_task_cooperatively() {
    let pool = ThreadPool::new(2);
    let token = CancellationToken::new();
    let (started, wait_started) = mpsc::channel();
    let task = pool.spawn_with_token(&token, move |own| {
        started.send(()).unwrap();
        while !own.is_cancelled() {
            std::thread::yield_now();
        }
        own.check()?;
        Ok("not reached")
    });
    recv_guarded("the task starts", &wait_started);
    token.cancel();
    assert!(
        join_guarded("parent cancel", task)
            .unwrap_err()
            .is_cancelled()
    );
}

#[test]
fn task_cancel_cancels_its_own_token_not_the_parent() {
    let pool = ThreadPool::new(1);
    let parent = CancellationToken::new();
    let (own_sender, own_receiver) = mpsc::channel();
    let (started, wait_started) = mpsc::channel();
    let task = pool.spawn_with_token(&parent, move |own| {
        own_sender.send(own.clone()).unwrap();
        started.send(()).unwrap();
        while !own.is_cancelled() {
            std::thread::yield_now();
        }
        Err::<(), _>(Cancelled)
    });
    recv_guarded("the task starts", &wait_started);
    let own = recv_guarded("the task's own token", &own_receiver);
    assert!(!own.is_cancelled());
    assert!(!task.cancel());
    assert!(own.is_cancelled());
    assert!(
        !parent.is_cancelled(),
        "Task::cancel must not cancel the parent token"
    );
    assert!(join_guarded("own token", task).unwrap_err().is_cancelled());
}

#[test]
fn closure_returning_err_cancelled_ends_the_task_cancelled() {
    let pool = ThreadPool::new(1);
    let task = pool.spawn_with_token(&CancellationToken::new(), |_| Err::<u32, _>(Cancelled));
    assert!(
        join_guarded("returns Cancelled", task)
            .unwrap_err()
            .is_cancelled()
    );
}

#[test]
fn spawn_with_token_returns_the_value_when_not_cancelled() {
    let pool = ThreadPool::new(2);
    let token = CancellationToken::new();
    let task = pool.spawn_with_token(&token, |own| {
        own.check()?;
        Ok(6 * 7)
    });
    assert_eq!(join_guarded("not cancelled", task).unwrap(), 42);
    assert!(!token.is_cancelled());
}
