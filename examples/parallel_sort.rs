//! Sorts 20 million `u64` with the crate's parallel sort, and compares it
//! with std's `sort_unstable` on one thread.
//!
//! Run: `cargo run --release --example parallel_sort [LEN]`

use std::time::{Duration, Instant};
use taskpool::ParallelSort;

fn main() {
    let len = match std::env::args().nth(1).map(|arg| arg.parse::<usize>()) {
        None => 20_000_000,
        Some(Ok(len)) => len,
        Some(Err(_)) => {
            eprintln!("usage: parallel_sort [LEN]; LEN is how many values to sort");
            std::process::exit(2);
        }
    };
    let input = random_values(len);
    let threads = taskpool::ThreadPool::new(0).metrics().threads;

    let mut sequential = input.clone();
    let one_thread = time(|| sequential.sort_unstable());

    let mut parallel = input.clone();
    // Start the global pool first, so the timing is the sort's alone.
    taskpool::spawn(|| {}).join().expect("the global pool runs");
    let unstable = time(|| parallel.par_sort_unstable());
    assert_eq!(parallel, sequential, "par_sort_unstable sorted like std");

    let mut parallel = input;
    let stable = time(|| parallel.par_sort());
    assert_eq!(parallel, sequential, "par_sort sorted like std");

    println!("sorting {len} random u64 on {threads} threads");
    println!(
        "  slice::sort_unstable, one thread   {:>9.1} ms",
        ms(one_thread)
    );
    println!(
        "  par_sort_unstable                  {:>9.1} ms   speed-up {:.2}x",
        ms(unstable),
        one_thread.as_secs_f64() / unstable.as_secs_f64()
    );
    println!(
        "  par_sort (stable)                  {:>9.1} ms   speed-up {:.2}x",
        ms(stable),
        one_thread.as_secs_f64() / stable.as_secs_f64()
    );
}

fn time(f: impl FnOnce()) -> Duration {
    let start = Instant::now();
    f();
    start.elapsed()
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1e3
}

/// xorshift64*: the same values on every run.
fn random_values(len: usize) -> Vec<u64> {
    let mut x = 0x9E37_79B9_7F4A_7C15_u64;
    (0..len)
        .map(|_| {
            x ^= x >> 12;
            x ^= x << 25;
            x ^= x >> 27;
            x.wrapping_mul(0x2545_F491_4F6C_DD1D)
        })
        .collect()
}
