//! The builder's per-thread settings: start and stop hooks run exactly once
//! per worker, on that worker, and thread names are applied.

mod support;

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use support::{Counter, Slots};
use taskpool::ThreadPool;

#[test]
fn start_and_stop_hooks_run_exactly_once_per_worker() {
    const THREADS: usize = 4;
    let started = Arc::new(Slots::new(THREADS));
    let stopped = Arc::new(Slots::new(THREADS));
    let stopped_count = Arc::new(Counter::new(THREADS));
    let pool = {
        let (started, stopped, stopped_count) =
            (started.clone(), stopped.clone(), stopped_count.clone());
        ThreadPool::builder()
            .num_threads(THREADS)
            .on_thread_start(move |index| started.hit(index))
            .on_thread_stop(move |index| {
                stopped.hit(index);
                stopped_count.add();
            })
            .build()
            .unwrap()
    };
    // `build` returns once every start hook ran.
    started.assert_each_exactly_once();
    assert_eq!(stopped_count.get(), 0);

    for _ in 0..1_000 {
        pool.execute(|| {});
    }
    drop(pool);
    started.assert_each_exactly_once();
    stopped.assert_each_exactly_once();
    assert_eq!(stopped_count.get(), THREADS);
}

#[test]
fn hooks_run_on_the_worker_thread_they_are_given_the_index_of() {
    const THREADS: usize = 3;
    let seen = Arc::new(Mutex::new(Vec::new()));
    let pool = {
        let (on_start, on_stop) = (seen.clone(), seen.clone());
        ThreadPool::builder()
            .num_threads(THREADS)
            .thread_name(|index| format!("hooked-{index}"))
            .on_thread_start(move |index| {
                on_start
                    .lock()
                    .unwrap()
                    .push(("start", index, support::current_thread_name()));
            })
            .on_thread_stop(move |index| {
                on_stop
                    .lock()
                    .unwrap()
                    .push(("stop", index, support::current_thread_name()));
            })
            .build()
            .unwrap()
    };
    pool.shutdown();
    let mut seen = seen.lock().unwrap().clone();
    seen.sort();
    let expected: Vec<_> = ["start", "stop"]
        .into_iter()
        .flat_map(|hook| (0..THREADS).map(move |index| (hook, index, format!("hooked-{index}"))))
        .collect();
    assert_eq!(seen, expected);
}

#[test]
fn thread_name_is_applied_to_every_worker() {
    const THREADS: usize = 4;
    let named = Arc::new(Mutex::new(Vec::new()));
    let pool = {
        let named = named.clone();
        ThreadPool::builder()
            .num_threads(THREADS)
            .thread_name(move |index| {
                named.lock().unwrap().push(index);
                format!("render-{index}")
            })
            .build()
            .unwrap()
    };
    assert_eq!(
        *named.lock().unwrap(),
        [0, 1, 2, 3],
        "called once per worker, in order"
    );

    // One job per worker, all running at once: each one is on a different
    // worker, so together they see every worker's name.
    let names = Arc::new(Mutex::new(BTreeSet::new()));
    let together = Arc::new(Counter::new(THREADS));
    for _ in 0..THREADS {
        let (names, together) = (names.clone(), together.clone());
        pool.execute(move || {
            names.lock().unwrap().insert(support::current_thread_name());
            together.add();
            together.wait("one job on every worker at once");
        });
    }
    together.wait("one job on every worker at once");
    pool.shutdown();
    let expected: BTreeSet<String> = (0..THREADS)
        .map(|index| format!("render-{index}"))
        .collect();
    assert_eq!(*names.lock().unwrap(), expected);
}

#[test]
fn workers_are_named_taskpool_worker_by_default() {
    let pool = ThreadPool::new(1);
    let (sender, receiver) = std::sync::mpsc::channel();
    pool.execute(move || sender.send(support::current_thread_name()).unwrap());
    assert_eq!(
        receiver.recv_timeout(support::HANG_GUARD).unwrap(),
        "taskpool-worker-0"
    );
}

#[test]
fn a_worker_with_a_large_stack_size_runs_deep_recursion() {
    fn depth(n: u64) -> u64 {
        // A frame the optimiser cannot remove, about 1 KiB big.
        let frame = std::hint::black_box([n; 128]);
        if n == 0 { 0 } else { 1 + depth(frame[0] - 1) }
    }
    // About 20 MiB of stack in debug builds: more than the 2 MiB default.
    const DEPTH: u64 = if cfg!(miri) { 100 } else { 20_000 };
    let pool = ThreadPool::builder()
        .num_threads(1)
        .stack_size(64 << 20)
        .build()
        .unwrap();
    let (sender, receiver) = std::sync::mpsc::channel();
    pool.execute(move || sender.send(depth(DEPTH)).unwrap());
    assert_eq!(receiver.recv_timeout(support::HANG_GUARD), Ok(DEPTH));
}
