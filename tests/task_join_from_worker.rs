//! Blocking `join` (and `block_on`) on a worker thread never deadlocks a
//! pool whose work can finish: a not-started target runs inline, otherwise
//! the waiting worker helps with queued work or parks.

mod support;

use std::time::Duration;
use support::{join_guarded, size};
use taskpool::ThreadPool;

/// Each level spawns its child on the current worker's pool and joins it.
fn nest(depth: usize) -> usize {
    if depth == 0 {
        return 0;
    }
    let child = taskpool::spawn(move || nest(depth - 1));
    child.join().expect("the child task") + 1
}

/// Like [`nest`], but returns the address of a local of the deepest level,
/// to measure the stack a level of nested join takes.
fn nest_measuring(depth: usize) -> usize {
    let here = 0_u8;
    if depth == 0 {
        return std::hint::black_box(&here) as *const u8 as usize;
    }
    let child = taskpool::spawn(move || nest_measuring(depth - 1));
    let deepest = child.join().expect("the child task");
    std::hint::black_box(&here);
    deepest
}

#[test]
fn one_thread_pool_recursive_spawn_and_join_1000_levels_deep_completes() {
    let pool = ThreadPool::new(1);
    let depth = size(1_000, 20);
    let root = pool.spawn(move || nest(depth));
    assert_eq!(join_guarded("1000 nested joins", root).unwrap(), depth);
}

#[test]
fn ten_thousand_spawn_and_join_iterations_inside_one_task_complete() {
    let pool = ThreadPool::new(1);
    let iterations = size(10_000, 50);
    let root = pool.spawn(move || {
        let mut sum = 0_usize;
        for i in 0..iterations {
            sum += taskpool::spawn(move || i).join().unwrap();
        }
        sum
    });
    assert_eq!(
        join_guarded("10,000 sequential joins", root).unwrap(),
        iterations * (iterations - 1) / 2
    );
}

#[test]
fn one_thread_pool_recursive_spawn_and_join_10000_levels_deep_completes_on_a_large_stack() {
    let pool = ThreadPool::builder()
        .num_threads(1)
        .stack_size(256 << 20)
        .build()
        .unwrap();
    let depth = size(10_000, 20);
    let root = pool.spawn(move || nest(depth));
    assert_eq!(join_guarded("10,000 nested joins", root).unwrap(), depth);

    // Not an assertion: what one level of nested join costs in stack, to
    // size `stack_size` for deep recursion (printed with --nocapture).
    let root = pool.spawn(move || {
        let top = 0_u8;
        let top = std::hint::black_box(&top) as *const u8 as usize;
        let deepest = nest_measuring(depth);
        top.abs_diff(deepest)
    });
    let used = join_guarded("measure the stack", root).unwrap();
    println!(
        "nested spawn+join: {} bytes of stack per level ({depth} levels: {} KiB)",
        used / depth,
        used / 1024
    );
}

#[test]
fn two_thread_pool_recursive_spawn_and_join_completes() {
    let pool = ThreadPool::new(2);
    let depth = size(1_000, 20);
    let root = pool.spawn(move || nest(depth));
    assert_eq!(
        join_guarded("nested joins on 2 threads", root).unwrap(),
        depth
    );
}

#[test]
fn joining_an_async_task_that_awaits_a_sleep_from_a_worker_of_a_one_thread_pool_completes() {
    let pool = ThreadPool::new(1);
    let root = pool.spawn(|| {
        let child = taskpool::spawn_async(async {
            taskpool::sleep(Duration::from_millis(5)).await;
            "slept"
        });
        // An async task cannot run inline: the worker must wait (or help)
        // until the timer wakes the child and someone polls it.
        child.join().unwrap()
    });
    assert_eq!(join_guarded("join an async child", root).unwrap(), "slept");
}

