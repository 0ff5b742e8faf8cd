//! Pools that wait on each other complete (issue 10, D10): a worker that
//! waits for a task (or a fork-join, or a `block_on`) of *another* pool keeps
//! running its own pool's work meanwhile, and is woken when the foreign work
//! is done. Modelled on rayon's `mutual_install` and `mutual_install_sleepy`.
//!
//! Each test has two one-thread pools and the chain pool 1 -> pool 2 ->
//! pool 1: the innermost piece of work is queued on pool 1 while pool 1's
//! only worker waits for pool 2. The "sleepy" forms first give the waiting
//! worker time to fall asleep, so the foreign wake-up must reach a sleeper.

mod support;

use std::sync::Arc;
use std::time::Duration;
use support::within;
use taskpool::ThreadPool;

/// Long enough for an idle worker to stop spinning and park.
const FALL_ASLEEP: Duration = Duration::from_millis(100);

fn two_one_thread_pools() -> (Arc<ThreadPool>, Arc<ThreadPool>) {
    (Arc::new(ThreadPool::new(1)), Arc::new(ThreadPool::new(1)))
}

/// pool 1 task joins a pool 2 task, which joins a pool 1 task.
fn mutual_join(sleepy: bool) {
    let (pool1, pool2) = two_one_thread_pools();
    let outer = pool1.spawn({
        let (pool1, pool2) = (pool1.clone(), pool2.clone());
        move || {
            let middle = pool2.spawn(move || {
                if sleepy {
                    // Give pool 1's worker time to fall asleep in its join.
                    std::thread::sleep(FALL_ASLEEP);
                }
                let inner = pool1.spawn(move || {
                    if sleepy {
                        // Give pool 2's worker time to fall asleep too.
                        std::thread::sleep(FALL_ASLEEP);
                    }
                    40
                });
                inner.join().expect("the pool 1 inner task") + 1
            });
            middle.join().expect("the pool 2 task") + 1
        }
    });
    assert_eq!(outer.join().unwrap(), 42);
}

#[test]
fn mutual_join_between_two_one_thread_pools_completes() {
    within("pool 1 join -> pool 2 join -> pool 1", || {
        mutual_join(false);
    });
}

#[test]
fn mutual_join_between_two_one_thread_pools_with_the_workers_asleep_first_completes() {
    within("sleepy pool 1 join -> pool 2 join -> pool 1", || {
        mutual_join(true);
    });
}

/// The same chain through fork-join (`pool.join`, rayon's `install` shape)
/// instead of tasks: the "scope" of another pool.
fn mutual_fork_join(sleepy: bool) {
    let (pool1, pool2) = two_one_thread_pools();
    let outer = pool1.spawn({
        let (pool1, pool2) = (pool1.clone(), pool2.clone());
        move || {
            let (value, ()) = pool2.join(
                || {
                    if sleepy {
                        std::thread::sleep(FALL_ASLEEP);
                    }
                    let (value, ()) = pool1.join(
                        || {
                            if sleepy {
                                std::thread::sleep(FALL_ASLEEP);
                            }
                            41
                        },
                        || (),
                    );
                    value
                },
                || (),
            );
            value + 1
        }
    });
    assert_eq!(outer.join().unwrap(), 42);
}

#[test]
fn mutual_fork_join_between_two_one_thread_pools_completes() {
    within("pool 1 -> pool2.join -> pool1.join", || {
        mutual_fork_join(false);
    });
}

#[test]
fn mutual_fork_join_between_two_one_thread_pools_with_the_workers_asleep_first_completes() {
    within("sleepy pool 1 -> pool2.join -> pool1.join", || {
        mutual_fork_join(true);
    });
}

/// `block_on` on a pool 1 worker of a pool 2 task that joins a pool 1 task.
#[test]
fn block_on_on_a_worker_of_another_pools_task_that_joins_back_completes() {
    within("pool 1 block_on -> pool 2 -> pool 1", || {
        let (pool1, pool2) = two_one_thread_pools();
        let outer = pool1.spawn({
            let (pool1, pool2) = (pool1.clone(), pool2.clone());
            move || {
                let middle = pool2.spawn(move || {
                    std::thread::sleep(FALL_ASLEEP);
                    pool1.spawn(|| 41).join().expect("the pool 1 inner task")
                });
                taskpool::block_on(middle).expect("the pool 2 task") + 1
            }
        });
        assert_eq!(outer.join().unwrap(), 42);
    });
}

/// `block_on` on a pool 1 worker of a future whose `poll` joins a pool 2
/// task (blocking inside `poll`), which joins a pool 1 task.
#[test]
fn block_on_on_a_worker_of_a_future_that_joins_another_pools_task_completes() {
    within("pool 1 block_on(join) -> pool 2 -> pool 1", || {
        let (pool1, pool2) = two_one_thread_pools();
        let outer = pool1.spawn({
            let (pool1, pool2) = (pool1.clone(), pool2.clone());
            move || {
                taskpool::block_on(async move {
                    let middle = pool2.spawn(move || {
                        std::thread::sleep(FALL_ASLEEP);
                        pool1.spawn(|| 41).join().expect("the pool 1 inner task")
                    });
                    middle.join().expect("the pool 2 task") + 1
                })
            }
        });
        assert_eq!(outer.join().unwrap(), 42);
    });
}

/// An async task of pool 1 that blocks in `join` on a pool 2 task, which
/// joins a pool 1 task.
#[test]
fn async_task_joining_another_pools_task_that_joins_back_completes() {
    within("pool 1 async join -> pool 2 -> pool 1", || {
        let (pool1, pool2) = two_one_thread_pools();
        let outer = pool1.spawn_async({
            let (pool1, pool2) = (pool1.clone(), pool2.clone());
            async move {
                let middle = pool2.spawn(move || {
                    std::thread::sleep(FALL_ASLEEP);
                    pool1.spawn(|| 41).join().expect("the pool 1 inner task")
                });
                middle.join().expect("the pool 2 task") + 1
            }
        });
        assert_eq!(outer.join().unwrap(), 42);
    });
}

/// Many rounds of the chain in both directions at once, on two-thread
/// pools: every worker may end up waiting on the other pool.
#[test]
fn two_pools_joining_each_other_in_both_directions_complete() {
    within("pools joining each other both ways", || {
        let pools = [Arc::new(ThreadPool::new(2)), Arc::new(ThreadPool::new(2))];
        let tasks: Vec<_> = (0..support::size(64, 4))
            .map(|i| {
                let (here, there) = (pools[i % 2].clone(), pools[(i + 1) % 2].clone());
                pools[i % 2].spawn(move || {
                    let back = here.clone();
                    let middle = there.spawn(move || back.spawn(move || i).join().unwrap() + 1);
                    middle.join().unwrap() + 1
                })
            })
            .collect();
        for (i, task) in tasks.into_iter().enumerate() {
            assert_eq!(task.join().unwrap(), i + 2);
        }
    });
}
