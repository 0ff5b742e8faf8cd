//! Parallel loops: every index runs exactly once (from outside, from a
//! worker, nested), map-reduce keeps index order, and the early exits
//! (stop, break, cancellation, a panic) and the maximum degree of
//! parallelism hold.

mod support;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use support::{EXPECTED, Slots, panic_text, quiet_expected_panics, size, spin_for, within};
use taskpool::{CancellationToken, Cancelled, LoopResult, Parallel, ThreadPool};

const SIZES: [usize; 4] = [0, 1, 7, size(1_000_003, 100)];

fn completed() -> Result<LoopResult, Cancelled> {
    Ok(LoopResult {
        completed: true,
        lowest_break: None,
    })
}

fn check_every_index_once(parallel: Parallel<'_>) {
    for len in SIZES {
        let slots = Slots::new(len);
        assert_eq!(parallel.for_range(0..len, |i, _| slots.hit(i)), completed());
        slots.assert_each_exactly_once();

        let items: Vec<usize> = (0..len).collect();
        let slots = Slots::new(len);
        let result = parallel.for_each(&items, |item, state| {
            assert_eq!(*item, state.index());
            slots.hit(*item);
        });
        assert_eq!(result, completed());
        slots.assert_each_exactly_once();

        let mut items = vec![0_u8; len];
        assert_eq!(
            parallel.for_each_mut(&mut items, |item, _| *item += 1),
            completed()
        );
        assert!(items.iter().all(|&item| item == 1), "len {len}");

        for chunk_len in [1, 3, 64] {
            let mut items = vec![0_u32; len];
            let result = parallel.for_each_chunk_mut(&mut items, chunk_len, |chunk, values, _| {
                assert!(values.len() <= chunk_len && !values.is_empty());
                for (offset, value) in values.iter_mut().enumerate() {
                    *value += (chunk * chunk_len + offset) as u32 + 1;
                }
            });
            assert_eq!(result, completed());
            assert!(items.iter().enumerate().all(|(i, &v)| v == i as u32 + 1));
        }

        let sum = parallel.map_reduce(0..len, || 0_u64, |i| i as u64, |a, b| a + b);
        assert_eq!(sum, Ok((0..len as u64).sum()));
    }
}

#[test]
fn every_index_runs_once_from_outside() {
    within("loops from outside", || {
        check_every_index_once(Parallel::new());
        let pool = ThreadPool::new(3);
        check_every_index_once(pool.parallel());
        check_every_index_once(pool.parallel().min_len(100));
    });
}

#[test]
fn every_index_runs_once_from_a_worker() {
    within("loops from a worker", || {
        let pool = Arc::new(ThreadPool::new(3));
        let inner = pool.clone();
        pool.spawn(move || {
            check_every_index_once(inner.parallel());
            check_every_index_once(Parallel::new()); // the current worker's pool
        })
        .join()
        .unwrap();
    });
}

#[test]
fn a_loop_from_a_worker_runs_on_that_workers_pool() {
    within("current pool", || {
        let pool = ThreadPool::builder()
            .num_threads(2)
            .thread_name(|i| format!("loops-pool-{i}"))
            .build()
            .unwrap();
        let names = Mutex::new(Vec::new());
        pool.spawn(|| {}).join().unwrap();
        pool.join(
            || {
                Parallel::new()
                    .for_range(0..1000, |_, _| {
                        let name = std::thread::current().name().unwrap_or("").to_owned();
                        names.lock().unwrap().push(name);
                    })
                    .unwrap();
            },
            || {},
        );
        let names = names.into_inner().unwrap();
        assert_eq!(names.len(), 1000);
        assert!(names.iter().all(|name| name.starts_with("loops-pool-")));
    });
}