#[test]
fn block_on_a_task_queued_on_the_same_one_thread_pool_from_a_worker_completes() {
    let pool = ThreadPool::new(1);
    let root = pool.spawn(|| {
        let queued = taskpool::spawn(|| 21);
        let queued_async = taskpool::spawn_async(async {
            taskpool::yield_now().await;
            2
        });
        taskpool::block_on(queued).unwrap() * taskpool::block_on(queued_async).unwrap()
    });
    assert_eq!(join_guarded("block_on on a worker", root).unwrap(), 42);
}

#[test]
fn joining_a_task_running_on_another_worker_from_a_worker_completes() {
    let pool = ThreadPool::new(2);
    let (started, wait_started) = std::sync::mpsc::channel();
    let (release, gate) = std::sync::mpsc::channel::<()>();
    let busy = pool.spawn(move || {
        started.send(()).unwrap();
        gate.recv().unwrap();
        7
    });
    support::recv_guarded("the busy task starts", &wait_started);
    // The joiner runs on the other worker; the target is already running,
    // so it cannot be inlined: the joiner must park until it ends.
    let joiner = pool.spawn(move || busy.join().unwrap() * 6);
    std::thread::sleep(Duration::from_millis(10));
    release.send(()).unwrap();
    assert_eq!(join_guarded("join a running task", joiner).unwrap(), 42);
}

#[test]
fn joining_a_task_of_another_pool_from_a_worker_completes() {
    let first = ThreadPool::new(1);
    let second = std::sync::Arc::new(ThreadPool::new(1));
    let other = second.clone();
    let root = first.spawn(move || other.spawn(|| 40).join().unwrap() + 2);
    assert_eq!(join_guarded("cross-pool join", root).unwrap(), 42);
}

#[test]
fn a_child_panic_joined_inline_on_a_worker_is_returned_by_join() {
    let (pool, log) = support::pool_with_panic_log(1);
    let root = pool.spawn(|| {
        let child = taskpool::spawn(|| -> u32 { panic!("{}: inline child", support::EXPECTED) });
        let error = child.join().unwrap_err();
        error.panic_message().map(str::to_owned)
    });
    assert_eq!(
        join_guarded("inline panic", root).unwrap().as_deref(),
        Some("expected panic: inline child")
    );
    pool.shutdown();
    assert_eq!(log.count(), 0, "the joined panic was observed");
}

#[test]
fn a_child_joined_inline_is_not_counted_as_executed() {
    // `Metrics::executed`: "A task joined before it started runs inline on
    // the joining thread and is not counted here."
    let pool = ThreadPool::new(1);
    let children = 10;
    let root = pool.spawn(move || {
        (0..children)
            .map(|i| taskpool::spawn(move || i).join().unwrap())
            .sum::<u32>()
    });
    assert_eq!(join_guarded("inline children", root).unwrap(), 45);
    pool.shutdown();
    assert_eq!(
        pool.metrics().executed,
        1,
        "only the root ran from a queue; its {children} children ran inline"
    );
}

#[test]
fn a_child_cancelled_before_its_parent_joins_it_on_a_worker_reports_cancelled() {
    let pool = ThreadPool::new(1);
    let root = pool.spawn(|| {
        let ran = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = ran.clone();
        let child = taskpool::spawn(move || flag.store(true, std::sync::atomic::Ordering::SeqCst));
        let cancelled = child.cancel();
        let result = child.join();
        (
            cancelled,
            result.unwrap_err().is_cancelled(),
            ran.load(std::sync::atomic::Ordering::SeqCst),
        )
    });
    assert_eq!(
        join_guarded("cancelled child", root).unwrap(),
        (true, true, false)
    );
}

