//! `timeout(d, future)`: the future's output before the deadline,
//! `Err(TimedOut)` after it, and the future dropped either way.

mod support;

use std::time::{Duration, Instant};
use support::{DropCounter, join_guarded, within};
use taskpool::{ThreadPool, TimedOut, block_on, sleep, timeout};

#[test]
fn timeout_resolves_ok_when_the_future_finishes_before_the_deadline() {
    let result = within("timeout ok", || {
        block_on(timeout(Duration::from_secs(3600), async {
            sleep(Duration::from_millis(2)).await;
            7
        }))
    });
    assert_eq!(result, Ok(7));
}

#[test]
fn timeout_of_a_ready_future_is_ok_even_with_a_zero_duration() {
    let result = within("zero timeout", || {
        block_on(timeout(Duration::ZERO, async { 1 }))
    });
    assert_eq!(
        result,
        Ok(1),
        "a future ready at its first poll wins a zero timeout"
    );
}

#[test]
fn timeout_gives_timed_out_after_the_deadline_and_not_before() {
    let (result, elapsed) = within("timeout err", || {
        let start = Instant::now();
        let result = block_on(timeout(
            Duration::from_millis(10),
            std::future::pending::<()>(),
        ));
        (result, start.elapsed())
    });
    assert_eq!(result, Err(TimedOut));
    assert!(
        elapsed >= Duration::from_millis(10),
        "timed out early: {elapsed:?}"
    );
}

#[test]
fn timeout_drops_the_inner_future_exactly_once_when_it_times_out() {
    let locals = DropCounter::new();
    let held = locals.track();
    let result = within("timeout drops", move || {
        block_on(timeout(Duration::from_millis(5), async move {
            let _held = held;
            sleep(Duration::from_secs(3600)).await;
        }))
    });
    assert_eq!(result, Err(TimedOut));
    assert_eq!(locals.drops(), 1);
}

#[test]
fn timeout_inside_a_pool_task_holds_no_thread() {
    let pool = ThreadPool::new(1);
    let timed_out = pool.spawn_async(timeout(
        Duration::from_millis(20),
        sleep(Duration::from_secs(3600)),
    ));
    let meanwhile = pool.spawn(|| "ran while the timeout waited");
    assert_eq!(
        join_guarded("beside a timeout", meanwhile).unwrap(),
        "ran while the timeout waited"
    );
    assert_eq!(
        join_guarded("pool timeout", timed_out).unwrap(),
        Err(TimedOut)
    );
    let in_time = pool.spawn_async(timeout(Duration::from_secs(3600), async { 3 }));
    assert_eq!(join_guarded("pool timeout ok", in_time).unwrap(), Ok(3));
}

#[test]
fn timeout_around_a_task_returns_the_task_result() {
    let pool = ThreadPool::new(2);
    let task = pool.spawn(|| 5);
    let result = within("timeout around a task", move || {
        block_on(timeout(Duration::from_secs(3600), task))
    });
    assert_eq!(result.unwrap().unwrap(), 5);
}
