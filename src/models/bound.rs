//! The bound on queued work (`pool/bound.rs`): an outside submitter that
//! finds the queue full waits for room, and is woken when a worker takes an
//! entry, or when the pool shuts down.

use super::{Count, Signal};
use crate::ThreadPool;
use crate::sync::{Arc, thread};

/// One worker, room for one queued job, and two jobs from outside: the
/// second submission may find the first still queued and wait; the worker
/// taking the first must wake it.
///
/// Planted bugs seen caught: either of the two `SeqCst` fences of
/// `pool/bound.rs` removed (`release`'s, or the one after a waiter counts
/// itself): loom reports a deadlock (the worker read no waiter, the
/// waiter's reservation read the old count). The protocol before these
/// fences, `SeqCst` accesses alone, fails here the same way: loom treats
/// them as `AcqRel` (see `models/mod.rs`), so the fences are what it can
/// check. Result, `LOOM_MAX_PREEMPTIONS=2`, release: 1,216 interleavings.
#[test]
fn a_submitter_waiting_for_room_is_woken_when_a_worker_takes_a_job() {
    super::model(|| {
        let pool = ThreadPool::builder()
            .num_threads(1)
            .max_queued(1)
            .build()
            .unwrap();
        let (first, second) = (Arc::new(Signal::default()), Arc::new(Signal::default()));
        for signal in [&first, &second] {
            let signal = signal.clone();
            pool.execute(move || signal.set());
        }
        first.wait();
        second.wait();
        drop(pool);
    });
}

/// A submitter waits for room behind a job that holds the only worker
/// while another thread shuts the pool down: shutdown ends the wait (the
/// job holding the worker ends only after the submitter is back), and each
/// submission is refused or run, never lost.
///
/// Planted bug seen caught: `Bound::wake_all` not notifying: the submitter
/// waits for room that never comes, and loom reports a deadlock. Result:
/// 34,824 interleavings in about 3 s.
#[test]
fn a_submitter_waiting_for_room_gives_up_at_shutdown() {
    super::model(|| {
        let pool = Arc::new(
            ThreadPool::builder()
                .num_threads(1)
                .max_queued(1)
                .build()
                .unwrap(),
        );
        let (runs, refusals) = (Count::new(), Count::new());
        let submitter = {
            let (pool, runs, refusals) = (pool.clone(), runs.clone(), refusals.clone());
            thread::spawn(move || {
                let go = Arc::new(Signal::default());
                let held = {
                    let (go, runs) = (go.clone(), runs.clone());
                    pool.spawn(move || {
                        go.wait();
                        runs.add();
                    })
                };
                // The first may be queued behind `held`, the second then
                // waits for room until shutdown.
                let tasks: Vec<_> = (0..2)
                    .map(|_| {
                        let runs = runs.clone();
                        pool.spawn(move || runs.add())
                    })
                    .collect();
                go.set();
                for task in [held].into_iter().chain(tasks) {
                    if task.join().is_err() {
                        refusals.add();
                    }
                }
            })
        };
        pool.shutdown();
        submitter.join().unwrap();
        assert_eq!(runs.get() + refusals.get(), 3, "a submission lost");
    });
}
