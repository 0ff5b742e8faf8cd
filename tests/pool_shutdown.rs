//! Shutdown and drop are graceful: outside submissions stop, everything
//! queued runs (and what it submits), the threads stop, and nothing hangs.

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;
use support::{Counter, Gate, HANG_GUARD, Slots};
use taskpool::ThreadPool;

const QUEUED: usize = if cfg!(miri) { 1_000 } else { 100_000 };

/// Occupies every worker of `pool` with a job that waits at `gate`, and
/// returns once all of them are waiting, so that later jobs stay queued.
fn block_every_worker(pool: &ThreadPool, threads: usize, gate: &Arc<Gate>) {
    let waiting = Arc::new(Counter::new(threads));
    for _ in 0..threads {
        let (waiting, gate) = (waiting.clone(), gate.clone());
        pool.execute(move || {
            waiting.add();
            gate.wait();
        });
    }
    waiting.wait("every worker blocked at the gate");
}

/// Opens `gate` as soon as the pool behind `pool` starts being dropped (its
/// last `Arc` is gone), so that the drop begins with the work still queued.
fn open_gate_once_dropped(pool: Weak<ThreadPool>, gate: Arc<Gate>) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        // Only count: upgrading would make this thread a possible last owner.
        support::wait_until("the pool is dropped", || pool.strong_count() == 0);
        gate.open();
    })
}

/// Opens `gate` as soon as `pool` refuses outside work (shutdown began). The
/// probe jobs it gets in before that are counted in the return value.
fn open_gate_once_closed(pool: &ThreadPool, gate: &Gate) -> usize {
    let mut accepted = 0;
    support::wait_until("the pool closes", || match pool.try_execute(|| {}) {
        Ok(()) => {
            accepted += 1;
            false
        }
        Err(_) => true,
    });
    gate.open();
    accepted
}

#[test]
fn dropping_a_pool_with_100k_queued_jobs_runs_every_one_of_them() {
    const THREADS: usize = 2;
    let pool = Arc::new(ThreadPool::new(THREADS));
    let gate = Arc::new(Gate::new());
    block_every_worker(&pool, THREADS, &gate);

    let slots = Arc::new(Slots::new(QUEUED));
    for id in 0..QUEUED {
        let slots = slots.clone();
        pool.execute(move || slots.hit(id));
    }
    assert_eq!(pool.metrics().queued, QUEUED);

    let opener = open_gate_once_dropped(Arc::downgrade(&pool), gate);
    drop(pool);
    opener.join().unwrap();
    slots.assert_each_exactly_once();
    assert_eq!(Arc::strong_count(&slots), 1, "a closure leaked");
}

#[test]
fn jobs_submitted_by_draining_jobs_during_shutdown_all_run() {
    // Each root job submits a tree of jobs through `pool.execute` from its
    // worker; the roots only start once shutdown has begun, so every one of
    // those submissions happens while the pool drains.
    const THREADS: usize = 2;
    const ROOTS: usize = if cfg!(miri) { 4 } else { 100 };
    const FAN_OUT: usize = 10;
    const DEPTH: u32 = 3;
    const PER_ROOT: usize = (FAN_OUT.pow(DEPTH + 1) - 1) / (FAN_OUT - 1);

    fn tree(pool: Arc<ThreadPool>, ran: Arc<AtomicUsize>, depth: u32) {
        ran.fetch_add(1, Ordering::Relaxed);
        if depth > 0 {
            for _ in 0..FAN_OUT {
                let (child_pool, ran) = (pool.clone(), ran.clone());
                pool.execute(move || tree(child_pool, ran, depth - 1));
            }
        }
    }

    let pool = Arc::new(ThreadPool::new(THREADS));
    let gate = Arc::new(Gate::new());
    block_every_worker(&pool, THREADS, &gate);
    let ran = Arc::new(AtomicUsize::new(0));
    for _ in 0..ROOTS {
        let (pool_in_job, ran) = (pool.clone(), ran.clone());
        pool.execute(move || tree(pool_in_job, ran, DEPTH));
    }

    let probes = std::thread::scope(|scope| {
        let opener = scope.spawn(|| open_gate_once_closed(&pool, &gate));
        pool.shutdown();
        opener.join().unwrap()
    });

    assert_eq!(ran.load(Ordering::Relaxed), ROOTS * PER_ROOT);
    let metrics = pool.metrics();
    assert_eq!(
        metrics.executed,
        (THREADS + ROOTS * PER_ROOT + probes) as u64
    );
    assert_eq!(metrics.queued, 0);
    assert_eq!(
        Arc::strong_count(&pool),
        1,
        "a job's clone outlived shutdown"
    );
}

