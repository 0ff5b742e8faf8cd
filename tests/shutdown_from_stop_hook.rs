//! A worker's `on_thread_stop` hook that shuts down, or drops, its own pool
//! (issue 10, defect 9).
//!
//! The docs promise that a shutdown called on one of the pool's own workers
//! begins the shutdown and returns at once; the stop hook runs on that
//! worker, so it must too. Every wait is bounded by the hang guard of
//! `support`; nothing here asserts on timing.

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, Weak};
use support::{recv_guarded, within};
use taskpool::ThreadPool;

/// A stop hook that calls `shutdown` on its own pool returns, and the
/// outside `shutdown` returns once every worker ran its hook.
///
/// Seen failing before the fix (the hang guard fired): the worker cleared
/// its current-worker marker before running the hook, so the hook's
/// `shutdown` waited for every worker to exit, its own included.
#[test]
fn on_thread_stop_hook_that_shuts_down_its_own_pool_does_not_deadlock() {
    within("shutdown from a stop hook", || {
        let slot: Arc<Mutex<Weak<ThreadPool>>> = Arc::default();
        let hooks_done = Arc::new(AtomicUsize::new(0));
        let pool = {
            let (slot, hooks_done) = (slot.clone(), hooks_done.clone());
            Arc::new(
                ThreadPool::builder()
                    .num_threads(2)
                    .on_thread_stop(move |_| {
                        let pool = slot.lock().unwrap().upgrade();
                        if let Some(pool) = pool {
                            pool.shutdown();
                        }
                        hooks_done.fetch_add(1, Ordering::SeqCst);
                    })
                    .build()
                    .unwrap(),
            )
        };
        *slot.lock().unwrap() = Arc::downgrade(&pool);
        pool.execute(|| {});
        pool.shutdown();
        assert_eq!(hooks_done.load(Ordering::SeqCst), 2);
    });
}

/// A stop hook that drops the last handle of its own pool: the drop, on
/// the pool's own worker, begins the shutdown and returns without waiting.
#[test]
fn on_thread_stop_hook_that_drops_the_last_handle_does_not_deadlock() {
    within("the last handle dropped in a stop hook", || {
        let slot: Arc<Mutex<Option<Arc<ThreadPool>>>> = Arc::default();
        let (done_sender, done) = mpsc::channel();
        let done_sender = Mutex::new(done_sender);
        let pool = {
            let slot = slot.clone();
            Arc::new(
                ThreadPool::builder()
                    .num_threads(1)
                    .on_thread_stop(move |_| {
                        let pool = slot.lock().unwrap().take();
                        let was_last = pool.as_ref().map(Arc::strong_count) == Some(1);
                        drop(pool);
                        done_sender.lock().unwrap().send(was_last).unwrap();
                    })
                    .build()
                    .unwrap(),
            )
        };
        *slot.lock().unwrap() = Some(pool.clone());
        // A job begins the shutdown and holds the pool open until this
        // thread dropped its handle, so that the hook holds the last one.
        let (closed_sender, closed) = mpsc::channel();
        let (dropped_sender, dropped) = mpsc::channel::<()>();
        {
            let in_job = pool.clone();
            pool.execute(move || {
                in_job.shutdown(); // on its own worker: begins, returns
                drop(in_job);
                closed_sender.send(()).unwrap();
                let _ = dropped.recv();
            });
        }
        recv_guarded("the job began the shutdown", &closed);
        drop(pool);
        dropped_sender.send(()).unwrap();
        assert!(
            recv_guarded("the stop hook dropped the pool", &done),
            "the stop hook held the last handle"
        );
    });
}
