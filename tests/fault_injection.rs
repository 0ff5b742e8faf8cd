//! Faults injected where user code meets the pool: a panicking
//! `on_thread_start`, a panicking panic handler, a panicking waker, a
//! panicking continuation, a panicking `Drop` of a captured value and of an
//! output, and a thread that cannot be spawned.
//!
//! Each test pins the documented outcome of one fault, then checks that the
//! pool is still usable (a job, a task and an async task on it all
//! complete) and that nothing leaked: every value is dropped exactly once
//! and, in debug builds, the pool freed every task (`debug_live_tasks`).
//! Run under LeakSanitizer or valgrind (see `.ci/run`), they also show that
//! no memory is left behind.

mod support;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll, Waker};
use support::{
    CountingWaker, DropCounter, HANG_GUARD, PanicLog, Tracked, panic_text, process_threads,
    quiet_panics, recv_guarded, yield_until,
};
use taskpool::{BuildErrorKind, ThreadPool};

/// Every panic these tests raise on purpose starts with this.
const FAULT: &str = "fault:";

/// Hides the messages of the planned panics; prints every other panic.
fn quiet_planned_panics() {
    quiet_panics("starts with FAULT", |info| {
        panic_text(info.payload()).is_some_and(|text| text.starts_with(FAULT))
    });
}

/// A pool of `threads` workers whose panic handler records into `handled`.
fn pool_with_handler(threads: usize, handled: &PanicLog) -> ThreadPool {
    ThreadPool::builder()
        .num_threads(threads)
        .panic_handler(handled.handler())
        .build()
        .expect("the pool starts")
}

/// The pool still runs all three kinds of work, on every worker.
fn assert_usable(pool: &ThreadPool) {
    let (sender, receiver) = std::sync::mpsc::channel();
    for _ in 0..pool.metrics().threads * 4 {
        let sender = sender.clone();
        pool.execute(move || sender.send(()).unwrap());
    }
    for _ in 0..pool.metrics().threads * 4 {
        recv_guarded("a level-1 job ran", &receiver);
    }
    assert_eq!(pool.spawn(|| 6 * 7).join().unwrap(), 42);
    assert_eq!(
        pool.spawn_async(async {
            taskpool::yield_now().await;
            "async"
        })
        .join()
        .unwrap(),
        "async"
    );
}

/// Shuts down and checks that the pool freed every task it allocated.
fn shut_down_without_leaks(pool: ThreadPool) {
    pool.shutdown();
    if let Some(live) = pool.debug_live_tasks() {
        assert_eq!(live, 0, "task allocations left after the pool stopped");
    }
}

// ---------------------------------------------------------------------------
// on_thread_start
// ---------------------------------------------------------------------------

/// Outcome: `build` returns `StartHookPanicked` naming the worker and the
/// message; the workers that did start are stopped and joined before it
/// returns (no thread is left behind), and the hooks' captured values are
/// dropped once. A pool built afterwards works.
#[test]
fn a_panicking_on_thread_start_fails_the_build_and_leaves_no_thread_or_value_behind() {
    quiet_planned_panics();
    let before = process_threads();
    let drops = DropCounter::new();
    let captured_by_start = drops.track();
    let captured_by_stop = drops.track();
    let error = ThreadPool::builder()
        .num_threads(3)
        .on_thread_start(move |index| {
            let _keep = &captured_by_start;
            if index == 1 {
                panic!("{FAULT} worker 1 refuses to start");
            }
        })
        .on_thread_stop(move |_| {
            let _keep = &captured_by_stop;
        })
        .build()
        .expect_err("a start hook panicked");
    match error.kind() {
        BuildErrorKind::StartHookPanicked { index, message } => {
            assert_eq!(*index, 1);
            assert!(message.as_deref().unwrap().contains("refuses to start"));
        }
        other => panic!("unexpected error {other:?}"),
    }
    assert_eq!(
        drops.drops(),
        2,
        "both hooks and what they captured were dropped"
    );
    if let (Some(before), Some(after)) = (before, process_threads()) {
        // Other tests of this binary may start threads meanwhile: only a
        // count above the starting one can be ours.
        assert!(after <= before + 8, "{after} threads now, {before} before");
    }
    let pool = ThreadPool::new(3);
    assert_usable(&pool);
    shut_down_without_leaks(pool);
}

// ---------------------------------------------------------------------------
// The panic handler
// ---------------------------------------------------------------------------

