//! `ThreadPool` is `Send + Sync + Debug` and can be shared by reference with
//! scoped threads or through an `Arc` with spawned ones.

mod support;

use std::fmt::Debug;
use std::sync::Arc;
use support::{Counter, Slots};
use taskpool::{BuildError, Builder, ExecuteError, Metrics, ThreadPool};

fn assert_send_sync_debug<T: Send + Sync + Debug>() {}
fn assert_debug<T: Debug>() {}

#[test]
fn public_types_are_send_sync_and_debug_at_compile_time() {
    assert_send_sync_debug::<ThreadPool>();
    assert_send_sync_debug::<BuildError>();
    assert_send_sync_debug::<Metrics>();
    assert_send_sync_debug::<ExecuteError<fn()>>();
    // `Builder` holds a `thread_name` closure with no `Send` bound: Debug only.
    assert_debug::<Builder>();
    // `BuildError` is a real error: it can travel as `Box<dyn Error + Send + Sync>`.
    let boxed: Box<dyn std::error::Error + Send + Sync> = Box::new(
        ThreadPool::builder()
            .num_threads(usize::MAX)
            .build()
            .unwrap_err(),
    );
    assert!(boxed.to_string().contains("at most"));
}

#[test]
fn debug_output_names_the_pool_and_its_thread_count() {
    let pool = ThreadPool::new(3);
    let text = format!("{pool:?}");
    assert!(text.starts_with("ThreadPool"), "{text}");
    assert!(text.contains('3'), "{text}");
    let builder = format!("{:?}", ThreadPool::builder().num_threads(5));
    assert!(builder.contains('5'), "{builder}");
}

#[test]
fn scoped_threads_submit_through_a_shared_reference() {
    const THREADS: usize = 4;
    const PER_THREAD: usize = 10_000;
    let pool = ThreadPool::new(2);
    let slots = Arc::new(Slots::new(THREADS * PER_THREAD));
    let done = Arc::new(Counter::new(THREADS * PER_THREAD));
    std::thread::scope(|scope| {
        for thread in 0..THREADS {
            let (pool, slots, done) = (&pool, &slots, &done);
            scope.spawn(move || {
                for job in 0..PER_THREAD {
                    let (slots, done) = (slots.clone(), done.clone());
                    pool.execute(move || {
                        slots.hit(thread * PER_THREAD + job);
                        done.add();
                    });
                }
                // Reading the metrics from several threads at once is fine too.
                assert_eq!(pool.metrics().threads, 2);
            });
        }
    });
    done.wait("jobs submitted from scoped threads");
    pool.shutdown();
    slots.assert_each_exactly_once();
    assert_eq!(pool.metrics().executed, (THREADS * PER_THREAD) as u64);
}

#[test]
fn spawned_threads_submit_through_an_arc_and_the_last_one_drops_the_pool() {
    const THREADS: usize = 4;
    const PER_THREAD: usize = 10_000;
    let pool = Arc::new(ThreadPool::new(2));
    let slots = Arc::new(Slots::new(THREADS * PER_THREAD));
    let handles: Vec<_> = (0..THREADS)
        .map(|thread| {
            let (pool, slots) = (pool.clone(), slots.clone());
            std::thread::spawn(move || {
                for job in 0..PER_THREAD {
                    let slots = slots.clone();
                    pool.execute(move || slots.hit(thread * PER_THREAD + job));
                }
            })
        })
        .collect();
    drop(pool);
    for handle in handles {
        handle.join().unwrap();
    }
    // The last submitting thread dropped the last `Arc`: the drop ran every
    // job before that thread ended.
    slots.assert_each_exactly_once();
}

#[test]
fn a_pool_can_be_moved_to_another_thread_and_dropped_there() {
    let pool = ThreadPool::new(2);
    let slots = Arc::new(Slots::new(1_000));
    for id in 0..1_000 {
        let slots = slots.clone();
        pool.execute(move || slots.hit(id));
    }
    std::thread::spawn(move || drop(pool)).join().unwrap();
    slots.assert_each_exactly_once();
}
