//! `execute_async`: a detached future with no handle; it runs, and a panic
//! in it goes to the pool's panic handler.

mod support;

use support::{EXPECTED, pool_with_panic_log, quiet_expected_panics, recv_guarded};

#[test]
fn a_detached_future_runs_and_its_panic_reaches_the_handler() {
    quiet_expected_panics();
    let (pool, panics) = pool_with_panic_log(2);
    let (sender, receiver) = std::sync::mpsc::channel();
    pool.execute_async(async move {
        taskpool::yield_now().await;
        sender.send("ran").unwrap();
    });
    assert_eq!(recv_guarded("the detached future", &receiver), "ran");
    pool.execute_async(async {
        taskpool::yield_now().await;
        std::panic::panic_any(format!("{EXPECTED}: detached"));
    });
    panics.wait_for(1);
    pool.shutdown();
    assert_eq!(panics.texts(), [format!("{EXPECTED}: detached")]);
}

#[test]
fn the_free_function_on_a_worker_uses_that_workers_pool() {
    let pool = taskpool::ThreadPool::builder()
        .num_threads(1)
        .thread_name(|_| "execute-async".into())
        .build()
        .unwrap();
    let (sender, receiver) = std::sync::mpsc::channel();
    pool.execute(move || {
        taskpool::execute_async(async move {
            sender.send(support::current_thread_name()).unwrap();
        });
    });
    assert_eq!(recv_guarded("nested", &receiver), "execute-async");
    pool.shutdown();
}
