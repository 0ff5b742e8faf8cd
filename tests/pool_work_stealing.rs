//! Work pushed on one worker's deque spreads to the other workers by
//! stealing.

mod support;

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use support::{Counter, Slots, spin_for};
use taskpool::ThreadPool;

const FLOOD: usize = if cfg!(miri) { 100 } else { 10_000 };

#[test]
fn one_job_flooding_its_own_deque_is_helped_by_stealing_workers() {
    let pool = Arc::new(ThreadPool::new(4));
    let slots = Arc::new(Slots::new(FLOOD));
    let done = Arc::new(Counter::new(FLOOD));
    let runners = Arc::new(Mutex::new(vec![None; FLOOD]));

    let (flooder_sender, flooder_receiver) = std::sync::mpsc::channel();
    {
        let pool_in_job = pool.clone();
        let (slots, done, runners) = (slots.clone(), done.clone(), runners.clone());
        pool.execute(move || {
            flooder_sender.send(std::thread::current().id()).unwrap();
            for id in 0..FLOOD {
                let (slots, done, runners) = (slots.clone(), done.clone(), runners.clone());
                // From a worker, `execute` pushes on this worker's own deque.
                pool_in_job.execute(move || {
                    spin_for(Duration::from_micros(30));
                    runners.lock().unwrap()[id] = Some(std::thread::current().id());
                    slots.hit(id);
                    done.add();
                });
            }
            // Keep this worker busy until one of its jobs has run: while it
            // is here, its deque can only be emptied by other workers
            // stealing from it, so this waits for a steal, not for luck.
            support::wait_until("another worker steals from the flooded deque", || {
                done.get() > 0
            });
        });
    }
    let flooder = flooder_receiver.recv_timeout(support::HANG_GUARD).unwrap();
    done.wait("the flooded jobs");
    pool.shutdown();

    slots.assert_each_exactly_once();
    let runners: HashSet<_> = runners.lock().unwrap().iter().map(|r| r.unwrap()).collect();
    assert!(
        runners.len() > 1,
        "all {FLOOD} jobs ran on one worker: {runners:?}"
    );
    assert!(
        runners.iter().any(|&runner| runner != flooder),
        "no job ran outside the flooding worker"
    );
    let metrics = pool.metrics();
    assert!(metrics.stolen > 0, "no steal was counted: {metrics:?}");
    assert_eq!(metrics.executed, 1 + FLOOD as u64);
    assert_eq!(metrics.queued, 0);
}

#[test]
fn a_job_pushed_while_the_other_worker_sleeps_wakes_it_to_steal() {
    // Two workers. Each link of the chain waits until the other worker has
    // gone to sleep, pushes the next link on its own deque, and waits until
    // that link has started: only the sleeping worker can take it, by
    // stealing, so every link needs the wake-up that a local push owes a
    // sleeper. A lost one stops the chain (and fails the hang guard).
    const LINKS: usize = if cfg!(miri) { 10 } else { 1_000 };

    struct Chain {
        pool: Arc<ThreadPool>,
        started: Slots,
        done: Counter,
    }

    fn link(chain: Arc<Chain>, index: usize) {
        // Read before marking this link started: the other worker is still
        // inside the previous link (from link 1 on), so it cannot park
        // between this read and that mark.
        let parked_before = chain.pool.metrics().parked;
        chain.started.hit(index);
        if index + 1 < LINKS {
            // Link 0 came from outside, and the other worker may have parked
            // before `parked_before` was read: it pushes without waiting.
            if index > 0 {
                // This worker is busy here: a new park is the other worker's.
                support::yield_until("the other worker parks", || {
                    chain.pool.metrics().parked > parked_before
                });
            }
            let next = chain.clone();
            chain.pool.execute(move || link(next, index + 1));
            support::yield_until("the sleeping worker steals the pushed job", || {
                chain.started.count(index + 1) > 0
            });
        }
        chain.done.add();
    }

    let pool = Arc::new(ThreadPool::new(2));
    let chain = Arc::new(Chain {
        pool: pool.clone(),
        started: Slots::new(LINKS),
        done: Counter::new(LINKS),
    });
    {
        let chain = chain.clone();
        pool.execute(move || link(chain, 0));
    }
    chain
        .done
        .wait("the chain of jobs each pushed while the other worker slept");
    chain.started.assert_each_exactly_once();
    drop(chain);
    pool.shutdown();
    let metrics = pool.metrics();
    assert_eq!(metrics.executed, LINKS as u64);
    // Every link but the first was taken from the other worker's deque.
    assert!(metrics.stolen >= (LINKS - 1) as u64, "{metrics:?}");
    // Links 2 and up were each pushed while the other worker slept.
    assert!(metrics.woken >= (LINKS - 2) as u64, "{metrics:?}");
}
