//! Fork-join: `pool.join(a, b)` and `taskpool::join(a, b)` run both
//! closures (in parallel when a worker is free), may borrow from the
//! caller's stack, and propagate a panic only after both have finished.

mod support;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, mpsc};
use support::{EXPECTED, join_guarded, panic_text, quiet_expected_panics, size, within};
use taskpool::ThreadPool;

fn sum(pool: &ThreadPool, values: &[u64]) -> u64 {
    if values.len() <= 64 {
        return values.iter().sum();
    }
    let (left, right) = values.split_at(values.len() / 2);
    let (a, b) = pool.join(|| sum(pool, left), || sum(pool, right));
    a + b
}

fn fib(n: u32) -> u64 {
    if n < 2 {
        return u64::from(n);
    }
    let (a, b) = taskpool::join(|| fib(n - 1), || fib(n - 2));
    a + b
}

fn fib_sequential(n: u32) -> u64 {
    if n < 2 {
        u64::from(n)
    } else {
        fib_sequential(n - 1) + fib_sequential(n - 2)
    }
}

#[test]
fn pool_join_computes_a_recursive_sum_on_1_2_and_4_threads() {
    let len = size(200_000, 2_000) as u64;
    let values: Arc<Vec<u64>> = Arc::new((1..=len).collect());
    for threads in [1, 2, 4] {
        let values = values.clone();
        let total = within("recursive sum", move || {
            let pool = ThreadPool::new(threads);
            sum(&pool, &values)
        });
        assert_eq!(total, len * (len + 1) / 2, "{threads} threads");
    }
}

#[test]
fn free_join_computes_fib_inside_pools_of_1_2_and_4_threads() {
    let n = if cfg!(miri) { 8 } else { 20 };
    for threads in [1, 2, 4] {
        let pool = ThreadPool::new(threads);
        // On a worker, `taskpool::join` uses that worker's pool.
        let task = pool.spawn(move || fib(n));
        assert_eq!(
            join_guarded("fib", task).unwrap(),
            fib_sequential(n),
            "{threads} threads"
        );
        pool.shutdown();
        let metrics = pool.metrics();
        assert_eq!(metrics.panicked, 0);
    }
}

#[test]
fn free_join_from_outside_any_pool_uses_the_global_pool() {
    let n = if cfg!(miri) { 6 } else { 18 };
    assert_eq!(
        within("fib on the global pool", move || fib(n)),
        fib_sequential(n)
    );
}

#[test]
fn join_called_from_outside_the_pool_runs_both_and_returns_both_results() {
    let pool = ThreadPool::new(2);
    let caller = std::thread::current().id();
    let (a_thread, b_thread) = pool.join(
        || std::thread::current().id(),
        || std::thread::current().id(),
    );
    // From outside, the whole join runs on the pool's workers.
    assert_ne!(a_thread, caller);
    assert_ne!(b_thread, caller);
    assert_eq!(pool.join(|| "a", || 2), ("a", 2));
}

#[test]
fn join_closures_borrow_from_the_callers_stack() {
    let pool = ThreadPool::new(2);
    let mut left = vec![0_u32; 1000];
    let mut right = vec![0_u32; 1000];
    let offset = 7_u32;
    let offset_ref = &offset;
    pool.join(
        || {
            left.iter_mut()
                .enumerate()
                .for_each(|(i, v)| *v = i as u32 + offset_ref)
        },
        || {
            right
                .iter_mut()
                .enumerate()
                .for_each(|(i, v)| *v = i as u32 * 2)
        },
    );
    assert!(left.iter().enumerate().all(|(i, v)| *v == i as u32 + 7));
    assert!(right.iter().enumerate().all(|(i, v)| *v == i as u32 * 2));

    // Disjoint halves of one buffer, mutated in parallel, recursively.
    fn fill(pool: &ThreadPool, slice: &mut [usize], base: usize) {
        if slice.len() <= 16 {
            for (i, v) in slice.iter_mut().enumerate() {
                *v = base + i;
            }
            return;
        }
        let middle = slice.len() / 2;
        let (a, b) = slice.split_at_mut(middle);
        pool.join(|| fill(pool, a, base), || fill(pool, b, base + middle));
    }
    let mut buffer = vec![0_usize; size(100_000, 500)];
    fill(&pool, &mut buffer, 0);
    assert!(buffer.iter().enumerate().all(|(i, v)| *v == i));
}