/// A worker that joins the child it spawned last takes its queue entry back
/// and, being its only user, runs it with no state transition: what the
/// closure captured is dropped once, and the value reaches the joiner.
#[test]
fn a_child_joined_right_after_spawn_drops_its_captures_once_and_returns_its_value() {
    let pool = ThreadPool::new(1);
    let captured = std::sync::Arc::new(());
    let in_root = captured.clone();
    let root = pool.spawn(move || {
        let child = taskpool::spawn(move || {
            let held = in_root;
            vec![std::sync::Arc::strong_count(&held); 3]
        });
        child.join().unwrap()
    });
    assert_eq!(join_guarded("joined after spawn", root).unwrap(), [2, 2, 2]);
    assert_eq!(
        std::sync::Arc::strong_count(&captured),
        1,
        "a capture leaked"
    );
    pool.shutdown();
    if let Some(live) = pool.debug_live_tasks() {
        assert_eq!(live, 0, "a task was never freed");
    }
}

/// A live `CancelHandle` is a second user of the child: the joiner that takes
/// the entry back runs it through the state machine, and a cancel after the
/// join finds it complete.
#[test]
fn a_child_with_a_live_cancel_handle_joined_right_after_spawn_completes() {
    let pool = ThreadPool::new(1);
    let root = pool.spawn(|| {
        let child = taskpool::spawn(|| 7);
        let handle = child.cancel_handle();
        let value = child.join().unwrap();
        (value, handle.cancel())
    });
    assert_eq!(join_guarded("cancel handle", root).unwrap(), (7, false));
}

/// A child that ends itself cancelled (its own token, cancelled while it
/// runs) reports cancelled through the joiner's take-back too, and one that
/// checks an uncancelled token returns its value.
#[test]
fn a_child_with_a_token_joined_right_after_spawn_reports_how_it_ended() {
    let pool = std::sync::Arc::new(ThreadPool::new(1));
    let same = pool.clone();
    let root = pool.spawn(move || {
        let token = taskpool::CancellationToken::new();
        let kept = same.spawn_with_token(&token, |own| own.check().map(|()| 7));
        let kept = kept.join().unwrap();
        let trigger = token.clone();
        let ended = same.spawn_with_token(&token, move |own| {
            trigger.cancel();
            own.check().map(|()| 7)
        });
        (kept, ended.join().unwrap_err().is_cancelled())
    });
    assert_eq!(join_guarded("token", root).unwrap(), (7, true));
}

/// Runs `f` as a task on a new one-thread pool and returns its value. On a
/// hang, the pool and the task are leaked (dropping the pool would wait for
/// the stuck worker forever) and the test fails.
fn on_one_thread_pool<T: Send + 'static>(what: &str, f: impl FnOnce() -> T + Send + 'static) -> T {
    let pool = ThreadPool::new(1);
    let mut root = pool.spawn(f);
    if !root.wait_timeout(support::HANG_GUARD) {
        std::mem::forget(root);
        std::mem::forget(pool);
        panic!("hang: {what}");
    }
    root.join().unwrap()
}

#[test]
fn joining_a_when_all_of_queued_children_from_a_worker_of_a_one_thread_pool_completes() {
    let values = on_one_thread_pool("join a when_all from a worker", || {
        let children = (0..2).map(|i| taskpool::spawn(move || i));
        taskpool::when_all(children).join().unwrap()
    });
    assert_eq!(values, [0, 1]);
}

#[test]
fn joining_a_when_any_of_queued_children_from_a_worker_of_a_one_thread_pool_completes() {
    let (index, value) = on_one_thread_pool("join a when_any from a worker", || {
        let children = (0..2).map(|i| taskpool::spawn(move || i));
        let (index, result) = taskpool::when_any(children).join().unwrap();
        (index, result.unwrap())
    });
    assert_eq!(index, value);
}

#[test]
fn block_on_a_when_all_of_queued_children_from_a_worker_of_a_one_thread_pool_completes() {
    let values = on_one_thread_pool("block_on a when_all from a worker", || {
        let children = (0..2).map(|i| taskpool::spawn(move || i));
        taskpool::block_on(taskpool::when_all(children)).unwrap()
    });
    assert_eq!(values, [0, 1]);
}
