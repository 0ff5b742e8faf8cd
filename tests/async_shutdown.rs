//! Shutdown with async tasks: futures still waiting for a wake-up when the
//! queues run dry are cancelled (their locals dropped once), so shutdown
//! never waits on a timer; after shutdown, new tasks report cancelled.

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant};
use support::{DropCounter, join_guarded, recv_guarded, size, within};
use taskpool::{CancellationToken, ThreadPool, sleep};

#[test]
fn shutdown_cancels_async_tasks_waiting_on_an_hour_long_sleep_promptly() {
    let count = size(100, 5);
    let pool = Arc::new(ThreadPool::new(2));
    let locals = DropCounter::new();
    let (asleep, wait_asleep) = mpsc::channel();
    let resumed = Arc::new(AtomicUsize::new(0));
    let tasks: Vec<_> = (0..count)
        .map(|_| {
            let (held, asleep, resumed) = (locals.track(), asleep.clone(), resumed.clone());
            pool.spawn_async(async move {
                let _held = held;
                asleep.send(()).unwrap();
                sleep(Duration::from_secs(3600)).await;
                resumed.fetch_add(1, Ordering::SeqCst);
            })
        })
        .collect();
    for _ in 0..count {
        recv_guarded("every task reaches its sleep", &wait_asleep);
    }
    let shutting_down = pool.clone();
    let took = within("shutdown with sleeping tasks", move || {
        let start = Instant::now();
        shutting_down.shutdown();
        start.elapsed()
    });
    println!("shutdown with {count} tasks asleep for an hour took {took:?}");
    for task in tasks {
        assert!(
            join_guarded("a sleeper after shutdown", task)
                .unwrap_err()
                .is_cancelled()
        );
    }
    assert_eq!(locals.made(), count);
    assert_eq!(
        locals.drops(),
        count,
        "each future's locals dropped exactly once"
    );
    assert_eq!(resumed.load(Ordering::SeqCst), 0);
    assert_eq!(pool.metrics().panicked, 0);
}

#[test]
fn drop_of_a_pool_with_detached_sleeping_tasks_returns_and_drops_their_locals() {
    let pool = ThreadPool::new(2);
    let locals = DropCounter::new();
    let (asleep, wait_asleep) = mpsc::channel();
    for _ in 0..10 {
        let (held, asleep) = (locals.track(), asleep.clone());
        drop(pool.spawn_async(async move {
            let _held = held;
            asleep.send(()).unwrap();
            sleep(Duration::from_secs(3600)).await;
        }));
    }
    for _ in 0..10 {
        recv_guarded("every task reaches its sleep", &wait_asleep);
    }
    within("drop a pool with sleeping tasks", move || drop(pool));
    assert_eq!(locals.drops(), 10);
}

#[test]
fn shutdown_lets_queued_async_work_finish_first() {
    let pool = ThreadPool::new(1);
    let gate = support::WorkerGate::close(&pool, 1);
    let tasks: Vec<_> = (0..10)
        .map(|i| {
            pool.spawn_async(async move {
                taskpool::yield_now().await;
                i
            })
        })
        .collect();
    let shutting_down = std::thread::spawn({
        let pool = Arc::new(pool);
        let pool2 = pool.clone();
        move || {
            pool2.shutdown();
            pool
        }
    });
    gate.open();
    let pool = within("shutdown", move || shutting_down.join().unwrap());
    // Queued tasks and their yields (wake-ups of accepted work) all ran.
    for (i, task) in tasks.into_iter().enumerate() {
        assert_eq!(join_guarded("queued at shutdown", task).unwrap(), i);
    }
    drop(pool);
}