/// Outcome: a panic inside the panic handler is contained and dropped (the
/// docs: "a panic in the handler itself is contained and dropped"); the
/// handler is still called for every later panic, each is counted in the
/// metrics, and no worker dies.
#[test]
fn a_panicking_panic_handler_is_contained_and_called_again_for_every_panic() {
    quiet_planned_panics();
    let calls = Arc::new(AtomicUsize::new(0));
    let counter = calls.clone();
    let pool = ThreadPool::builder()
        .num_threads(2)
        .panic_handler(move |payload| {
            counter.fetch_add(1, Ordering::SeqCst);
            drop(payload);
            panic!("{FAULT} the handler panics too");
        })
        .build()
        .unwrap();
    const PANICS: usize = if cfg!(miri) { 10 } else { 1_000 };
    for _ in 0..PANICS {
        pool.execute(|| panic!("{FAULT} a job panics"));
    }
    // A detached task that panics reaches the handler too.
    drop(pool.spawn(|| panic!("{FAULT} a detached task panics")));
    let joined = pool.spawn(|| -> u32 { panic!("{FAULT} a joined task panics") });
    assert!(
        joined.join().unwrap_err().is_panic(),
        "observed: not the handler's"
    );
    assert_usable(&pool);
    pool.shutdown();
    assert_eq!(calls.load(Ordering::SeqCst), PANICS + 1);
    assert_eq!(pool.metrics().panicked, (PANICS + 1) as u64);
    shut_down_without_leaks(pool);
}

// ---------------------------------------------------------------------------
// Wakers
// ---------------------------------------------------------------------------

/// Outcome: a `Task` awaited with a waker that panics when the task's
/// completion wakes it: the completing worker catches the panic and hands
/// it to the pool's panic handler; the task is complete, and polling it
/// again gives its value. The waker is dropped once.
#[test]
fn a_panicking_waker_of_an_awaited_task_goes_to_the_handler_and_the_value_survives() {
    quiet_planned_panics();
    let handled = PanicLog::default();
    let pool = pool_with_handler(1, &handled);
    let drops = DropCounter::new();
    let (release, gate) = std::sync::mpsc::channel::<()>();
    let mut task = pool.spawn(move || {
        gate.recv().unwrap();
        7
    });
    let waker_state = CountingWaker::panicking("fault: the waker panics", Some(drops.track()));
    let waker = Waker::from(waker_state.clone());
    let mut cx = Context::from_waker(&waker);
    assert!(
        Pin::new(&mut task).poll(&mut cx).is_pending(),
        "registers the waker"
    );
    drop(waker);
    release.send(()).unwrap();
    // Wait without registering another waker (that would replace ours):
    // the completion wakes, and panics in, our waker on the worker.
    yield_until("the task finishes", || task.is_finished());
    let Poll::Ready(value) = Pin::new(&mut task).poll(&mut Context::from_waker(Waker::noop()))
    else {
        panic!("a finished task is ready");
    };
    assert_eq!(value.unwrap(), 7);
    drop(task);
    pool.shutdown();
    assert_eq!(waker_state.wakes(), 1);
    assert_eq!(handled.texts(), ["fault: the waker panics"]);
    drop(waker_state);
    assert_eq!(drops.drops(), 1, "the waker was dropped once");
    shut_down_without_leaks(pool);
}

/// Outcome: an async task that wakes a panicking waker inside its own poll
/// panics itself (the waker runs inside the task's code): `join` returns
/// that panic, and the worker lives on.
#[test]
fn a_panicking_waker_called_inside_an_async_task_panics_that_task_only() {
    quiet_planned_panics();
    let handled = PanicLog::default();
    let pool = pool_with_handler(1, &handled);
    let drops = DropCounter::new();
    let waker = Waker::from(CountingWaker::panicking(
        "fault: the waker panics",
        Some(drops.track()),
    ));
    let task = pool.spawn_async(async move {
        waker.wake_by_ref();
        "unreachable"
    });
    let error = task.join().unwrap_err();
    assert_eq!(error.panic_message(), Some("fault: the waker panics"));
    assert!(
        handled.texts().is_empty(),
        "observed by join: not the handler's"
    );
    assert_eq!(
        drops.drops(),
        1,
        "the future, and the waker in it, dropped once"
    );
    assert_usable(&pool);
    shut_down_without_leaks(pool);
}

// ---------------------------------------------------------------------------
// Continuations
// ---------------------------------------------------------------------------

/// Outcome: a continuation that panics ends its own task panicked: `join`
/// of the continuation returns the panic; a detached one's panic reaches the
/// handler once. The antecedent's value is dropped once either way.
#[test]
fn a_panicking_continuation_ends_its_own_task_panicked() {
    quiet_planned_panics();
    let handled = PanicLog::default();
    let pool = pool_with_handler(2, &handled);
    let drops = DropCounter::new();
    let (first, second) = (drops.track(), drops.track());
    let joined = pool
        .spawn(move || first)
        .then(|_antecedent| -> u32 { panic!("{FAULT} joined continuation") });
    let error = joined.join().unwrap_err();
    assert_eq!(error.panic_message(), Some("fault: joined continuation"));
    drop(
        pool.spawn(move || second)
            .then(|_antecedent| panic!("{FAULT} detached continuation")),
    );
    assert_usable(&pool);
    pool.shutdown();
    assert_eq!(handled.texts(), ["fault: detached continuation"]);
    assert_eq!(drops.drops(), 2);
    shut_down_without_leaks(pool);
}

