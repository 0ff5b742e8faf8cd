//! `sleep` and `sleep_until`: a timer that holds no thread, never ends
//! early, and copes with many sleeps at once.

mod support;

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};
use support::{CountingWaker, Rng, join_guarded, size, within};
use taskpool::{ThreadPool, TimedOut, sleep, sleep_until, timeout, when_all};

#[test]
fn hundred_thousand_concurrent_sleeps_on_a_two_thread_pool_all_complete() {
    let count = size(100_000, 100);
    let (elapsed, longest) = within("100,000 sleeps", move || {
        let pool = ThreadPool::new(2);
        let mut rng = Rng::new(7);
        let start = Instant::now();
        let mut longest = Duration::ZERO;
        let tasks: Vec<_> = (0..count)
            .map(|index| {
                let duration = Duration::from_millis(rng.range(10, 21));
                longest = longest.max(duration);
                pool.spawn_async(async move {
                    sleep(duration).await;
                    index
                })
            })
            .collect();
        let finished = join_guarded("when_all of the sleeps", when_all(tasks)).unwrap();
        let elapsed = start.elapsed();
        assert_eq!(finished, (0..count).collect::<Vec<_>>());
        (elapsed, longest)
    });
    println!(
        "{count} sleeps of 10..=20 ms on 2 threads: {elapsed:?} (longest {longest:?}; \
         one after another they would take about {} s)",
        count * 15 / 1000
    );
    // A guard against sleeps that hold a thread or run one after another,
    // not a performance assertion.
    // (Under Miri everything is far slower: no guard there.)
    assert!(
        cfg!(miri) || elapsed < Duration::from_secs(5),
        "100,000 concurrent sleeps took {elapsed:?}"
    );
}

#[test]
fn a_sleep_never_ends_early() {
    let pool = ThreadPool::new(2);
    let mut rng = Rng::new(99);
    let tasks: Vec<_> = (0..size(200, 10))
        .map(|_| {
            let duration = Duration::from_micros(rng.range(0, 30_000));
            pool.spawn_async(async move {
                let start = Instant::now();
                sleep(duration).await;
                (duration, start.elapsed())
            })
        })
        .collect();
    for (duration, elapsed) in join_guarded("200 sleeps", when_all(tasks)).unwrap() {
        assert!(
            elapsed >= duration,
            "a sleep of {duration:?} ended after {elapsed:?}"
        );
    }
}

#[test]
fn sleep_until_never_ends_before_its_deadline() {
    let mut rng = Rng::new(3);
    for _ in 0..size(50, 5) {
        let deadline = Instant::now() + Duration::from_micros(rng.range(0, 5_000));
        within("sleep_until", move || {
            taskpool::block_on(sleep_until(deadline))
        });
        assert!(Instant::now() >= deadline);
    }
}

#[test]
fn zero_duration_sleep_is_ready_at_its_first_poll() {
    let mut cx = Context::from_waker(Waker::noop());
    let mut zero = pin!(sleep(Duration::ZERO));
    assert_eq!(zero.as_mut().poll(&mut cx), Poll::Ready(()));
    let mut past = pin!(sleep_until(Instant::now() - Duration::from_millis(1)));
    assert_eq!(past.as_mut().poll(&mut cx), Poll::Ready(()));
    within("block_on a zero sleep", || {
        taskpool::block_on(sleep(Duration::ZERO))
    });
}

#[test]
fn sleep_of_duration_max_never_completes() {
    let never = sleep(Duration::MAX);
    assert_eq!(never.deadline(), None);
    let mut cx = Context::from_waker(Waker::noop());
    let mut never = pin!(never);
    assert_eq!(never.as_mut().poll(&mut cx), Poll::Pending);
    let result = within("timeout around sleep(MAX)", || {
        taskpool::block_on(timeout(Duration::from_millis(20), sleep(Duration::MAX)))
    });
    assert_eq!(result, Err(TimedOut));
}

#[test]
fn sleep_on_a_one_thread_pool_holds_no_thread() {
    // Two tasks sleep at once on one worker while a third runs: if a sleep
    // held the worker, the third could not run until both ended.
    let pool = ThreadPool::new(1);
    let (asleep, wait_asleep) = std::sync::mpsc::channel::<()>();
    let sleepers: Vec<_> = (0..2)
        .map(|_| {
            let asleep = asleep.clone();
            pool.spawn_async(async move {
                asleep.send(()).unwrap();
                sleep(Duration::from_secs(3600)).await;
            })
        })
        .collect();
    for _ in 0..2 {
        support::recv_guarded("a sleeper starts", &wait_asleep);
    }
    let runner = pool.spawn(|| "ran beside two sleepers");
    assert_eq!(
        join_guarded("a task beside sleeping tasks", runner).unwrap(),
        "ran beside two sleepers"
    );
    for sleeper in sleepers {
        sleeper.cancel();
        assert!(
            join_guarded("cancelled sleeper", sleeper)
                .unwrap_err()
                .is_cancelled()
        );
    }
}

#[test]
fn sleeps_dropped_before_they_fire_leave_the_timer_working() {
    // Many armed then dropped sleeps (the timer skips, then purges them),
    // then a real one must still fire.
    let mut cx = Context::from_waker(Waker::noop());
    for _ in 0..size(5_000, 10) {
        let mut pending = Box::pin(sleep(Duration::from_secs(3600)));
        assert_eq!(pending.as_mut().poll(&mut cx), Poll::Pending);
    }
    within("a sleep after many dropped ones", || {
        taskpool::block_on(sleep(Duration::from_millis(5)))
    });
}

#[test]
fn a_sleep_polled_again_with_a_new_waker_wakes_only_the_new_one() {
    let first = CountingWaker::new();
    let second = CountingWaker::new();
    // Long enough that it cannot fire between the two polls, even under Miri.
    let duration = Duration::from_millis(if cfg!(miri) { 2_000 } else { 100 });
    let mut sleeping = Box::pin(sleep(duration));
    let first_waker = Waker::from(first.clone());
    let second_waker = Waker::from(second.clone());
    assert!(
        sleeping
            .as_mut()
            .poll(&mut Context::from_waker(&first_waker))
            .is_pending()
    );
    assert!(
        sleeping
            .as_mut()
            .poll(&mut Context::from_waker(&second_waker))
            .is_pending()
    );
    support::wait_until("the new waker is woken", || second.wakes() == 1);
    assert_eq!(first.wakes(), 0, "the replaced waker was woken");
    assert_eq!(
        sleeping
            .as_mut()
            .poll(&mut Context::from_waker(&second_waker)),
        Poll::Ready(())
    );
}