#[test]
fn nested_loops_visit_every_pair_once() {
    within("nested loops", || {
        let (outer, inner) = (size(300, 12), size(200, 9));
        let slots = Slots::new(outer * inner);
        let pool = ThreadPool::new(4);
        pool.parallel()
            .for_range(0..outer, |i, _| {
                Parallel::new()
                    .for_range(0..inner, |j, _| slots.hit(i * inner + j))
                    .unwrap();
            })
            .unwrap();
        slots.assert_each_exactly_once();
    });
}

#[test]
fn deep_nested_loops_do_not_overflow_a_worker_stack() {
    fn nest(depth: usize, leaves: &AtomicUsize) {
        if depth == 0 {
            leaves.fetch_add(1, Ordering::Relaxed);
            return;
        }
        Parallel::new()
            .for_range(0..2, |_, _| nest(depth - 1, leaves))
            .unwrap();
    }
    within("deep nesting", || {
        let pool = ThreadPool::new(2);
        let depth = size(16, 6);
        let leaves = AtomicUsize::new(0);
        pool.parallel()
            .for_range(0..2, |_, _| nest(depth, &leaves))
            .unwrap();
        assert_eq!(leaves.into_inner(), 2 << depth);
    });
}

#[test]
fn map_reduce_keeps_index_order_for_non_commutative_reduces() {
    within("string concatenation", || {
        let len = size(20_000, 300);
        let expected: String = (0..len).map(|i| format!("{i},")).collect();
        let pool = ThreadPool::new(4);
        for min_len in [1, 7, 1000] {
            let joined = pool
                .parallel()
                .min_len(min_len)
                .map_reduce(0..len, String::new, |i| format!("{i},"), |a, b| a + &b)
                .unwrap();
            assert_eq!(joined, expected);
        }
    });
}

#[test]
fn stop_starts_no_new_iteration() {
    within("stop", || {
        let pool = ThreadPool::new(4);
        let len = size(1_000_000, 600);
        let stopped_at = AtomicUsize::new(usize::MAX);
        let started_after_stop = AtomicUsize::new(0);
        let stop_called = AtomicBool::new(false);
        let result = pool
            .parallel()
            .for_range(0..len, |i, state| {
                if stop_called.load(Ordering::SeqCst) {
                    started_after_stop.fetch_add(1, Ordering::SeqCst);
                }
                if i == len / 3 {
                    // Stop first: whoever sees the flag then sees the stop.
                    state.stop();
                    assert!(state.is_stopped());
                    stopped_at.store(i, Ordering::SeqCst);
                    stop_called.store(true, Ordering::SeqCst);
                }
            })
            .unwrap();
        assert!(!result.completed);
        assert_eq!(result.lowest_break, None);
        assert_eq!(stopped_at.into_inner(), len / 3);
        // Iterations that passed their check before the stop may still have
        // read the flag late; at most one per thread can be in that window.
        assert!(started_after_stop.into_inner() <= 4);
    });
}

#[test]
fn stop_on_one_thread_runs_exactly_the_iterations_before_it() {
    let ran = AtomicUsize::new(0);
    let result = Parallel::new()
        .max_degree_of_parallelism(1)
        .for_range(0..100_000, |i, state| {
            ran.fetch_add(1, Ordering::Relaxed);
            if i == 41 {
                state.stop();
            }
        })
        .unwrap();
    assert_eq!(ran.into_inner(), 42);
    assert!(!result.completed);
}

#[test]
fn break_reports_the_lowest_index_and_every_index_below_it_ran() {
    within("break", || {
        let pool = ThreadPool::new(4);
        let len = size(1_000_000, 600);
        for breaks_at in [0, 1, len / 2, len - 1] {
            let ran: Vec<AtomicBool> = (0..len).map(|_| AtomicBool::new(false)).collect();
            let result = pool
                .parallel()
                .for_range(0..len, |i, state| {
                    ran[i].store(true, Ordering::Relaxed);
                    if i >= breaks_at && i % 1000 == breaks_at % 1000 {
                        state.break_();
                        assert!(state.lowest_break().is_some_and(|lowest| lowest <= i));
                    }
                })
                .unwrap();
            let lowest = result.lowest_break.expect("a break was reported");
            assert!(!result.completed);
            assert!(lowest >= breaks_at && lowest % 1000 == breaks_at % 1000);
            assert!(
                ran[..=lowest].iter().all(|ran| ran.load(Ordering::Relaxed)),
                "an index below the lowest break {lowest} did not run"
            );
            // A break at `breaks_at` itself runs, since everything below
            // the lowest break runs.
            assert!(ran[breaks_at].load(Ordering::Relaxed));
        }
    });
}