#[test]
fn free_function_submissions_from_draining_jobs_during_drop_all_run() {
    // Like the test above, through `taskpool::execute` (which, on a worker,
    // submits to that worker's pool) and with the pool dropped.
    const THREADS: usize = 2;
    const ROOTS: usize = if cfg!(miri) { 10 } else { 1_000 };
    const CHILDREN: usize = 100;

    let pool = Arc::new(ThreadPool::new(THREADS));
    let gate = Arc::new(Gate::new());
    block_every_worker(&pool, THREADS, &gate);
    let slots = Arc::new(Slots::new(ROOTS * CHILDREN));
    for root in 0..ROOTS {
        let slots = slots.clone();
        pool.execute(move || {
            for child in 0..CHILDREN {
                let slots = slots.clone();
                taskpool::execute(move || slots.hit(root * CHILDREN + child));
            }
        });
    }
    let opener = open_gate_once_dropped(Arc::downgrade(&pool), gate);
    drop(pool);
    opener.join().unwrap();
    slots.assert_each_exactly_once();
    assert_eq!(Arc::strong_count(&slots), 1, "a closure leaked");
}

#[test]
fn dropping_the_last_arc_inside_a_job_does_not_deadlock_and_every_thread_stops() {
    for threads in [1, 4] {
        let (stopped_sender, stopped) = std::sync::mpsc::channel();
        let pool = Arc::new(
            ThreadPool::builder()
                .num_threads(threads)
                .on_thread_stop(move |index| stopped_sender.send(index).unwrap())
                .build()
                .unwrap(),
        );

        let (go_sender, go) = std::sync::mpsc::channel::<()>();
        let (dropped_sender, dropped) = std::sync::mpsc::channel();
        let pool_in_job = pool.clone();
        pool.execute(move || {
            go.recv_timeout(HANG_GUARD).unwrap();
            let last = Arc::into_inner(pool_in_job).expect("the job holds the last reference");
            drop(last);
            dropped_sender.send(()).unwrap();
        });
        drop(pool);
        go_sender.send(()).unwrap();

        dropped
            .recv_timeout(HANG_GUARD)
            .expect("dropping the pool on its own worker returned");
        let mut indices: Vec<usize> = (0..threads)
            .map(|_| stopped.recv_timeout(HANG_GUARD).expect("a worker stopped"))
            .collect();
        indices.sort();
        assert_eq!(
            indices,
            (0..threads).collect::<Vec<_>>(),
            "{threads} threads"
        );
    }
}

#[test]
fn shutdown_called_from_inside_a_job_returns_and_the_pool_still_drains() {
    const THREADS: usize = 2;
    const AFTER: usize = 1_000;
    let pool = Arc::new(ThreadPool::new(THREADS));
    let gate = Arc::new(Gate::new());
    let (returned_sender, returned) = std::sync::mpsc::channel();
    {
        let (pool_in_job, gate) = (pool.clone(), gate.clone());
        pool.execute(move || {
            gate.wait();
            pool_in_job.shutdown();
            returned_sender.send(()).unwrap();
        });
    }
    let ran = Arc::new(AtomicUsize::new(0));
    for _ in 0..AFTER {
        let ran = ran.clone();
        pool.execute(move || {
            ran.fetch_add(1, Ordering::Relaxed);
        });
    }
    gate.open();
    returned
        .recv_timeout(HANG_GUARD)
        .expect("shutdown on a worker returned");
    assert!(pool.try_execute(|| {}).is_err());
    pool.shutdown();
    assert_eq!(ran.load(Ordering::Relaxed), AFTER);
    assert_eq!(pool.metrics().executed, 1 + AFTER as u64);
}

#[test]
fn try_execute_after_shutdown_hands_back_the_same_closure_unrun() {
    let pool = ThreadPool::new(2);
    pool.shutdown();

    let captured = Arc::new(String::from("the captured value"));
    let (in_closure, handed_over) = (captured.clone(), Arc::new(Mutex::new(None)));
    let handed_over_in_closure = handed_over.clone();
    let error = pool
        .try_execute(move || *handed_over_in_closure.lock().unwrap() = Some(in_closure))
        .expect_err("a shut-down pool refuses work");
    assert_eq!(
        error.to_string(),
        "the thread pool is shutting down and takes no new work"
    );
    // Not run, not dropped: the closure still holds its clone.
    assert_eq!(Arc::strong_count(&captured), 2);
    assert!(handed_over.lock().unwrap().is_none());

    let job = error.into_inner();
    job();
    let returned = handed_over.lock().unwrap().take().expect("the closure ran");
    assert!(Arc::ptr_eq(&returned, &captured));
    drop(returned);
    assert_eq!(Arc::strong_count(&captured), 1);
    assert_eq!(pool.metrics().executed, 0);
}

#[test]
#[should_panic(expected = "ThreadPool::execute called on a pool that was shut down")]
fn execute_after_shutdown_panics_with_a_clear_message() {
    let pool = ThreadPool::new(1);
    pool.shutdown();
    pool.execute(|| {});
}

