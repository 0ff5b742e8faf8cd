//! Scoped tasks borrow from the caller, spawn into their own scope, nest,
//! and the scope returns only after all of them (and what they spawned)
//! ended, wherever it is called from.

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use support::{Gate, current_thread_name, size, within};
use taskpool::{Scope, ThreadPool};

fn named_pool(threads: usize, prefix: &'static str) -> ThreadPool {
    ThreadPool::builder()
        .num_threads(threads)
        .thread_name(move |i| format!("{prefix}-{i}"))
        .build()
        .expect("build a pool")
}

#[test]
fn tasks_mutate_disjoint_chunks_of_a_borrowed_vector() {
    let pool = ThreadPool::new(2);
    let len = size(100_003, 1_003);
    let mut values: Vec<usize> = (0..len).collect();
    pool.scope(|s| {
        for (index, chunk) in values.chunks_mut(97).enumerate() {
            s.spawn(move || {
                for (offset, value) in chunk.iter_mut().enumerate() {
                    assert_eq!(*value, index * 97 + offset);
                    *value = *value * 2 + 1;
                }
            });
        }
    });
    for (i, value) in values.iter().enumerate() {
        assert_eq!(*value, i * 2 + 1, "index {i}");
    }
}

#[test]
fn join_returns_each_tasks_value_and_a_borrow_of_the_environment() {
    let pool = ThreadPool::new(2);
    let words = [
        String::from("alpha"),
        String::from("beta"),
        String::from("epsilon"),
    ];
    let (longest, lengths) = pool.scope(|s| {
        let longest = s.spawn(|| words.iter().max_by_key(|w| w.len()).unwrap());
        let lengths: Vec<_> = words.iter().map(|w| s.spawn(move || w.len())).collect();
        (
            longest.join().unwrap(),
            lengths
                .into_iter()
                .map(|t| t.join().unwrap())
                .collect::<Vec<_>>(),
        )
    });
    // The value borrows from outside the scope, so it may leave it.
    assert_eq!(longest, "epsilon");
    assert_eq!(lengths, [5, 4, 7]);
}

#[test]
fn the_scope_waits_for_grandchildren_spawned_after_the_body_returned() {
    within("grandchildren", || {
        let pool = ThreadPool::new(2);
        let gate = Gate::new();
        let leaves = AtomicUsize::new(0);
        pool.scope(|s| {
            for _ in 0..4 {
                s.spawn(|| {
                    // Held until the body has returned for sure.
                    gate.wait();
                    for _ in 0..3 {
                        s.spawn(|| {
                            s.spawn(|| leaves.fetch_add(1, Ordering::Relaxed));
                        });
                    }
                });
            }
            gate.open();
        });
        assert_eq!(leaves.load(Ordering::Relaxed), 12);
    });
}

#[test]
fn a_dropped_handle_leaves_the_task_to_the_scope() {
    within("dropped handles", || {
        let pool = ThreadPool::new(2);
        let gate = Gate::new();
        let ran = AtomicUsize::new(0);
        pool.scope(|s| {
            for _ in 0..8 {
                let handle = s.spawn(|| {
                    gate.wait();
                    ran.fetch_add(1, Ordering::Relaxed);
                    String::from("dropped with nobody to read it")
                });
                drop(handle);
            }
            assert_eq!(ran.load(Ordering::Relaxed), 0, "held at the gate");
            gate.open();
        });
        assert_eq!(ran.load(Ordering::Relaxed), 8);
    });
}

#[test]
fn results_nobody_joined_are_dropped_exactly_once() {
    let pool = ThreadPool::new(2);
    let drops = support::DropCounter::new();
    let count = size(1_000, 50);
    pool.scope(|s| {
        for i in 0..count {
            let drops = &drops;
            let handle = s.spawn(move || drops.track());
            if i % 3 == 0 {
                drop(handle.join().unwrap());
            } else if i % 3 == 1 {
                while !handle.is_finished() {
                    std::thread::yield_now();
                }
            }
            // The rest: dropped at once, probably before the task ran.
        }
    });
    assert_eq!(drops.made(), count);
    drops.assert_all_dropped("after the scope");
}

#[test]
fn nested_scopes_complete_and_borrow_from_each_level() {
    within("nested scopes", || {
        let pool = ThreadPool::new(2);
        let mut grid = vec![vec![0_u32; 64]; 16];
        pool.scope(|outer| {
            for (row_index, row) in grid.iter_mut().enumerate() {
                outer.spawn(move || {
                    taskpool::scope(|inner| {
                        for (col, cell) in row.chunks_mut(8).enumerate() {
                            inner.spawn(move || {
                                for (k, value) in cell.iter_mut().enumerate() {
                                    *value = (row_index * 64 + col * 8 + k) as u32;
                                }
                            });
                        }
                    });
                });
            }
        });
        for (r, row) in grid.iter().enumerate() {
            for (c, value) in row.iter().enumerate() {
                assert_eq!(*value as usize, r * 64 + c);
            }
        }
    });
}

#[test]
fn a_scope_inside_a_task_inside_a_scope_completes() {
    within("scope -> Task -> scope", || {
        let pool = Arc::new(ThreadPool::new(2));
        let total = pool.scope(|s| {
            let pool = pool.clone();
            let task = s.spawn(move || {
                let inner = pool.spawn(|| {
                    let values: Vec<u64> = (1..=100).collect();
                    taskpool::scope(|s| {
                        let (a, b) = values.split_at(50);
                        let left = s.spawn(|| a.iter().sum::<u64>());
                        let right = s.spawn(|| b.iter().sum::<u64>());
                        left.join().unwrap() + right.join().unwrap()
                    })
                });
                inner.join().unwrap()
            });
            task.join().unwrap()
        });
        assert_eq!(total, 5050);
    });
}

