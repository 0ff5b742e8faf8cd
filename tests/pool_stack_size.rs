//! A stack size too small for a worker is refused or raised, never a crash.
//!
//! Alone in its process: if a worker's stack were too small, the process
//! would abort with a stack overflow, taking every other test in the same
//! binary down with it.

use taskpool::ThreadPool;

#[test]
fn a_zero_stack_size_is_refused_or_raised_instead_of_crashing_the_process() {
    // std accepts 0 and rounds it up to the platform minimum (16 KiB on Linux),
    // which is enough for a plain `std::thread` but not for a worker.
    let pool = match ThreadPool::builder().num_threads(2).stack_size(0).build() {
        Ok(pool) => pool,
        // Refusing the size with an error is fine too.
        Err(error) => {
            assert!(!error.to_string().is_empty());
            return;
        }
    };
    let (sender, receiver) = std::sync::mpsc::channel();
    for job in 0..10 {
        let sender = sender.clone();
        pool.execute(move || {
            if job % 2 == 0 {
                // Unwinding needs stack too.
                panic!("job {job} panics on a small stack");
            }
            sender.send(job).unwrap();
        });
    }
    drop(sender);
    pool.shutdown();
    let mut ran: Vec<i32> = receiver.try_iter().collect();
    ran.sort();
    assert_eq!(ran, [1, 3, 5, 7, 9]);
    assert_eq!(pool.metrics().panicked, 5);
}
