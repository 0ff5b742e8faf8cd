//! Panics in async tasks: a panic while polling is returned by `join`; a
//! waker that panics, or a future whose `Drop` panics, is contained and goes
//! to the panic handler; no worker dies.

mod support;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::mpsc;
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;
use support::{
    CountingWaker, DropCounter, EXPECTED, HANG_GUARD, join_guarded, pool_with_panic_log,
    recv_guarded, wait_until,
};
use taskpool::{ThreadPool, sleep, yield_now};

fn assert_pool_alive(pool: &ThreadPool) {
    assert_eq!(
        join_guarded("a task after the panic", pool.spawn(|| 9)).unwrap(),
        9
    );
    let polled = pool.spawn_async(async {
        yield_now().await;
        10
    });
    assert_eq!(
        join_guarded("an async task after the panic", polled).unwrap(),
        10
    );
}

#[test]
fn a_panic_in_the_first_poll_is_returned_by_join() {
    let (pool, log) = pool_with_panic_log(1);
    let task = pool.spawn_async(async {
        if true {
            panic!("{EXPECTED}: first poll");
        }
        1_u32
    });
    let error = join_guarded("first poll panics", task).unwrap_err();
    assert_eq!(error.panic_message(), Some("expected panic: first poll"));
    assert_eq!(log.count(), 0);
    assert_pool_alive(&pool);
}

#[test]
fn a_panic_after_an_await_is_returned_by_join_and_the_locals_are_dropped_once() {
    let (pool, log) = pool_with_panic_log(1);
    let locals = DropCounter::new();
    let held = locals.track();
    let task = pool.spawn_async(async move {
        let _held = held;
        sleep(Duration::from_millis(1)).await;
        yield_now().await;
        if true {
            panic!("{EXPECTED}: after await");
        }
    });
    let error = join_guarded("panic after await", task).unwrap_err();
    assert_eq!(error.panic_message(), Some("expected panic: after await"));
    assert_eq!(locals.drops(), 1);
    assert_eq!(log.count(), 0);
    assert_pool_alive(&pool);
}

#[test]
fn a_panic_in_a_detached_async_task_reaches_the_handler_once() {
    let (pool, log) = pool_with_panic_log(1);
    drop(pool.spawn_async(async {
        yield_now().await;
        panic!("{EXPECTED}: detached async")
    }));
    log.wait_for(1);
    assert_pool_alive(&pool);
    pool.shutdown();
    assert_eq!(
        log.messages(),
        [Some("expected panic: detached async".to_string())]
    );
    assert_eq!(pool.metrics().panicked, 1);
}

#[test]
fn a_panicking_drop_of_a_future_cancelled_at_its_await_reaches_the_handler() {
    let (pool, log) = pool_with_panic_log(1);
    let locals = DropCounter::new();
    let held = locals.track_panicking();
    let (asleep, wait_asleep) = mpsc::channel();
    let task = pool.spawn_async(async move {
        let _held = held;
        asleep.send(()).unwrap();
        sleep(Duration::from_secs(3600)).await;
    });
    recv_guarded("the task reaches its await", &wait_asleep);
    task.cancel();
    assert!(join_guarded("cancelled", task).unwrap_err().is_cancelled());
    assert_eq!(locals.drops(), 1);
    assert_eq!(
        log.messages(),
        [Some("expected panic: in Tracked::drop".to_string())]
    );
    assert_pool_alive(&pool);
}

/// What the panicking wakers of the tests below panic with (a message
/// starting with `EXPECTED`, so the quiet panic hook hides it).
const WAKE_PANIC: &str = "expected panic: in wake";

#[test]
fn a_waker_whose_wake_panics_does_not_kill_the_worker() {
    let (pool, log) = pool_with_panic_log(1);
    let (release, gate) = mpsc::channel::<()>();
    let mut task = pool.spawn(move || {
        gate.recv().unwrap();
        "value"
    });
    let waker_state = CountingWaker::panicking(WAKE_PANIC, None);
    let waker = Waker::from(waker_state.clone());
    let mut cx = Context::from_waker(&waker);
    assert!(Pin::new(&mut task).poll(&mut cx).is_pending());
    // The worker completes the task and wakes our waker, which panics.
    release.send(()).unwrap();
    log.wait_for(1);
    assert_eq!(waker_state.wakes(), 1);
    assert_eq!(
        log.messages(),
        [Some("expected panic: in wake".to_string())]
    );
    // The result is still there for the handle.
    let mut cx = Context::from_waker(Waker::noop());
    match Pin::new(&mut task).poll(&mut cx) {
        Poll::Ready(result) => assert_eq!(result.unwrap(), "value"),
        Poll::Pending => panic!("the task completed, but its handle is pending"),
    }
    drop(task);
    assert_pool_alive(&pool);
    pool.shutdown();
    assert_eq!(pool.metrics().panicked, 1);
}

#[test]
fn a_waker_whose_wake_panics_on_a_one_thread_pool_leaves_other_tasks_running() {
    let (pool, log) = pool_with_panic_log(1);
    let waker = Waker::from(CountingWaker::panicking(WAKE_PANIC, None));
    let mut tasks = Vec::new();
    for i in 0..20 {
        let (release, gate) = mpsc::channel::<()>();
        let mut task = pool.spawn(move || {
            gate.recv().unwrap();
            i
        });
        assert!(
            Pin::new(&mut task)
                .poll(&mut Context::from_waker(&waker))
                .is_pending()
        );
        release.send(()).unwrap();
        tasks.push(task);
    }
    log.wait_for(20);
    for (i, mut task) in tasks.into_iter().enumerate() {
        assert!(task.wait_timeout(HANG_GUARD));
        assert_eq!(task.join().unwrap(), i);
    }
    assert_pool_alive(&pool);
}

/// A waker whose last drop panics.
struct PanicsWhenDropped;

impl Wake for PanicsWhenDropped {
    fn wake(self: Arc<Self>) {}
}

impl Drop for PanicsWhenDropped {
    fn drop(&mut self) {
        panic!("{EXPECTED}: waker dropped");
    }
}

#[test]
fn a_waker_whose_drop_panics_is_contained_when_the_handle_drops_it() {
    let (pool, log) = pool_with_panic_log(1);
    let (release, gate) = mpsc::channel::<()>();
    let mut task = pool.spawn(move || gate.recv().unwrap());
    {
        let waker = Waker::from(Arc::new(PanicsWhenDropped));
        let mut cx = Context::from_waker(&waker);
        assert!(Pin::new(&mut task).poll(&mut cx).is_pending());
        // Dropping our copy must not panic: the task still holds one.
        drop(waker);
    }
    release.send(()).unwrap();
    assert!(task.wait_timeout(HANG_GUARD));
    // The handle owns the waker slot again; dropping it drops the waker.
    drop(task);
    wait_until("the waker's drop panic reported", || log.count() == 1);
    assert_eq!(
        log.messages(),
        [Some("expected panic: waker dropped".to_string())]
    );
    assert_pool_alive(&pool);
}
