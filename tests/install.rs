//! `pool.install(f)` runs `f` on one of the pool's workers, so that the free
//! functions inside it use that pool; on its own worker it runs inline; from
//! a worker of another pool it keeps that worker serving its own pool.

mod support;

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use support::{EXPECTED, current_thread_name, panic_text, quiet_expected_panics, within};
use taskpool::ThreadPool;

fn named_pool(threads: usize, prefix: &'static str) -> ThreadPool {
    ThreadPool::builder()
        .num_threads(threads)
        .thread_name(move |i| format!("{prefix}-{i}"))
        .build()
        .expect("build a pool")
}

fn is_worker_of(prefix: &str, name: &str) -> bool {
    name.strip_prefix(prefix)
        .and_then(|rest| rest.strip_prefix('-'))
        .is_some_and(|index| index.parse::<usize>().is_ok())
}

#[test]
fn install_runs_the_closure_on_a_worker_and_returns_its_value() {
    let pool = named_pool(2, "installed");
    let mut borrowed = vec![1, 2, 3];
    let name = pool.install(|| {
        borrowed.push(4);
        current_thread_name()
    });
    assert!(is_worker_of("installed", &name), "ran on {name:?}");
    assert_eq!(borrowed, [1, 2, 3, 4]);
}

#[test]
fn the_free_functions_inside_install_use_the_installed_pool() {
    let pool = named_pool(2, "mine");
    let names = pool.install(|| {
        let (a, b) = taskpool::join(current_thread_name, current_thread_name);
        let scoped = taskpool::scope(|s| s.spawn(current_thread_name).join().unwrap());
        let spawned = taskpool::spawn(current_thread_name).join().unwrap();
        let (sender, receiver) = std::sync::mpsc::channel();
        taskpool::execute(move || sender.send(current_thread_name()).unwrap());
        let executed = receiver.recv().unwrap();
        let awaited =
            taskpool::block_on(taskpool::spawn_async(async { current_thread_name() })).unwrap();
        [a, b, scoped, spawned, executed, awaited]
    });
    for name in names {
        assert!(is_worker_of("mine", &name), "ran on {name:?}");
    }
}

#[test]
fn install_on_a_worker_of_the_same_pool_runs_inline() {
    let pool = Arc::new(named_pool(2, "same"));
    let task = pool.spawn({
        let pool = pool.clone();
        move || {
            let outer = current_thread_name();
            let inner = pool.install(current_thread_name);
            (outer, inner)
        }
    });
    let (outer, inner) = task.join().unwrap();
    assert_eq!(outer, inner, "moved to another worker");
}

#[test]
fn install_from_a_worker_of_another_pool_keeps_that_worker_serving_its_pool() {
    within("pool 1 install -> pool 2 install -> pool 1", || {
        let pool1 = Arc::new(named_pool(1, "one"));
        let pool2 = Arc::new(named_pool(1, "two"));
        let task = pool1.spawn({
            let (pool1, pool2) = (pool1.clone(), pool2.clone());
            move || {
                // pool 1's only worker waits in install on pool 2, whose only
                // worker installs back into pool 1: it completes only if the
                // waiting worker runs pool 1's job meanwhile.
                pool2.install(|| {
                    let middle = current_thread_name();
                    let inner = pool1.install(current_thread_name);
                    (middle, inner)
                })
            }
        });
        let (middle, inner) = task.join().unwrap();
        assert_eq!(middle, "two-0");
        assert_eq!(inner, "one-0");
    });
}

#[test]
fn a_panic_in_install_is_resumed_on_the_caller_and_the_pool_keeps_serving() {
    quiet_expected_panics();
    let pool = ThreadPool::new(1);
    let payload = catch_unwind(AssertUnwindSafe(|| {
        pool.install(|| -> () { panic!("{EXPECTED}: installed") })
    }))
    .expect_err("resumed here");
    assert_eq!(panic_text(&*payload), Some("expected panic: installed"));
    assert_eq!(pool.install(|| 6 * 7), 42);
    assert_eq!(
        pool.metrics().panicked,
        0,
        "an observed panic reached the handler"
    );
}

#[test]
fn install_on_a_shut_down_pool_panics_without_running_the_closure() {
    let pool = ThreadPool::new(1);
    pool.shutdown();
    let mut ran = false;
    let payload =
        catch_unwind(AssertUnwindSafe(|| pool.install(|| ran = true))).expect_err("refused");
    assert!(!ran);
    assert_eq!(
        panic_text(&*payload),
        Some("ThreadPool::install called on a pool that was shut down")
    );
}

/// Recursion through `install` and `join` on a one-thread pool: the
/// nested installs run inline, and the worker's default stack holds it.
fn fib(pool: &ThreadPool, n: u32) -> u64 {
    if n < 2 {
        return u64::from(n);
    }
    pool.install(|| {
        let (a, b) = taskpool::join(|| fib(pool, n - 1), || fib(pool, n - 2));
        a + b
    })
}

#[test]
fn recursion_through_install_and_join_completes_on_one_worker() {
    within("install + join recursion", || {
        let pool = ThreadPool::new(1);
        let n = support::size(18, 8) as u32;
        let sequential = (0..n).fold((0_u64, 1_u64), |(a, b), _| (b, a + b)).0;
        assert_eq!(fib(&pool, n), sequential);
    });
}
