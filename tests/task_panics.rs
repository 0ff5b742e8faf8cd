//! Panics in tasks: returned by `join` when someone joins, sent to the panic
//! handler exactly once when nobody does, contained when they come from an
//! output's `Drop` or a continuation; none of them kills a worker.

mod support;

use std::sync::mpsc;
use support::{
    DropCounter, EXPECTED, WorkerGate, join_guarded, pool_with_panic_log, quiet_expected_panics,
    wait_until,
};
use taskpool::ThreadPool;

/// The pool still runs new work: a dead worker on a one-thread pool would
/// hang this (the hang guard turns that into a failure).
fn assert_pool_alive(pool: &ThreadPool) {
    assert_eq!(
        join_guarded("a task after the panics", pool.spawn(|| 5)).unwrap(),
        5
    );
}

#[derive(Debug, PartialEq)]
struct CustomPayload(u32);

#[test]
fn panic_message_reaches_join_for_str_and_string_payloads() {
    let (pool, log) = pool_with_panic_log(1);
    let error = join_guarded(
        "str panic",
        pool.spawn(|| -> u32 { panic!("{EXPECTED}: static text") }),
    )
    .unwrap_err();
    assert!(error.is_panic());
    assert!(!error.is_cancelled());
    // `panic!` with arguments makes a `String` payload, without a `&str`.
    let formatted = join_guarded(
        "String panic",
        pool.spawn(|| -> u32 { panic!("{EXPECTED}: code {}", 42) }),
    )
    .unwrap_err();
    assert_eq!(formatted.panic_message(), Some("expected panic: code 42"));
    assert_eq!(
        formatted.to_string(),
        "task panicked: expected panic: code 42"
    );
    let payload = formatted.into_panic();
    assert_eq!(
        payload.downcast_ref::<String>().map(String::as_str),
        Some("expected panic: code 42")
    );

    let literal = join_guarded(
        "literal panic",
        pool.spawn(|| -> u32 { std::panic::panic_any("expected panic: literal") }),
    )
    .unwrap_err();
    assert_eq!(literal.panic_message(), Some("expected panic: literal"));
    assert_eq!(
        literal.into_panic().downcast_ref::<&str>(),
        Some(&"expected panic: literal")
    );
    // Joined panics are observed: none reaches the handler.
    assert_eq!(log.count(), 0);
    assert_eq!(pool.metrics().panicked, 0);
    assert_pool_alive(&pool);
}

#[test]
fn panic_payload_of_any_type_downcasts_after_join() {
    quiet_expected_panics();
    let pool = ThreadPool::new(1);
    let error = join_guarded(
        "custom payload",
        pool.spawn(|| std::panic::panic_any(CustomPayload(7))),
    )
    .unwrap_err();
    assert!(error.is_panic());
    assert_eq!(error.panic_message(), None);
    assert_eq!(error.to_string(), "task panicked");
    let payload = error.try_into_panic().expect("a panic, not a cancellation");
    assert_eq!(
        payload.downcast_ref::<CustomPayload>(),
        Some(&CustomPayload(7))
    );
}

#[test]
fn try_into_panic_of_a_cancelled_task_gives_the_error_back() {
    let pool = ThreadPool::new(1);
    let gate = WorkerGate::close(&pool, 1);
    let task = pool.spawn(|| 1);
    assert!(task.cancel());
    gate.open();
    let error = join_guarded("cancelled", task).unwrap_err();
    assert_eq!(error.panic_message(), None);
    assert_eq!(error.to_string(), "task was cancelled");
    let error = error.try_into_panic().unwrap_err();
    assert!(error.is_cancelled());
    let unwound = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| error.into_panic()));
    assert!(unwound.is_err(), "into_panic of a cancellation must panic");
}

#[test]
fn task_error_is_a_std_error() {
    quiet_expected_panics();
    let pool = ThreadPool::new(1);
    let error = join_guarded(
        "panic",
        pool.spawn(|| -> () { panic!("{EXPECTED}: as error") }),
    )
    .unwrap_err();
    let boxed: Box<dyn std::error::Error + Send> = Box::new(error);
    assert_eq!(boxed.to_string(), "task panicked: expected panic: as error");
    assert!(format!("{boxed:?}").contains("as error"));
}

#[test]
fn unobserved_panic_of_a_task_dropped_before_completion_reaches_the_handler_once() {
    let (pool, log) = pool_with_panic_log(1);
    let (release, gate) = mpsc::channel::<()>();
    let task = pool.spawn(move || -> u32 {
        gate.recv().unwrap();
        panic!("{EXPECTED}: detached early")
    });
    drop(task);
    release.send(()).unwrap();
    log.wait_for(1);
    pool.shutdown();
    assert_eq!(
        log.messages(),
        [Some("expected panic: detached early".to_string())]
    );
    assert_eq!(pool.metrics().panicked, 1);
}

#[test]
fn unobserved_panic_of_a_task_dropped_after_completion_reaches_the_handler_once() {
    let (pool, log) = pool_with_panic_log(1);
    let mut task = pool.spawn(|| -> u32 { panic!("{EXPECTED}: detached late") });
    assert!(task.wait_timeout(support::HANG_GUARD));
    // Finished, but nobody looked at it yet: nothing reported so far.
    assert_eq!(log.count(), 0);
    drop(task);
    assert_eq!(log.count(), 1, "reported synchronously by the drop");
    pool.shutdown();
    assert_eq!(
        log.messages(),
        [Some("expected panic: detached late".to_string())]
    );
    assert_eq!(pool.metrics().panicked, 1);
}

