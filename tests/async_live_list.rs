//! The live list of async tasks (what shutdown cancels) holds every pending
//! task, however many one thread spawns.
//!
//! Planted bug this pins: the list's key packed the shard into the high half
//! of a `usize`, leaving 16 bits of index on 32-bit targets; past 65,536
//! pending tasks from one thread the keys aliased, some tasks were never
//! cancelled at shutdown and their joins hung (seen on i686, which CI builds
//! and runs this file on).

mod support;

use std::future::pending;
use support::{DropCounter, join_guarded, size, within};
use taskpool::ThreadPool;

#[test]
fn shutdown_cancels_every_one_of_seventy_thousand_pending_tasks_from_one_thread() {
    let count = size(70_000, 40);
    let pool = ThreadPool::new(2);
    let locals = DropCounter::new();
    let tasks: Vec<_> = (0..count)
        .map(|_| {
            let held = locals.track();
            pool.spawn_async(async move {
                let _held = held;
                pending::<()>().await;
            })
        })
        .collect();
    let pool = within("shutdown with pending tasks", move || {
        pool.shutdown();
        pool
    });
    for task in tasks {
        assert!(
            join_guarded("a pending task after shutdown", task)
                .unwrap_err()
                .is_cancelled()
        );
    }
    assert_eq!(locals.drops(), count, "each future dropped exactly once");
    assert_eq!(pool.metrics().panicked, 0);
}
