//! The blocking threads (`pool/blocking.rs`): a job submitted while the
//! pool's one blocking thread goes idle is run, and shutdown both waits for
//! queued blocking work and ends the idle threads. loom never times a wait
//! out, so an idle thread here waits until it is woken or the set closes:
//! the keep-alive retirement is not modelled.

use super::Count;
use crate::ThreadPool;
use crate::sync::{Arc, thread};

fn pool() -> ThreadPool {
    ThreadPool::builder()
        .num_threads(1)
        .max_blocking_threads(1)
        .build()
        .unwrap()
}

/// The second job is submitted while the only blocking thread runs the
/// first: it finds the thread running (and queues the job for it), on its
/// way to idle, or idle (and wakes it). Then shutdown ends the idle thread.
///
/// With two preemptions this explores for more than eight minutes, so it
/// runs with one: 150,810 interleavings in about 15 s.
///
/// Planted bugs seen caught: a submission that finds an idle thread not
/// waking it (`notify_one` removed), and `BlockingSet::close` not waking
/// the idle threads: loom reports a deadlock either way.
#[test]
fn a_job_submitted_while_the_blocking_thread_goes_idle_is_run() {
    super::model_preempting_at_most(1, || {
        let pool = pool();
        let first = pool.spawn_blocking(|| 1);
        let second = pool.spawn_blocking(|| 2);
        assert_eq!(first.join().unwrap() + second.join().unwrap(), 3);
        drop(pool);
    });
}

/// A blocking submission from another thread races shutdown: it is refused,
/// or accepted and run before shutdown returns; the blocking thread, if one
/// started, has exited when shutdown returns.
///
/// Planted bug seen caught: `BlockingSet::close` not waking the idle
/// threads: shutdown waits for a thread that sleeps forever (deadlock).
/// Result, two preemptions: 47,139 interleavings in about 11 s.
#[test]
fn a_blocking_submission_races_shutdown() {
    super::model(|| {
        let pool = Arc::new(pool());
        let (runs, refusals) = (Count::new(), Count::new());
        let submitter = {
            let (pool, runs, refusals) = (pool.clone(), runs.clone(), refusals.clone());
            thread::spawn(move || {
                let runs = runs.clone();
                if pool.spawn_blocking(move || runs.add()).join().is_err() {
                    refusals.add();
                }
            })
        };
        pool.shutdown();
        assert_eq!(
            pool.metrics().blocking_threads,
            0,
            "a blocking thread outlived shutdown"
        );
        submitter.join().unwrap();
        assert_eq!(runs.get() + refusals.get(), 1, "a submission lost");
    });
}
