//! `Builder::max_queued`: bounded submission. `try_execute` / `try_spawn`
//! hand back what does not fit, `execute` / `spawn` wait for room from
//! outside and run in place on a worker, and shutdown releases waiters.

mod support;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, mpsc};
use std::thread;
use std::time::Duration;
use support::{Gate, Slots, join_guarded, recv_guarded, wait_until, within};
use taskpool::{BuildErrorKind, ThreadPool};

const BOUND: usize = 100;

fn bounded(threads: usize, bound: usize) -> ThreadPool {
    ThreadPool::builder()
        .num_threads(threads)
        .max_queued(bound)
        .build()
        .unwrap()
}

/// Holds the pool's only worker until the returned gate opens.
fn hold_the_worker(pool: &ThreadPool) -> Arc<Gate> {
    let gate = Arc::new(Gate::new());
    let (started, wait) = mpsc::channel();
    let held = gate.clone();
    pool.execute(move || {
        started.send(()).unwrap();
        held.wait();
    });
    recv_guarded("the worker is held", &wait);
    gate
}

/// Outcome: 4 outside threads submit many jobs (half through `try_execute`,
/// which hands back what does not fit, and the caller then `execute`s it,
/// waiting for room); the queue, sampled meanwhile, never holds more than
/// the bound, and every job runs exactly once.
#[test]
fn four_submitters_never_queue_more_than_the_bound_and_every_job_runs_once() {
    within("bounded submitters", || {
        let jobs = if cfg!(miri) {
            200
        } else if cfg!(debug_assertions) {
            200_000
        } else {
            1_000_000
        };
        let pool = bounded(2, BOUND);
        let slots = Arc::new(Slots::new(jobs));
        let refused = AtomicUsize::new(0);
        let done = AtomicBool::new(false);
        let mut most = 0;
        thread::scope(|scope| {
            for submitter in 0..4 {
                let (pool, slots, refused) = (&pool, &slots, &refused);
                scope.spawn(move || {
                    for id in (submitter..jobs).step_by(4) {
                        let slots = slots.clone();
                        let job = move || slots.hit(id);
                        if id % 2 == 0 {
                            pool.execute(job);
                        } else if let Err(error) = pool.try_execute(job) {
                            assert!(error.is_full() && !error.is_shutdown(), "{error}");
                            refused.fetch_add(1, Ordering::Relaxed);
                            pool.execute(error.into_inner());
                        }
                    }
                });
            }
            scope.spawn(|| {
                while !done.load(Ordering::Relaxed) {
                    most = most.max(pool.metrics().queued);
                    if cfg!(miri) {
                        // Sampling less often keeps the interpreter on the work.
                        thread::sleep(Duration::from_millis(1));
                    } else {
                        thread::yield_now();
                    }
                }
            });
            wait_until("every job ran", || pool.metrics().executed >= jobs as u64);
            done.store(true, Ordering::Relaxed);
        });
        pool.shutdown();
        assert!(most <= BOUND, "sampled {most} queued, bound {BOUND}");
        slots.assert_each_exactly_once();
        assert_eq!(pool.metrics().executed, jobs as u64);
        println!(
            "{} of {} try_execute calls found the queue full",
            refused.into_inner(),
            jobs / 2
        );
    });
}

/// Outcome: on a worker, `execute` and `spawn` into their own full pool run
/// the closure right there, before returning; `try_execute` and
/// `try_spawn` hand it back as full.
#[test]
fn a_worker_submitting_to_its_full_pool_runs_the_closure_itself() {
    within("a worker on its full pool", || {
        let pool = Arc::new(bounded(1, 1));
        let inner = pool.clone();
        let outcome = pool
            .spawn(move || {
                let here = thread::current().id();
                // Room for one: queued behind this job.
                let queued_ran = Arc::new(AtomicBool::new(false));
                let flag = queued_ran.clone();
                inner.execute(move || flag.store(true, Ordering::SeqCst));
                // Full now: runs in place.
                let (sender, receiver) = mpsc::channel();
                inner.execute(move || sender.send(thread::current().id()).unwrap());
                let ran_on = receiver.try_recv().expect("ran before execute returned");
                let task = inner.spawn(|| thread::current().id());
                assert!(task.is_finished(), "spawn ran the closure in place");
                let spawned_on = task.join().unwrap();
                let refused = inner.try_execute(|| ()).unwrap_err();
                assert!(refused.is_full());
                let refused = inner.try_spawn(|| 5).unwrap_err();
                assert!(refused.is_full());
                assert_eq!((refused.into_inner())(), 5);
                (
                    ran_on == here,
                    spawned_on == here,
                    queued_ran.load(Ordering::SeqCst),
                )
            })
            .join()
            .unwrap();
        assert_eq!(outcome, (true, true, false));
        drop(pool);
    });
}

