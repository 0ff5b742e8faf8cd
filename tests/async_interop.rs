//! A taskpool `Task` is an ordinary `Future`: awaited inside a tokio runtime,
//! driven by `block_on`, and `block_on` itself on a worker thread.

mod support;

use std::time::Duration;
use support::{join_guarded, within};
use taskpool::{ThreadPool, block_on, sleep};

#[test]
fn a_task_is_awaited_inside_a_tokio_multi_thread_runtime() {
    let pool = std::sync::Arc::new(ThreadPool::new(2));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let result = within("tokio awaits taskpool tasks", move || {
        runtime.block_on(async move {
            let closure = pool.spawn(|| 20).await.unwrap();
            let asynchronous = pool
                .spawn_async(async {
                    sleep(Duration::from_millis(2)).await;
                    20
                })
                .await
                .unwrap();
            // From a tokio task on another tokio worker, too.
            let from_tokio_task = {
                let pool = pool.clone();
                tokio::spawn(async move { pool.spawn(|| 2).await.unwrap() })
                    .await
                    .unwrap()
            };
            // Many at once, awaited concurrently by tokio.
            let many: Vec<_> = (0..100).map(|i| pool.spawn(move || i)).collect();
            let mut sum = 0;
            for task in many {
                sum += task.await.unwrap();
            }
            (closure + asynchronous + from_tokio_task, sum)
        })
    });
    assert_eq!(result, (42, 4950));
}

#[test]
fn a_taskpool_task_awaits_a_tokio_task() {
    // The other way round: a taskpool async task awaits a tokio JoinHandle.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let handle = runtime.spawn(async {
        tokio::time::sleep(Duration::from_millis(2)).await;
        41
    });
    let pool = ThreadPool::new(1);
    let task = pool.spawn_async(async move { handle.await.unwrap() + 1 });
    assert_eq!(join_guarded("await a tokio task", task).unwrap(), 42);
}

#[test]
fn block_on_drives_a_task_from_a_thread_outside_the_pool() {
    let pool = ThreadPool::new(1);
    let task = pool.spawn_async(async {
        sleep(Duration::from_millis(2)).await;
        "done"
    });
    assert_eq!(
        within("block_on a task", move || block_on(task)).unwrap(),
        "done"
    );
}

#[test]
fn block_on_on_a_worker_of_a_one_thread_pool_completes() {
    let pool = ThreadPool::new(1);
    let outer = pool.spawn(|| {
        block_on(async {
            sleep(Duration::from_millis(2)).await;
            // Queued on this same worker, which is busy in `block_on`: the
            // worker runs it while it waits.
            let queued = taskpool::spawn(|| 40);
            let queued_async = taskpool::spawn_async(async { 2 });
            queued.await.unwrap() + queued_async.await.unwrap()
        })
    });
    assert_eq!(join_guarded("block_on on a worker", outer).unwrap(), 42);
}

#[test]
fn block_on_of_a_plain_future_returns_its_output() {
    assert_eq!(within("block_on", || block_on(async { 6 * 7 })), 42);
    let mut ready = std::future::ready("ready");
    assert_eq!(block_on(&mut ready), "ready");
}

#[test]
fn an_on_thread_start_hook_entering_a_tokio_runtime_lets_tasks_use_tokio_io_and_timers() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    // tokio's sockets and timers need a tokio runtime's context on the
    // thread that creates them; its runtime threads drive them. Each worker
    // enters the context once, for its whole life (the guard is leaked on
    // purpose: it must outlive every task the worker polls).
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let context = runtime.handle().clone();
    let pool = ThreadPool::builder()
        .num_threads(2)
        .on_thread_start(move |_index| std::mem::forget(context.enter()))
        .build()
        .unwrap();
    let echoed = pool.spawn_async(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let server = taskpool::spawn_async(async move {
            let (mut stream, _) = listener.accept().await.unwrap();
            let mut line = [0_u8; 5];
            stream.read_exact(&mut line).await.unwrap();
            stream.write_all(&line).await.unwrap();
        });
        let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
        stream.write_all(b"hello").await.unwrap();
        let mut reply = [0_u8; 5];
        stream.read_exact(&mut reply).await.unwrap();
        server.await.unwrap();
        tokio::time::sleep(Duration::from_millis(2)).await;
        reply
    });
    assert_eq!(
        &join_guarded("tokio I/O on the pool", echoed).unwrap(),
        b"hello"
    );
    pool.shutdown();
    drop(runtime);
}