#[test]
fn after_shutdown_spawn_and_spawn_async_return_tasks_that_report_cancelled() {
    let pool = ThreadPool::new(2);
    pool.shutdown();
    let runs = Arc::new(AtomicUsize::new(0));
    let captured = DropCounter::new();

    let (value, counter) = (captured.track(), runs.clone());
    let closure = pool.spawn(move || {
        value.touch();
        counter.fetch_add(1, Ordering::SeqCst);
    });
    let (value, counter) = (captured.track(), runs.clone());
    let future = pool.spawn_async(async move {
        value.touch();
        counter.fetch_add(1, Ordering::SeqCst);
    });
    let (value, counter) = (captured.track(), runs.clone());
    let with_token = pool.spawn_with_token(&CancellationToken::new(), move |_| {
        value.touch();
        counter.fetch_add(1, Ordering::SeqCst);
        Ok(())
    });
    assert!(
        join_guarded("spawn after shutdown", closure)
            .unwrap_err()
            .is_cancelled()
    );
    assert!(
        join_guarded("spawn_async after shutdown", future)
            .unwrap_err()
            .is_cancelled()
    );
    assert!(
        join_guarded("spawn_with_token after shutdown", with_token)
            .unwrap_err()
            .is_cancelled()
    );
    assert_eq!(runs.load(Ordering::SeqCst), 0);
    assert_eq!((captured.made(), captured.drops()), (3, 3));
    // A continuation of a refused task is refused too, and reports cancelled.
    let continuation = pool.spawn(|| 1).then(|result| result.is_ok());
    assert!(
        join_guarded("then after shutdown", continuation)
            .unwrap_err()
            .is_cancelled()
    );
}

#[test]
fn a_detached_task_spawned_after_shutdown_drops_its_closure_once() {
    let pool = ThreadPool::new(1);
    pool.shutdown();
    let captured = DropCounter::new();
    let value = captured.track();
    drop(pool.spawn(move || value.touch()));
    let value = captured.track();
    drop(pool.spawn_async(async move { value.touch() }));
    assert_eq!(captured.drops(), 2);
}

#[test]
fn shutdown_while_a_worker_joins_a_sleeping_async_task_does_not_hang() {
    for sleep_for in [Duration::from_millis(20), Duration::from_secs(3600)] {
        let pool = ThreadPool::new(2);
        let (joining, wait_joining) = mpsc::channel();
        let joiner = pool.spawn(move || {
            let sleeper = taskpool::spawn_async(async move {
                sleep(sleep_for).await;
                "slept"
            });
            joining.send(()).unwrap();
            sleeper.join()
        });
        recv_guarded("the joiner runs", &wait_joining);
        within("shutdown while a worker joins", move || pool.shutdown());
        // Either the sleep ended, or shutdown cancelled the sleeper (it
        // never waits on a timer): both end the join, nothing hangs.
        match join_guarded("the joiner", joiner).unwrap() {
            Ok(value) => assert_eq!(value, "slept"),
            Err(error) => assert!(error.is_cancelled(), "{error}"),
        }
    }
}

#[test]
fn shutdown_cancels_a_chain_of_async_tasks_awaiting_each_other() {
    let pool = Arc::new(ThreadPool::new(2));
    let locals = DropCounter::new();
    let (asleep, wait_asleep) = mpsc::channel();
    let held = locals.track();
    let bottom = pool.spawn_async(async move {
        let _held = held;
        asleep.send(()).unwrap();
        sleep(Duration::from_secs(3600)).await;
        1
    });
    let held = locals.track();
    let middle = pool.spawn_async(async move {
        let _held = held;
        bottom.await.map(|v| v + 1)
    });
    let held = locals.track();
    let top = pool.spawn_async(async move {
        let _held = held;
        middle.await
    });
    recv_guarded("the bottom task sleeps", &wait_asleep);
    let shutting_down = pool.clone();
    within("shutdown with a chain", move || shutting_down.shutdown());
    // Whichever way each link ended (cancelled, or saw its input cancelled),
    // the top reports a cancellation and every local is dropped once.
    let result = join_guarded("top", top);
    match result {
        Err(error) => assert!(error.is_cancelled()),
        Ok(inner) => assert!(inner.unwrap_err().is_cancelled()),
    }
    assert_eq!((locals.made(), locals.drops()), (3, 3));
}