// ---------------------------------------------------------------------------
// Drop of a captured value
// ---------------------------------------------------------------------------

/// Outcome: a level-1 job whose captured value panics in `Drop` (after the
/// job ran) is a panicking job: the handler gets the panic once, the job
/// counts as executed, the worker lives on.
#[test]
fn a_panicking_drop_of_a_value_captured_by_a_job_goes_to_the_handler() {
    quiet_planned_panics();
    let handled = PanicLog::default();
    let pool = pool_with_handler(1, &handled);
    let drops = DropCounter::new();
    let captured = drops.track_panicking_with("fault: captured by a job");
    let ran = Arc::new(AtomicUsize::new(0));
    let ran_in_job = ran.clone();
    pool.execute(move || {
        let _captured = captured;
        ran_in_job.fetch_add(1, Ordering::SeqCst);
    });
    assert_usable(&pool);
    pool.shutdown();
    assert_eq!(ran.load(Ordering::SeqCst), 1);
    assert_eq!(drops.drops(), 1);
    assert_eq!(handled.texts(), ["fault: captured by a job"]);
    assert_eq!(pool.metrics().panicked, 1);
    shut_down_without_leaks(pool);
}

/// Outcome: a task whose closure ran but whose captured value panics in
/// `Drop` at the end of the closure ends panicked (the closure did not
/// return normally): `join` gives that panic. (The closure returns a plain
/// number here: a value with a `Drop` that a closure returns while one of
/// its locals panics in `Drop` is leaked by the language itself,
/// rust-lang/rust#47949, whatever the pool does.)
#[test]
fn a_panicking_drop_of_a_value_captured_by_a_task_that_ran_panics_the_task() {
    quiet_planned_panics();
    let handled = PanicLog::default();
    let pool = pool_with_handler(1, &handled);
    let drops = DropCounter::new();
    let captured = drops.track_panicking_with("fault: captured by a task");
    let task = pool.spawn(move || {
        let _captured = captured;
        7
    });
    let error = task.join().expect_err("the task panicked");
    assert_eq!(error.panic_message(), Some("fault: captured by a task"));
    assert_eq!(drops.drops(), 1);
    assert!(handled.texts().is_empty(), "observed by join");
    assert_usable(&pool);
    shut_down_without_leaks(pool);
}

/// Outcome: a task cancelled before it ran drops its closure on the
/// cancelling thread; a panic in a captured value's `Drop` there goes to the
/// pool's handler, and the task still reports cancelled.
#[test]
fn a_panicking_drop_of_a_value_captured_by_a_cancelled_task_goes_to_the_handler() {
    quiet_planned_panics();
    let handled = PanicLog::default();
    let pool = pool_with_handler(1, &handled);
    let drops = DropCounter::new();
    let (release, gate) = std::sync::mpsc::channel::<()>();
    let blocker = pool.spawn(move || gate.recv().unwrap());
    let captured = drops.track_panicking_with("fault: captured by a cancelled task");
    let queued = pool.spawn(move || {
        let _captured = captured;
    });
    assert!(queued.cancel(), "still queued behind the blocker");
    assert!(queued.join().unwrap_err().is_cancelled());
    release.send(()).unwrap();
    blocker.join().unwrap();
    assert_eq!(drops.drops(), 1);
    assert_eq!(handled.texts(), ["fault: captured by a cancelled task"]);
    assert_usable(&pool);
    shut_down_without_leaks(pool);
}

/// A future that is ready at once and panics when it is dropped.
struct ReadyThenPanicOnDrop {
    _dropped: Tracked,
}

impl Future for ReadyThenPanicOnDrop {
    type Output = u32;

