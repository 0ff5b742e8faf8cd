//! An idle pool sleeps: every worker parks once and stays parked until work
//! arrives, and work that arrives then is run.

mod support;

use std::time::Duration;
use taskpool::ThreadPool;

#[test]
fn an_idle_pool_parks_every_worker_and_wakes_for_new_work() {
    const THREADS: usize = 4;
    let pool = ThreadPool::new(THREADS);
    std::thread::sleep(Duration::from_millis(200));
    // Normally true already; on a very busy machine a worker may not have
    // had the CPU yet, so wait for it rather than fail.
    support::wait_until("every worker parks", || {
        pool.metrics().parked >= THREADS as u64
    });
    let parked = pool.metrics();
    // Nothing woke them: each parked exactly once.
    assert_eq!(parked.parked, THREADS as u64, "{parked:?}");
    assert_eq!(parked.woken, 0, "{parked:?}");

    // Idle stays idle: no worker wakes up on its own.
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(pool.metrics(), parked);

    // A job submitted to the sleeping pool wakes a worker and runs.
    let (sender, receiver) = std::sync::mpsc::channel();
    pool.execute(move || sender.send(support::current_thread_name()).unwrap());
    let name = receiver.recv_timeout(support::HANG_GUARD).unwrap();
    assert!(name.starts_with("taskpool-worker-"), "{name}");
    let after = pool.metrics();
    assert!(after.woken >= 1, "{after:?}");
    // The submit wakes one worker, and that one may wake one more as it
    // finds the job (the ramp-up of sleep.md): never the whole pool.
    assert!(
        after.woken < THREADS as u64,
        "one job woke every worker: {after:?}"
    );
    pool.shutdown();
    assert_eq!(pool.metrics().executed, 1);
}

#[test]
fn a_pool_idle_between_bursts_runs_each_burst() {
    const THREADS: usize = 2;
    const BURSTS: usize = 5;
    const PER_BURST: usize = 100;
    let pool = ThreadPool::new(THREADS);
    for _ in 0..BURSTS {
        // Pacing only, asserted nowhere: long enough for the workers to
        // spin out and park, so that each burst starts on a sleeping pool.
        std::thread::sleep(Duration::from_millis(50));
        let done = std::sync::Arc::new(support::Counter::new(PER_BURST));
        for _ in 0..PER_BURST {
            let done = done.clone();
            pool.execute(move || done.add());
        }
        done.wait("a burst after an idle pause");
    }
    pool.shutdown();
    assert_eq!(pool.metrics().executed, (BURSTS * PER_BURST) as u64);
}

#[test]
fn one_job_at_a_time_into_a_sleeping_pool_wakes_it_every_time() {
    // One worker; before each job, wait until it has parked again (it parks
    // exactly once per round, and only a submission wakes it), so every
    // submission has to wake a sleeper. A lost wake-up strands the job.
    const ROUNDS: usize = if cfg!(miri) { 10 } else { 2_000 };
    let pool = ThreadPool::new(1);
    let (sender, receiver) = std::sync::mpsc::channel();
    for round in 0..ROUNDS {
        support::yield_until("the worker parks", || pool.metrics().parked > round as u64);
        let sender = sender.clone();
        pool.execute(move || sender.send(round).unwrap());
        assert_eq!(receiver.recv_timeout(support::HANG_GUARD), Ok(round));
    }
    let metrics = pool.metrics();
    assert_eq!(metrics.woken, ROUNDS as u64, "{metrics:?}");
    pool.shutdown();
    assert_eq!(pool.metrics().executed, ROUNDS as u64);
}

#[test]
fn one_job_at_a_time_into_a_pool_falling_asleep_runs_every_time() {
    // Submit, wait for it, submit again, with no pause: each submission
    // races with the workers spinning down towards sleep.
    const ROUNDS: usize = if cfg!(miri) { 20 } else { 10_000 };
    let pool = ThreadPool::new(2);
    let (sender, receiver) = std::sync::mpsc::channel();
    for round in 0..ROUNDS {
        let sender = sender.clone();
        pool.execute(move || sender.send(round).unwrap());
        assert_eq!(receiver.recv_timeout(support::HANG_GUARD), Ok(round));
    }
    pool.shutdown();
    assert_eq!(pool.metrics().executed, ROUNDS as u64);
}