#[test]
fn shutdown_timeout_is_false_while_a_job_runs_and_true_once_it_ended() {
    let pool = ThreadPool::new(2);
    let gate = Arc::new(Gate::new());
    let ran = Arc::new(AtomicUsize::new(0));
    {
        let (gate, ran) = (gate.clone(), ran.clone());
        pool.execute(move || {
            gate.wait();
            ran.fetch_add(1, Ordering::SeqCst);
        });
    }
    // The job cannot end before the gate opens, whatever the timing.
    assert!(!pool.shutdown_timeout(Duration::ZERO));
    assert!(!pool.shutdown_timeout(Duration::from_millis(10)));
    assert!(pool.try_execute(|| {}).is_err(), "shutdown began");
    assert_eq!(ran.load(Ordering::SeqCst), 0);

    gate.open();
    assert!(pool.shutdown_timeout(HANG_GUARD));
    assert_eq!(ran.load(Ordering::SeqCst), 1);
    // Stopped: any timeout, zero or too large to add to now, returns at once.
    assert!(pool.shutdown_timeout(Duration::ZERO));
    assert!(pool.shutdown_timeout(Duration::MAX));
    assert_eq!(pool.metrics().executed, 1);
}

#[test]
fn shutdown_timeout_of_duration_max_waits_like_shutdown() {
    let pool = ThreadPool::new(2);
    let ran = Arc::new(AtomicUsize::new(0));
    for _ in 0..100 {
        let ran = ran.clone();
        pool.execute(move || {
            ran.fetch_add(1, Ordering::SeqCst);
        });
    }
    assert!(pool.shutdown_timeout(Duration::MAX));
    assert_eq!(ran.load(Ordering::SeqCst), 100);
}

#[test]
fn shutting_down_twice_then_dropping_is_harmless() {
    let stopped = Arc::new(AtomicUsize::new(0));
    let pool = {
        let stopped = stopped.clone();
        ThreadPool::builder()
            .num_threads(3)
            .on_thread_stop(move |_| {
                stopped.fetch_add(1, Ordering::SeqCst);
            })
            .build()
            .unwrap()
    };
    pool.execute(|| {});
    pool.shutdown();
    let after_first = pool.metrics();
    pool.shutdown();
    assert_eq!(pool.metrics(), after_first);
    assert_eq!(after_first.executed, 1);
    drop(pool);
    assert_eq!(stopped.load(Ordering::SeqCst), 3);
}

#[test]
fn shutdown_from_several_threads_at_once_returns_in_each_after_every_worker_stopped() {
    const THREADS: usize = 3;
    const CALLERS: usize = 4;
    let stopped = Arc::new(AtomicUsize::new(0));
    let pool = {
        let stopped = stopped.clone();
        ThreadPool::builder()
            .num_threads(THREADS)
            .on_thread_stop(move |_| {
                stopped.fetch_add(1, Ordering::SeqCst);
            })
            .build()
            .unwrap()
    };
    let gate = Arc::new(Gate::new());
    block_every_worker(&pool, THREADS, &gate);
    for _ in 0..1_000 {
        pool.execute(|| {});
    }
    let start = std::sync::Barrier::new(CALLERS + 1);
    std::thread::scope(|scope| {
        for _ in 0..CALLERS {
            scope.spawn(|| {
                start.wait();
                pool.shutdown();
                assert_eq!(stopped.load(Ordering::SeqCst), THREADS);
            });
        }
        start.wait();
        gate.open();
    });
    assert_eq!(pool.metrics().executed, (THREADS + 1_000) as u64);
}

#[test]
fn dropping_the_last_arc_inside_a_job_still_runs_the_jobs_queued_behind_it() {
    const THREADS: usize = 2;
    const BEHIND: usize = 10_000;
    let (stopped_sender, stopped) = std::sync::mpsc::channel();
    let pool = Arc::new(
        ThreadPool::builder()
            .num_threads(THREADS)
            .on_thread_stop(move |index| stopped_sender.send(index).unwrap())
            .build()
            .unwrap(),
    );
    let gate = Arc::new(Gate::new());
    {
        let (pool_in_job, gate) = (pool.clone(), gate.clone());
        pool.execute(move || {
            gate.wait();
            drop(Arc::into_inner(pool_in_job).expect("the job holds the last reference"));
        });
    }
    let slots = Arc::new(Slots::new(BEHIND));
    for id in 0..BEHIND {
        let slots = slots.clone();
        pool.execute(move || slots.hit(id));
    }
    drop(pool);
    gate.open();
    for _ in 0..THREADS {
        stopped.recv_timeout(HANG_GUARD).expect("a worker stopped");
    }
    slots.assert_each_exactly_once();
}
