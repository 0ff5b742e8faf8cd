//! `Task::then`: continuations that get the antecedent's result, run on the
//! pool when it ends and hold no thread meanwhile.

mod support;

use std::sync::mpsc;
use support::{DropCounter, WorkerGate, join_guarded, size};
use taskpool::ThreadPool;

#[test]
fn then_chain_of_10000_gives_the_right_value_without_stack_overflow() {
    let pool = ThreadPool::new(2);
    let length = size(10_000, 50);
    let mut task = pool.spawn(|| 0_u64);
    for _ in 0..length {
        task = task.then(|result| result.unwrap() + 1);
    }
    assert_eq!(
        join_guarded("a long then chain", task).unwrap(),
        length as u64
    );
}

#[test]
fn then_chain_built_while_the_pool_is_blocked_completes_in_order() {
    // The whole chain exists before its first task runs: completing it must
    // hand on from link to link without recursion.
    let pool = ThreadPool::new(1);
    let gate = WorkerGate::close(&pool, 1);
    let length = size(10_000, 50);
    let mut task = pool.spawn(Vec::<usize>::new);
    for index in 0..length {
        task = task.then(move |result| {
            let mut seen = result.unwrap();
            seen.push(index);
            seen
        });
    }
    gate.open();
    let seen = join_guarded("a blocked then chain", task).unwrap();
    assert_eq!(seen, (0..length).collect::<Vec<_>>());
}

#[test]
fn then_receives_the_antecedent_value_panic_or_cancellation() {
    support::quiet_expected_panics();
    let pool = ThreadPool::new(1);
    let value = pool.spawn(|| 20).then(|result| result.map(|v| v + 1).ok());
    assert_eq!(join_guarded("value", value).unwrap(), Some(21));

    let panicked = pool
        .spawn(|| -> u32 { panic!("{}: antecedent", support::EXPECTED) })
        .then(|result| {
            let error = result.unwrap_err();
            (error.is_panic(), error.panic_message().map(str::to_owned))
        });
    assert_eq!(
        join_guarded("panic", panicked).unwrap(),
        (true, Some("expected panic: antecedent".to_string()))
    );

    let gate = WorkerGate::close(&pool, 1);
    let antecedent = pool.spawn(|| 1);
    assert!(antecedent.cancel());
    let cancelled = antecedent.then(|result| result.unwrap_err().is_cancelled());
    gate.open();
    assert!(join_guarded("cancelled", cancelled).unwrap());
}

#[test]
fn then_does_not_run_before_the_antecedent_ends() {
    let pool = ThreadPool::new(2);
    let (release, gate) = mpsc::channel::<()>();
    let (ran, continuation_ran) = mpsc::channel::<()>();
    let continuation = pool
        .spawn(move || gate.recv().unwrap())
        .then(move |_| ran.send(()).unwrap());
    assert!(continuation_ran.try_recv().is_err());
    release.send(()).unwrap();
    join_guarded("continuation", continuation).unwrap();
    continuation_ran
        .try_recv()
        .expect("ran once the antecedent ended");
}

#[test]
fn then_drops_the_antecedent_output_and_its_own_closure_exactly_once() {
    let pool = ThreadPool::new(2);
    let outputs = DropCounter::new();
    let captured = DropCounter::new();
    let make = outputs.clone();
    let value = captured.track();
    let continuation = pool.spawn(move || make.track()).then(move |result| {
        value.touch();
        drop(result.unwrap());
        3
    });
    assert_eq!(join_guarded("continuation", continuation).unwrap(), 3);
    pool.shutdown();
    assert_eq!((outputs.made(), outputs.drops()), (1, 1));
    assert_eq!((captured.made(), captured.drops()), (1, 1));
}

#[test]
fn then_of_a_detached_chain_still_runs_every_link() {
    let pool = ThreadPool::new(2);
    let (done, all_done) = mpsc::channel();
    let length = size(1_000, 20);
    let mut task = pool.spawn(|| 0_usize);
    for _ in 0..length {
        task = task.then(|result| result.unwrap() + 1);
    }
    drop(task.then(move |result| done.send(result.unwrap()).unwrap()));
    assert_eq!(
        support::recv_guarded("the detached chain ends", &all_done),
        length
    );
}