/// Runs `pool.join` where `a_panics`/`b_panics` say which side panics;
/// returns (a ran to its end, b ran to its end, the panic message if any).
fn join_with_panics(
    pool: &ThreadPool,
    a_panics: bool,
    b_panics: bool,
) -> (bool, bool, Option<String>) {
    quiet_expected_panics();
    let a_finished = AtomicBool::new(false);
    let b_finished = AtomicBool::new(false);
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        pool.join(
            || {
                // Give b the chance to be stolen and still running.
                std::thread::yield_now();
                a_finished.store(true, Ordering::SeqCst);
                if a_panics {
                    panic!("{EXPECTED}: in a");
                }
            },
            || {
                for _ in 0..1000 {
                    std::hint::spin_loop();
                }
                b_finished.store(true, Ordering::SeqCst);
                if b_panics {
                    panic!("{EXPECTED}: in b");
                }
            },
        )
    }));
    // `join` may not return (or unwind) before both closures finished.
    let a_done = a_finished.load(Ordering::SeqCst);
    let b_done = b_finished.load(Ordering::SeqCst);
    let message = outcome
        .err()
        .map(|payload| panic_text(&*payload).unwrap_or_default().to_owned());
    (a_done, b_done, message)
}

#[test]
fn a_panic_in_a_or_b_propagates_after_both_ran() {
    for threads in [1, 2, 4] {
        let pool = ThreadPool::new(threads);
        for _ in 0..size(100, 5) {
            let (a, b, message) = join_with_panics(&pool, true, false);
            assert!(a && b, "{threads} threads, a panics: both must have run");
            assert_eq!(message.as_deref(), Some("expected panic: in a"));

            let (a, b, message) = join_with_panics(&pool, false, true);
            assert!(a && b, "{threads} threads, b panics: both must have run");
            assert_eq!(message.as_deref(), Some("expected panic: in b"));

            let (a, b, message) = join_with_panics(&pool, true, true);
            assert!(a && b, "{threads} threads, both panic");
            assert_eq!(
                message.as_deref(),
                Some("expected panic: in a"),
                "a's panic wins"
            );
        }
        // The pool survives and joins again.
        assert_eq!(pool.join(|| 1, || 2), (1, 2));
        assert_eq!(
            pool.metrics().panicked,
            0,
            "a join panic is the caller's, not the handler's"
        );
    }
}

#[test]
fn a_panic_in_a_join_inside_a_task_is_returned_by_the_task_join() {
    quiet_expected_panics();
    let pool = ThreadPool::new(2);
    let b_ran = Arc::new(AtomicUsize::new(0));
    let counter = b_ran.clone();
    let task = pool.spawn(move || {
        taskpool::join(
            || -> () { panic!("{EXPECTED}: a inside a task") },
            move || {
                counter.fetch_add(1, Ordering::SeqCst);
            },
        )
    });
    let error = join_guarded("join inside a task", task).unwrap_err();
    assert_eq!(
        error.panic_message(),
        Some("expected panic: a inside a task")
    );
    assert_eq!(b_ran.load(Ordering::SeqCst), 1);
}

#[test]
fn join_on_a_shut_down_pool_runs_both_sequentially_on_the_calling_thread() {
    let pool = ThreadPool::new(2);
    pool.shutdown();
    let (a, b) = within("join on a shut-down pool", move || {
        let caller = std::thread::current().id();
        let order = std::sync::Mutex::new(Vec::new());
        let result = pool.join(
            || {
                order.lock().unwrap().push("a");
                std::thread::current().id() == caller
            },
            || {
                order.lock().unwrap().push("b");
                std::thread::current().id() == caller
            },
        );
        assert_eq!(*order.lock().unwrap(), ["a", "b"], "sequential, a first");
        result
    });
    assert!(a && b, "both ran on the calling thread");
}

#[test]
fn nested_join_1000_levels_deep_on_a_one_thread_pool_completes() {
    fn depth(pool: &ThreadPool, level: usize) -> usize {
        if level == 0 {
            return 0;
        }
        let (a, b) = pool.join(|| depth(pool, level - 1), || 1);
        a + b
    }
    let levels = size(1_000, 20);
    let got = within("deep nested join", move || {
        let pool = ThreadPool::new(1);
        let root = {
            let pool = Arc::new(pool);
            let inner = pool.clone();
            pool.spawn(move || depth(&inner, levels))
        };
        root.join().unwrap()
    });
    assert_eq!(got, levels);
}

#[test]
fn join_where_a_blocks_until_b_signals_completes_on_two_threads() {
    // a waits for b: b must be taken by the other (idle, maybe sleeping)
    // worker while a blocks this one.
    for _ in 0..size(200, 5) {
        let pool = ThreadPool::new(2);
        let result = within("b signals a", move || {
            let (signal, wait) = mpsc::channel::<u32>();
            pool.join(
                move || wait.recv().unwrap() + 1,
                move || signal.send(41).unwrap(),
            )
        });
        assert_eq!(result, (42, ()));
    }
}
