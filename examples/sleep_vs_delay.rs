//! .NET's classic `Thread.Sleep` versus `await Task.Delay`, in Rust, and
//! the way out for calls that cannot be made async.
//!
//! On a pool of two threads, 100 work items that each block their thread for
//! 10 ms (`std::thread::sleep` through level-1 `execute`) take about
//! 100 x 10 ms / 2 threads = 500 ms; 100 async tasks that each
//! `taskpool::sleep(10 ms).await` through level-2 `spawn_async` take about
//! 10 ms, because a sleeping future gives its thread back. A call that must
//! block (a file system, a synchronous driver, FFI) goes to `spawn_blocking`:
//! it runs on the pool's elastic set of blocking threads, so the 100 calls
//! overlap too (about 10 ms, plus starting the threads the first time) and
//! the two workers stay free for other work.
//!
//! Run: `cargo run --release --example sleep_vs_delay`

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const ITEMS: usize = 100;
const NAP: Duration = Duration::from_millis(10);

fn main() {
    let pool = taskpool::ThreadPool::new(2);

    // Level 1: each work item holds its worker for the whole nap.
    let start = Instant::now();
    let left = Arc::new(AtomicUsize::new(ITEMS));
    let (done, all_done) = mpsc::channel();
    for _ in 0..ITEMS {
        let left = left.clone();
        let done = done.clone();
        pool.execute(move || {
            std::thread::sleep(NAP);
            if left.fetch_sub(1, Ordering::AcqRel) == 1 {
                done.send(()).expect("main waits for the last item");
            }
        });
    }
    all_done.recv().expect("the last work item signals");
    let blocking = start.elapsed();

    // Level 2: each task waits on the timer, holding no worker.
    let start = Instant::now();
    let tasks: Vec<_> = (0..ITEMS)
        .map(|_| pool.spawn_async(taskpool::sleep(NAP)))
        .collect();
    for task in tasks {
        task.join()
            .expect("a sleep neither panics nor is cancelled");
    }
    let non_blocking = start.elapsed();

    // Level 2, blocking calls offloaded: each holds a blocking thread, not a
    // worker.
    let start = Instant::now();
    let tasks: Vec<_> = (0..ITEMS)
        .map(|_| pool.spawn_blocking(|| std::thread::sleep(NAP)))
        .collect();
    for task in tasks {
        task.join()
            .expect("a blocking sleep neither panics nor is cancelled");
    }
    let offloaded = start.elapsed();

    println!("{ITEMS} x 10 ms on a pool of 2 threads");
    println!("  execute + std::thread::sleep    {:>8.1} ms", ms(blocking));
    println!(
        "  spawn_async + taskpool::sleep   {:>8.1} ms",
        ms(non_blocking)
    );
    println!(
        "  spawn_blocking + thread::sleep  {:>8.1} ms",
        ms(offloaded)
    );
    println!(
        "Why: a blocked thread runs nothing else, so 2 threads serve the 100 naps two at a time; \
         an awaited sleep returns its thread to the pool, so all 100 naps overlap; and \
         spawn_blocking gives each blocking call a thread of its own beside the workers."
    );
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1e3
}