/// Outcome: from outside, `execute` into a full pool waits (it cannot
/// return while the only worker is held and the queue full), and proceeds
/// once the worker starts a queued job; `try_spawn` hands its closure back
/// meanwhile.
#[test]
fn execute_from_outside_waits_for_room_then_proceeds() {
    within("waiting for room", || {
        let pool = bounded(1, 2);
        let gate = hold_the_worker(&pool);
        let ran = Arc::new(AtomicUsize::new(0));
        for _ in 0..2 {
            let ran = ran.clone();
            pool.execute(move || {
                ran.fetch_add(1, Ordering::SeqCst);
            });
        }
        assert!(pool.try_spawn(|| ()).unwrap_err().is_full());
        let returned = AtomicBool::new(false);
        thread::scope(|scope| {
            let waiter = scope.spawn(|| {
                let ran = ran.clone();
                pool.execute(move || {
                    ran.fetch_add(1, Ordering::SeqCst);
                });
                returned.store(true, Ordering::SeqCst);
            });
            thread::sleep(Duration::from_millis(20));
            // The worker is held and the queue full: no room can appear.
            assert!(!returned.load(Ordering::SeqCst), "execute did not wait");
            assert!(pool.metrics().queued <= 2);
            gate.open();
            waiter.join().unwrap();
        });
        pool.shutdown();
        assert_eq!(ran.load(Ordering::SeqCst), 3);
    });
}

/// Outcome: submitters waiting for room when the pool shuts down do not
/// hang: they get the shut-down outcome (`spawn` returns a cancelled task)
/// while the worker is still busy, and the queued work still runs.
#[test]
fn shutdown_releases_submitters_waiting_for_room() {
    within("shutdown with waiters", || {
        let pool = bounded(1, 1);
        let gate = hold_the_worker(&pool);
        let queued_ran = Arc::new(AtomicBool::new(false));
        let flag = queued_ran.clone();
        pool.execute(move || flag.store(true, Ordering::SeqCst));
        let pool = &pool;
        thread::scope(|scope| {
            let waiters: Vec<_> = (0..3)
                .map(|i| scope.spawn(move || pool.spawn(move || i)))
                .collect();
            thread::sleep(Duration::from_millis(20));
            let closer = scope.spawn(|| pool.shutdown());
            for waiter in waiters {
                let task = waiter.join().unwrap();
                let error = join_guarded("a refused spawn", task).unwrap_err();
                assert!(error.is_cancelled());
            }
            // The waiters got their answer while the worker is still held:
            // only now does it go on.
            gate.open();
            closer.join().unwrap();
        });
        assert!(queued_ran.load(Ordering::SeqCst));
        assert!(pool.try_execute(|| ()).unwrap_err().is_shutdown());
        if let Some(live) = pool.debug_live_tasks() {
            assert_eq!(live, 0);
        }
    });
}

/// Outcome: a bound of zero is a build error that names the setting.
#[test]
fn a_zero_bound_is_a_build_error() {
    let error = ThreadPool::builder().max_queued(0).build().unwrap_err();
    assert!(matches!(
        error.kind(),
        BuildErrorKind::InvalidSetting {
            setting: "max_queued",
            ..
        }
    ));
    assert!(error.to_string().contains("max_queued"), "{error}");
}