#[test]
fn a_scope_on_the_only_worker_of_a_one_thread_pool_completes() {
    within("scope on the only worker", || {
        let pool = named_pool(1, "only");
        let outcome = pool.install(|| {
            let on = current_thread_name();
            let counted = AtomicUsize::new(0);
            let sum = taskpool::scope(|s| {
                let tasks: Vec<_> = (0..100_u64)
                    .map(|i| {
                        let counted = &counted;
                        s.spawn(move || {
                            counted.fetch_add(1, Ordering::Relaxed);
                            // A nested scope on the same, only, worker.
                            taskpool::scope(|inner| inner.spawn(move || i * 2).join().unwrap())
                        })
                    })
                    .collect();
                tasks.into_iter().map(|t| t.join().unwrap()).sum::<u64>()
            });
            (on, counted.load(Ordering::Relaxed), sum)
        });
        assert_eq!(outcome, ("only-0".to_owned(), 100, 9900));
    });
}

#[test]
fn scoped_tasks_run_on_the_scopes_pool_even_from_outside() {
    let pool = named_pool(2, "scoped");
    let names = pool.scope(|s| {
        let tasks: Vec<_> = (0..16).map(|_| s.spawn(current_thread_name)).collect();
        tasks
            .into_iter()
            .map(|t| t.join().unwrap())
            .collect::<Vec<_>>()
    });
    for name in names {
        assert!(name.starts_with("scoped-"), "ran on {name:?}");
    }
}

#[test]
fn a_worker_waiting_for_another_pools_scope_keeps_serving_its_own_pool() {
    within("pool 1 scope -> pool 2 scope -> pool 1", || {
        let pool1 = Arc::new(named_pool(1, "first"));
        let pool2 = Arc::new(named_pool(1, "second"));
        let task = pool1.spawn({
            let (pool1, pool2) = (pool1.clone(), pool2.clone());
            move || {
                // pool 1's only worker waits for a scope on pool 2, whose
                // task waits for a scope on pool 1.
                pool2.scope(|s| {
                    s.spawn(|| pool1.scope(|s| s.spawn(current_thread_name).join().unwrap()))
                        .join()
                        .unwrap()
                })
            }
        });
        assert_eq!(task.join().unwrap(), "first-0");
    });
}

/// Recursion through scopes and `join`, depth first on one worker: the
/// waits nest on the worker's default (2 MiB) stack, which must hold them.
fn depth<'scope>(s: &'scope Scope<'scope, '_>, level: usize) -> usize {
    if level == 0 {
        return 0;
    }
    let (a, b) = taskpool::join(
        || {
            s.spawn(move || taskpool::scope(|inner| depth(inner, level - 1)))
                .join()
                .unwrap()
        },
        || level,
    );
    a + b
}

#[test]
fn deep_recursion_of_scopes_and_join_fits_the_default_worker_stack() {
    within("deep recursion", || {
        let pool = ThreadPool::new(1);
        // Each level nests three waits on the worker's stack (a `join`, a
        // `ScopedTask::join`, a scope): 600 waits deep, in a debug build.
        let levels = size(200, 40);
        let total = pool.scope(|s| {
            s.spawn(move || taskpool::scope(|s| depth(s, levels)))
                .join()
                .unwrap()
        });
        assert_eq!(total, levels * (levels + 1) / 2);
    });
}

#[test]
fn the_free_scope_uses_the_current_workers_pool() {
    let pool = named_pool(2, "current");
    let names = pool.spawn(|| {
        taskpool::scope(|s| {
            let tasks: Vec<_> = (0..8).map(|_| s.spawn(current_thread_name)).collect();
            tasks
                .into_iter()
                .map(|t| t.join().unwrap())
                .collect::<Vec<_>>()
        })
    });
    for name in names.join().unwrap() {
        assert!(name.starts_with("current-"), "ran on {name:?}");
    }
}

#[test]
fn after_shutdown_a_spawn_from_outside_runs_on_the_calling_thread() {
    let pool = named_pool(1, "closed");
    pool.shutdown();
    let here = current_thread_name();
    let mut value = 0;
    let name = pool.scope(|s| {
        let name = s.spawn(current_thread_name).join().unwrap();
        s.spawn(|| value = 7);
        name
    });
    assert_eq!(name, here);
    assert_eq!(value, 7);
}

/// std's scoped-thread habit: the body waits on a channel for its tasks
/// rather than joining them. From a worker the tasks sit on that worker's
/// deque while it blocks outside the pool, so the other worker must be
/// woken to steal them.
#[test]
fn a_body_blocked_on_a_channel_is_served_by_the_other_workers() {
    within("body waits on a channel", || {
        let pool = ThreadPool::new(2);
        for round in 0..size(200, 10) {
            let received = pool.install(|| {
                let (sender, receiver) = std::sync::mpsc::channel();
                taskpool::scope(|s| {
                    for i in 0..4 {
                        let sender = sender.clone();
                        s.spawn(move || sender.send(i).unwrap());
                    }
                    (0..4).map(|_| receiver.recv().unwrap()).sum::<i32>()
                })
            });
            assert_eq!(received, 6, "round {round}");
        }
    });
}
