//! A blocking wait nested inside `block_on` on a thread outside any pool
//! never takes the wake-up meant for the outer `block_on` (issue 10, D2).
//!
//! The scenario: `block_on` polls a future that registers on task `t1`, and
//! then, in the same `poll`, blocks in a second wait (`t2.join()`, a nested
//! `block_on`, `wait_timeout`, a fork-join sent to the pool) while `t1`
//! completes. `t1`'s wake-up arrives during the nested wait; it must still
//! wake the outer `block_on`, or it sleeps forever with `t1` done.
//!
//! `t2` finishes only after `t1`'s waker has run, so the wake-up always
//! lands while the nested wait is in progress; the short sleep in `t2` only
//! makes it likely that the nested wait is parked by then (without it the
//! test passes either way, it just proves less).

mod support;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;
use support::{HANG_GUARD, within};
use taskpool::{Task, ThreadPool};

/// How many times each scenario runs (each run is a chance to lose the
/// wake-up).
const ROUNDS: usize = support::size(3, 1);

/// Forwards a wake-up to the outer waker, then records that it happened.
struct Recording {
    outer: Waker,
    woke: Arc<AtomicBool>,
}

impl Wake for Recording {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.outer.wake_by_ref();
        self.woke.store(true, Ordering::SeqCst);
    }
}

/// Polls `t1` (registering on it), then, the first time, runs the blocking
/// `nested` wait in the same `poll`.
struct RegisterThenBlock<B> {
    t1: Task<u32>,
    t1_woke: Arc<AtomicBool>,
    go: Arc<AtomicBool>,
    nested: Option<B>,
    nested_result: Option<u32>,
}

impl<B: FnOnce() -> u32 + Unpin> Future for RegisterThenBlock<B> {
    type Output = (u32, u32);

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<(u32, u32)> {
        let this = self.get_mut();
        let waker = Waker::from(Arc::new(Recording {
            outer: cx.waker().clone(),
            woke: this.t1_woke.clone(),
        }));
        if let Poll::Ready(first) = Pin::new(&mut this.t1).poll(&mut Context::from_waker(&waker)) {
            let second = this.nested_result.expect("the nested wait ran first");
            return Poll::Ready((first.expect("t1 completes"), second));
        }
        if let Some(nested) = this.nested.take() {
            this.go.store(true, Ordering::SeqCst);
            this.nested_result = Some(nested());
        }
        Poll::Pending
    }
}

/// Spins (politely) until `flag` is set, failing after the hang guard.
fn wait_for(flag: &AtomicBool, what: &str) {
    support::wait_until(what, || flag.load(Ordering::SeqCst));
}

/// Runs the scenario on a fresh thread outside any pool; `make_nested`
/// gets the pool and a closure that is `t2`'s body (it returns 2 once
/// `t1`'s waker ran), and returns the nested blocking wait.
fn scenario<B>(make_nested: impl Fn(&Arc<ThreadPool>, Box<dyn FnOnce() -> u32 + Send>) -> B)
where
    B: FnOnce() -> u32 + Unpin,
{
    let pool = Arc::new(ThreadPool::new(2));
    for _ in 0..ROUNDS {
        let go = Arc::new(AtomicBool::new(false));
        let t1_woke = Arc::new(AtomicBool::new(false));
        let t1 = pool.spawn({
            let go = go.clone();
            move || {
                wait_for(&go, "the outer poll to start its nested wait");
                1
            }
        });
        let t2_body: Box<dyn FnOnce() -> u32 + Send> = Box::new({
            let t1_woke = t1_woke.clone();
            move || {
                wait_for(&t1_woke, "t1's waker to run");
                std::thread::sleep(Duration::from_millis(20));
                2
            }
        });
        let future = RegisterThenBlock {
            t1,
            t1_woke,
            go,
            nested: Some(make_nested(&pool, t2_body)),
            nested_result: None,
        };
        assert_eq!(taskpool::block_on(future), (1, 2));
    }
}

#[test]
fn block_on_outside_the_pool_of_a_future_that_registers_on_t1_then_joins_t2_completes() {
    within("block_on around a nested t2.join()", || {
        scenario(|pool, t2_body| {
            let t2 = pool.spawn(t2_body);
            move || t2.join().expect("t2 completes")
        });
    });
}

#[test]
fn block_on_outside_the_pool_of_a_future_that_registers_on_t1_then_block_ons_t2_completes() {
    within("block_on around a nested block_on(t2)", || {
        scenario(|pool, t2_body| {
            let t2 = pool.spawn(t2_body);
            move || taskpool::block_on(t2).expect("t2 completes")
        });
    });
}

#[test]
fn block_on_outside_the_pool_of_a_future_that_registers_on_t1_then_waits_for_t2_with_a_timeout_completes()
 {
    within("block_on around a nested t2.wait_timeout()", || {
        scenario(|pool, t2_body| {
            let mut t2 = pool.spawn(t2_body);
            move || {
                assert!(t2.wait_timeout(HANG_GUARD), "hang: t2 did not finish");
                t2.join().expect("t2 completes")
            }
        });
    });
}

#[test]
fn block_on_outside_the_pool_of_a_future_that_registers_on_t1_then_fork_joins_on_the_pool_completes()
 {
    within("block_on around a nested pool.join()", || {
        scenario(|pool, t2_body| {
            let pool = pool.clone();
            move || pool.join(t2_body, || ()).0
        });
    });
}

/// The same nesting one level deeper: the nested `block_on`'s own future
/// registers on `t2` and then joins `t3` while `t2` completes.
#[test]
fn block_on_nested_twice_outside_the_pool_completes() {
    within("block_on around block_on around t3.join()", || {
        let inner_pool = Arc::new(ThreadPool::new(2));
        scenario(move |_, t2_body| {
            let inner_pool = inner_pool.clone();
            move || {
                // The inner scenario's `t1` is our `t2`: it ends once the
                // outer `t1`'s waker ran.
                let go = Arc::new(AtomicBool::new(false));
                let t2_woke = Arc::new(AtomicBool::new(false));
                let t2 = inner_pool.spawn({
                    let go = go.clone();
                    move || {
                        wait_for(&go, "the inner poll to start its nested wait");
                        t2_body()
                    }
                });
                let t3 = inner_pool.spawn({
                    let t2_woke = t2_woke.clone();
                    move || {
                        wait_for(&t2_woke, "t2's waker to run");
                        std::thread::sleep(Duration::from_millis(20));
                        3
                    }
                });
                let inner = RegisterThenBlock {
                    t1: t2,
                    t1_woke: t2_woke,
                    go,
                    nested: Some(move || t3.join().expect("t3 completes")),
                    nested_result: None,
                };
                let (second, third) = taskpool::block_on(inner);
                assert_eq!(third, 3);
                second
            }
        });
    });
}
