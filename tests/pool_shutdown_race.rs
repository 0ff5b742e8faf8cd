//! Outside submissions racing with shutdown: each one is either refused and
//! handed back, or accepted and then run exactly once and counted in the
//! metrics. (`pool_shutdown_paused_push.rs` stops one submission inside its
//! push to pin the same race deterministically.)

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use support::Slots;
use taskpool::ThreadPool;

#[test]
fn submissions_racing_with_shutdown_either_run_once_or_are_handed_back() {
    // Several threads keep submitting while the pool shuts down: every job
    // the pool accepted runs exactly once, every refused one comes back
    // unrun, and nothing is lost in between.
    const ROUNDS: usize = if cfg!(miri) { 2 } else { 50 };
    const SUBMITTERS: usize = 3;
    const PER_SUBMITTER: usize = 2_000;
    for round in 0..ROUNDS {
        let pool = ThreadPool::new(2);
        let runs = Arc::new(Slots::new(SUBMITTERS * PER_SUBMITTER));
        let tried = AtomicUsize::new(0);
        let accepted: Vec<Vec<bool>> = std::thread::scope(|scope| {
            let submitters: Vec<_> = (0..SUBMITTERS)
                .map(|submitter| {
                    let (pool, runs, tried) = (&pool, &runs, &tried);
                    scope.spawn(move || {
                        (0..PER_SUBMITTER)
                            .map(|job| {
                                let id = submitter * PER_SUBMITTER + job;
                                let runs_in_job = runs.clone();
                                let accepted = match pool.try_execute(move || runs_in_job.hit(id)) {
                                    Ok(()) => true,
                                    Err(refused) => {
                                        drop(refused.into_inner());
                                        false
                                    }
                                };
                                if tried.fetch_add(1, Ordering::Relaxed) % 64 == 0 {
                                    // Let the shutting-down thread in.
                                    std::thread::yield_now();
                                }
                                accepted
                            })
                            .collect()
                    })
                })
                .collect();
            // Shut down in the middle of the submissions, at a different
            // point in each round.
            let cut = round * SUBMITTERS * PER_SUBMITTER / ROUNDS;
            while tried.load(Ordering::Relaxed) < cut {
                std::thread::yield_now();
            }
            pool.shutdown();
            submitters.into_iter().map(|s| s.join().unwrap()).collect()
        });
        let accepted: Vec<bool> = accepted.into_iter().flatten().collect();
        let accepted_count = accepted.iter().filter(|&&a| a).count();
        for (id, &was_accepted) in accepted.iter().enumerate() {
            assert_eq!(
                runs.count(id),
                u8::from(was_accepted),
                "round {round}: job {id} (accepted: {was_accepted})"
            );
        }
        assert_eq!(pool.metrics().executed, accepted_count as u64);
        // After a refusal, everything later from the same thread is refused.
        for submitter in accepted.chunks(PER_SUBMITTER) {
            let first_refused = submitter
                .iter()
                .position(|&a| !a)
                .unwrap_or(submitter.len());
            assert!(submitter[first_refused..].iter().all(|&a| !a));
        }
    }
}