#[test]
fn break_on_one_thread_stops_right_after_the_breaking_index() {
    let ran = Mutex::new(Vec::new());
    let result = Parallel::new()
        .max_degree_of_parallelism(1)
        .for_range(10..20, |i, state| {
            ran.lock().unwrap().push(i);
            if i == 13 {
                state.break_();
            }
            assert_eq!(state.should_exit_current_iteration(), i > 13);
        })
        .unwrap();
    assert_eq!(ran.into_inner().unwrap(), [10, 11, 12, 13]);
    assert_eq!(
        result,
        LoopResult {
            completed: false,
            lowest_break: Some(13)
        }
    );
}

#[test]
fn a_token_cancelled_before_the_loop_runs_nothing() {
    let token = CancellationToken::new();
    token.cancel();
    let ran = AtomicUsize::new(0);
    let parallel = Parallel::new().cancellation_token(&token);
    assert_eq!(
        parallel.for_range(0..1000, |_, _| {
            ran.fetch_add(1, Ordering::Relaxed);
        }),
        Err(Cancelled)
    );
    assert_eq!(parallel.for_range(0..0, |_, _| {}), Err(Cancelled));
    let mapped = parallel.map_reduce(
        0..1000,
        || 0,
        |_| ran.fetch_add(1, Ordering::Relaxed),
        |a, b| a + b,
    );
    assert_eq!(mapped, Err(Cancelled));
    assert_eq!(ran.into_inner(), 0);
}

#[test]
fn cancelling_during_the_loop_starts_no_new_iteration() {
    within("cancel during", || {
        let pool = ThreadPool::new(4);
        let len = size(10_000_000, 600);
        let token = CancellationToken::new();
        let cancelled = AtomicBool::new(false);
        let started_after = AtomicUsize::new(0);
        let ran = AtomicUsize::new(0);
        let result = pool
            .parallel()
            .cancellation_token(&token)
            .for_range(0..len, |i, _| {
                if cancelled.load(Ordering::SeqCst) {
                    started_after.fetch_add(1, Ordering::SeqCst);
                }
                ran.fetch_add(1, Ordering::Relaxed);
                if i == 1 {
                    token.cancel();
                    cancelled.store(true, Ordering::SeqCst);
                }
            });
        assert_eq!(result, Err(Cancelled));
        assert!(ran.into_inner() < len);
        // Only iterations that passed their check before the cancel, at
        // most one per thread, may see the flag.
        assert!(started_after.into_inner() <= 4);

        // The same for map-reduce, with the token cancelled from outside
        // once the loop is under way (not after a fixed delay: under Miri
        // a loop may not have started 20 ms in).
        let token = CancellationToken::new();
        let seen = AtomicUsize::new(0);
        let result = std::thread::scope(|scope| {
            scope.spawn(|| {
                support::yield_until("an iteration of the map-reduce", || {
                    seen.load(Ordering::Relaxed) > 0
                });
                token.cancel();
            });
            pool.parallel().cancellation_token(&token).map_reduce(
                0..usize::MAX / 2,
                || 0_u64,
                |_| {
                    seen.fetch_add(1, Ordering::Relaxed);
                    1
                },
                |a, b| a + b,
            )
        });
        assert_eq!(result, Err(Cancelled));
    });
}