#[test]
fn many_unobserved_panics_are_each_reported_exactly_once() {
    let (pool, log) = pool_with_panic_log(2);
    let count = support::size(1_000, 20);
    for index in 0..count {
        let task = pool.spawn(move || -> usize { panic!("{EXPECTED}: {index}") });
        if index % 2 == 0 {
            drop(task);
        } else {
            let mut task = task;
            assert!(task.wait_timeout(support::HANG_GUARD));
            drop(task);
        }
    }
    pool.shutdown();
    let mut seen: Vec<usize> = log
        .messages()
        .into_iter()
        .map(|text| text.unwrap().rsplit(' ').next().unwrap().parse().unwrap())
        .collect();
    seen.sort_unstable();
    assert_eq!(
        seen,
        (0..count).collect::<Vec<_>>(),
        "each panic exactly once"
    );
    assert_eq!(pool.metrics().panicked, count as u64);
}

#[test]
fn panic_in_the_output_drop_of_a_task_dropped_after_completion_reaches_the_handler() {
    let (pool, log) = pool_with_panic_log(1);
    let outputs = DropCounter::new();
    let make = outputs.clone();
    let mut task = pool.spawn(move || make.track_panicking());
    assert!(task.wait_timeout(support::HANG_GUARD));
    drop(task); // drops the output here, on this thread: its panic is contained
    assert_eq!(outputs.made(), 1);
    assert_eq!(outputs.drops(), 1);
    assert_eq!(
        log.messages(),
        [Some("expected panic: in Tracked::drop".to_string())]
    );
    assert_eq!(pool.metrics().panicked, 1);
    assert_pool_alive(&pool);
}

#[test]
fn panic_in_the_output_drop_of_a_task_detached_before_completion_reaches_the_handler() {
    let (pool, log) = pool_with_panic_log(1);
    let outputs = DropCounter::new();
    let make = outputs.clone();
    let (release, gate) = mpsc::channel::<()>();
    let task = pool.spawn(move || {
        gate.recv().unwrap();
        make.track_panicking()
    });
    drop(task);
    release.send(()).unwrap();
    log.wait_for(1);
    assert_pool_alive(&pool);
    pool.shutdown();
    assert_eq!(outputs.made(), 1);
    assert_eq!(outputs.drops(), 1);
    assert_eq!(
        log.messages(),
        [Some("expected panic: in Tracked::drop".to_string())]
    );
    assert_eq!(pool.metrics().panicked, 1);
}

#[test]
fn panic_in_a_captured_value_drop_of_a_cancelled_task_reaches_the_handler() {
    let (pool, log) = pool_with_panic_log(1);
    let captured = DropCounter::new();
    let value = captured.track_panicking();
    let gate = WorkerGate::close(&pool, 1);
    let task = pool.spawn(move || value.touch());
    assert!(task.cancel(), "queued behind the gate: never started");
    assert!(join_guarded("cancelled", task).unwrap_err().is_cancelled());
    assert_eq!(captured.drops(), 1);
    assert_eq!(log.count(), 1);
    gate.open();
    assert_pool_alive(&pool);
}

#[test]
fn panic_in_a_continuation_is_returned_by_the_continuation_join() {
    let (pool, log) = pool_with_panic_log(1);
    let continuation = pool
        .spawn(|| 20)
        .then(|result| -> u32 { panic!("{EXPECTED}: in then after {}", result.unwrap()) });
    let error = join_guarded("continuation", continuation).unwrap_err();
    assert_eq!(
        error.panic_message(),
        Some("expected panic: in then after 20")
    );
    assert_eq!(log.count(), 0, "a joined continuation panic is observed");
    assert_pool_alive(&pool);
}

#[test]
fn panic_in_a_detached_continuation_reaches_the_handler_once() {
    let (pool, log) = pool_with_panic_log(1);
    let continuation = pool
        .spawn(|| 1)
        .then(|_| -> u32 { panic!("{EXPECTED}: detached then") });
    drop(continuation);
    log.wait_for(1);
    pool.shutdown();
    assert_eq!(
        log.messages(),
        [Some("expected panic: detached then".to_string())]
    );
    assert_eq!(pool.metrics().panicked, 1);
}

#[test]
fn a_continuation_observes_the_antecedent_panic_so_the_handler_does_not() {
    let (pool, log) = pool_with_panic_log(1);
    let continuation = pool
        .spawn(|| -> u32 { panic!("{EXPECTED}: antecedent") })
        .then(|result| result.unwrap_err().panic_message().map(str::to_owned));
    assert_eq!(
        join_guarded("continuation", continuation)
            .unwrap()
            .as_deref(),
        Some("expected panic: antecedent")
    );
    pool.shutdown();
    assert_eq!(log.count(), 0);
    assert_eq!(pool.metrics().panicked, 0);
}

#[test]
fn panicking_tasks_never_kill_a_worker_of_a_one_thread_pool() {
    let (pool, log) = pool_with_panic_log(1);
    for round in 0..support::size(200, 10) {
        let joined = pool.spawn(move || -> u32 { panic!("{EXPECTED}: joined {round}") });
        assert!(join_guarded("joined panic", joined).unwrap_err().is_panic());
        drop(pool.spawn(move || -> u32 { panic!("{EXPECTED}: detached {round}") }));
        assert_eq!(
            join_guarded("a normal task", pool.spawn(move || round)).unwrap(),
            round
        );
    }
    let rounds = support::size(200, 10);
    wait_until("every detached panic reported", || log.count() == rounds);
    pool.shutdown();
    assert_eq!(log.count(), rounds);
    assert_eq!(pool.metrics().panicked, rounds as u64);
}
