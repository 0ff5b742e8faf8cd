//! Outside work is not starved by a worker that keeps feeding its own deque.

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use taskpool::ThreadPool;

#[test]
fn an_outside_job_runs_while_a_worker_keeps_resubmitting_to_its_own_deque() {
    // On a one-thread pool, a job that re-submits itself until told to stop
    // always leaves a newer job on the worker's own deque; the outside job
    // that tells it to stop waits in the injector and must still get its turn.
    fn feed(pool: Arc<ThreadPool>, stop: Arc<AtomicBool>, fed: Arc<AtomicUsize>) {
        fed.fetch_add(1, Ordering::Relaxed);
        if !stop.load(Ordering::Relaxed) {
            let next_pool = pool.clone();
            pool.execute(move || feed(next_pool, stop, fed));
        }
    }

    let pool = Arc::new(ThreadPool::new(1));
    let stop = Arc::new(AtomicBool::new(false));
    let fed = Arc::new(AtomicUsize::new(0));
    {
        let (pool_in_job, stop, fed) = (pool.clone(), stop.clone(), fed.clone());
        pool.execute(move || feed(pool_in_job, stop, fed));
    }
    support::wait_until("the feeding job starts", || fed.load(Ordering::Relaxed) > 0);

    let (sender, receiver) = std::sync::mpsc::channel();
    {
        let stop = stop.clone();
        pool.execute(move || {
            stop.store(true, Ordering::Relaxed);
            sender.send(()).unwrap();
        });
    }
    let outcome = receiver.recv_timeout(support::HANG_GUARD);
    // Stop the feeder in any case, so that a failure does not hang the drop.
    stop.store(true, Ordering::Relaxed);
    assert!(
        outcome.is_ok(),
        "the outside job starved behind the feeding worker"
    );
    pool.shutdown();
    let fed = fed.load(Ordering::Relaxed) as u64;
    assert_eq!(pool.metrics().executed, fed + 1);
}