#[test]
fn a_panic_stops_the_loop_and_is_raised_after_running_iterations_finish() {
    quiet_expected_panics();
    within("panic", || {
        let pool = ThreadPool::new(4);
        let slow_started = AtomicBool::new(false);
        let panicking = AtomicBool::new(false);
        let slow_finished = AtomicBool::new(false);
        let bounded_wait = |flag: &AtomicBool| {
            let deadline = std::time::Instant::now() + Duration::from_secs(10);
            while !flag.load(Ordering::SeqCst) && std::time::Instant::now() < deadline {
                std::thread::yield_now();
            }
        };
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            pool.parallel().for_range(0..64, |i, _| match i {
                // Long enough for the loop to split.
                0 => spin_for(Duration::from_millis(2)),
                // Still running when another part panics (normally: both
                // waits are bounded, in case both land on one thread).
                1 => {
                    slow_started.store(true, Ordering::SeqCst);
                    bounded_wait(&panicking);
                    spin_for(Duration::from_millis(30));
                    slow_finished.store(true, Ordering::SeqCst);
                }
                40 => {
                    bounded_wait(&slow_started);
                    panicking.store(true, Ordering::SeqCst);
                    panic!("{EXPECTED}: iteration {i}");
                }
                _ => {}
            })
        }));
        let payload = outcome.expect_err("the panic is raised again");
        assert_eq!(
            panic_text(&*payload),
            Some(format!("{EXPECTED}: iteration 40").as_str())
        );
        assert!(
            slow_finished.load(Ordering::SeqCst),
            "raised before a running iteration finished"
        );
        // The pool serves on.
        assert_eq!(pool.parallel().for_range(0..100, |_, _| {}), completed());
        assert_eq!(pool.spawn(|| 7).join().unwrap(), 7);

        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            pool.parallel().map_reduce(
                0..size(1_000_000, 5_000),
                || 0_u64,
                |i| {
                    if i == 77 {
                        panic!("{EXPECTED}: map")
                    } else {
                        1
                    }
                },
                |a, b| a + b,
            )
        }));
        let payload = outcome.expect_err("the map's panic is raised again");
        assert_eq!(
            panic_text(&*payload),
            Some(format!("{EXPECTED}: map").as_str())
        );
    });
}

#[test]
fn max_degree_one_never_runs_two_iterations_at_once() {
    within("max degree 1", || {
        let pool = ThreadPool::new(4);
        for from_worker in [false, true] {
            let active = AtomicUsize::new(0);
            let most = AtomicUsize::new(0);
            let run = || {
                pool.parallel()
                    .max_degree_of_parallelism(1)
                    .for_range(0..size(2000, 50), |i, _| {
                        let now = active.fetch_add(1, Ordering::SeqCst) + 1;
                        most.fetch_max(now, Ordering::SeqCst);
                        if i % 100 == 0 {
                            spin_for(Duration::from_micros(200));
                        }
                        active.fetch_sub(1, Ordering::SeqCst);
                    })
                    .unwrap();
            };
            if from_worker {
                pool.join(run, || {});
            } else {
                run();
            }
            assert_eq!(most.into_inner(), 1);
        }
    });
}

#[test]
fn max_degree_two_runs_at_most_two_at_once() {
    within("max degree 2", || {
        let pool = ThreadPool::new(4);
        let active = AtomicUsize::new(0);
        let most = AtomicUsize::new(0);
        pool.parallel()
            .max_degree_of_parallelism(2)
            .for_range(0..size(400, 40), |_, _| {
                let now = active.fetch_add(1, Ordering::SeqCst) + 1;
                most.fetch_max(now, Ordering::SeqCst);
                spin_for(Duration::from_micros(100));
                active.fetch_sub(1, Ordering::SeqCst);
            })
            .unwrap();
        assert!((1..=2).contains(&most.into_inner()));
    });
}

#[test]
#[should_panic(expected = "max_degree_of_parallelism must be at least 1")]
fn max_degree_zero_is_refused() {
    let _ = Parallel::new().max_degree_of_parallelism(0);
}