    fn poll(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<u32> {
        Poll::Ready(5)
    }
}

/// Outcome: a future whose own `Drop` panics after it resolved (the pool
/// drops it after `Ready`): the value is kept (`join` gives it) and the
/// `Drop`'s panic goes to the handler.
#[test]
fn a_panicking_drop_of_a_resolved_future_keeps_the_value_and_goes_to_the_handler() {
    quiet_planned_panics();
    let handled = PanicLog::default();
    let pool = pool_with_handler(1, &handled);
    let drops = DropCounter::new();
    let task = pool.spawn_async(ReadyThenPanicOnDrop {
        _dropped: drops.track_panicking_with("fault: a future's drop"),
    });
    assert_eq!(task.join().unwrap(), 5);
    pool.shutdown();
    assert_eq!(drops.drops(), 1);
    assert_eq!(handled.texts(), ["fault: a future's drop"]);
    shut_down_without_leaks(pool);
}

/// Outcome: an `async` block drops what it captured when it finishes,
/// inside its last poll: a panic in such a `Drop` is a panic of the task,
/// which `join` returns.
#[test]
fn a_panicking_drop_of_a_value_captured_by_an_async_block_panics_the_task() {
    quiet_planned_panics();
    let handled = PanicLog::default();
    let pool = pool_with_handler(1, &handled);
    let drops = DropCounter::new();
    let held = drops.track_panicking_with("fault: held by an async block");
    let task = pool.spawn_async(async move {
        let _held = held;
        taskpool::yield_now().await;
        5
    });
    let error = task.join().unwrap_err();
    assert_eq!(error.panic_message(), Some("fault: held by an async block"));
    assert_eq!(drops.drops(), 1);
    assert!(handled.texts().is_empty(), "observed by join");
    assert_usable(&pool);
    shut_down_without_leaks(pool);
}

// ---------------------------------------------------------------------------
// Drop of an output
// ---------------------------------------------------------------------------

/// Outcome: an output nobody reads is dropped by the pool (a detached
/// task) or by the dropping handle (a handle dropped after completion); a
/// panic in its `Drop` goes to the handler, once each.
#[test]
fn a_panicking_drop_of_an_unread_output_goes_to_the_handler_once() {
    quiet_planned_panics();
    let handled = PanicLog::default();
    let pool = pool_with_handler(1, &handled);
    let drops = DropCounter::new();
    // Detached before completion: the completing worker drops the output.
    let (release, gate) = std::sync::mpsc::channel::<()>();
    let detached_output = drops.track_panicking_with("fault: detached output");
    drop(pool.spawn(move || {
        gate.recv().unwrap();
        detached_output
    }));
    release.send(()).unwrap();
    // Dropped after completion: the handle drops the output.
    let late_output = drops.track_panicking_with("fault: output of a handle dropped late");
    let mut late = pool.spawn(move || late_output);
    assert!(late.wait_timeout(HANG_GUARD));
    drop(late);
    // Async, detached.
    let async_output = drops.track_panicking_with("fault: detached async output");
    drop(pool.spawn_async(async move { async_output }));
    assert_usable(&pool);
    pool.shutdown();
    assert_eq!(drops.drops(), 3);
    let mut messages = handled.texts();
    messages.sort();
    assert_eq!(
        messages,
        [
            "fault: detached async output",
            "fault: detached output",
            "fault: output of a handle dropped late",
        ]
    );
    shut_down_without_leaks(pool);
}

/// Outcome: a joined output belongs to the caller: its `Drop` panics on the
/// caller's thread, when the caller drops it; the pool has nothing to do
/// with it and stays usable.
#[test]
fn a_joined_output_whose_drop_panics_panics_in_the_caller_only() {
    quiet_planned_panics();
    let handled = PanicLog::default();
    let pool = pool_with_handler(1, &handled);
    let drops = DropCounter::new();
    let output = drops.track_panicking_with("fault: joined output");
    let value = pool.spawn(move || output).join().unwrap();
    let dropped = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| drop(value)));
    assert!(dropped.is_err());
    assert_eq!(drops.drops(), 1);
    assert_usable(&pool);
    pool.shutdown();
    assert!(handled.texts().is_empty());
    shut_down_without_leaks(pool);
}

// ---------------------------------------------------------------------------
// Thread spawn
// ---------------------------------------------------------------------------

/// Outcome: a thread the system refuses (here: a stack it cannot map) makes
/// `build` return `ThreadSpawn` with the OS error, for the first worker;
/// nothing is left running and the builder's closures are dropped. (A
/// refusal after some workers started: `fault_thread_spawn.rs`.)
#[test]
#[cfg_attr(miri, ignore = "Miri does not model a failing thread spawn")]
fn a_thread_the_system_refuses_fails_the_build_with_the_os_error() {
    let drops = DropCounter::new();
    let captured = drops.track();
    let error = ThreadPool::builder()
        .num_threads(2)
        .stack_size(usize::MAX / 2)
        .on_thread_start(move |_| {
            let _keep = &captured;
        })
        .build()
        .expect_err("no thread with that stack");
    assert!(
        matches!(error.kind(), BuildErrorKind::ThreadSpawn { index: 0, .. }),
        "{error:?}"
    );
    assert_eq!(drops.drops(), 1, "the builder's hook was dropped");
    let pool = ThreadPool::new(2);
    assert_usable(&pool);
    shut_down_without_leaks(pool);
}
