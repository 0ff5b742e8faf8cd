//! A task's result, and what a joiner sees of the task's writes: everything
//! the task did happens before `join` (or `.await`) returns.

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;
use support::{HANG_GUARD, join_guarded, size};
use taskpool::ThreadPool;

#[test]
fn join_returns_the_closure_value() {
    let pool = ThreadPool::new(2);
    let tasks: Vec<_> = (0..100_u64).map(|i| pool.spawn(move || i * i)).collect();
    let squares: Vec<u64> = tasks
        .into_iter()
        .map(|task| join_guarded("square", task).unwrap())
        .collect();
    assert_eq!(squares, (0..100_u64).map(|i| i * i).collect::<Vec<_>>());
}

#[test]
fn vec_moved_back_as_the_result_holds_every_write() {
    let pool = ThreadPool::new(2);
    let len = size(100_000, 1_000);
    for round in 0..size(20, 2) {
        let mut data = vec![0_usize; len];
        let task = pool.spawn(move || {
            for (index, slot) in data.iter_mut().enumerate() {
                *slot = index * 3 + round;
            }
            data
        });
        let data = join_guarded("fill a Vec", task).unwrap();
        assert!(
            data.iter()
                .enumerate()
                .all(|(index, value)| *value == index * 3 + round),
            "round {round}: a write made by the task is missing after join"
        );
    }
}

#[test]
fn writes_behind_a_mutex_are_visible_after_join() {
    let pool = ThreadPool::new(2);
    let shared = Arc::new(Mutex::new(Vec::new()));
    let writer = shared.clone();
    let task = pool.spawn(move || {
        let mut list = writer.lock().unwrap();
        list.extend(0..1000_u32);
    });
    join_guarded("write behind a mutex", task).unwrap();
    assert_eq!(*shared.lock().unwrap(), (0..1000_u32).collect::<Vec<_>>());
}

#[test]
fn relaxed_atomic_store_in_the_task_is_visible_after_join() {
    // Relaxed alone orders nothing: only the join's happens-before edge can
    // make these values visible. Many rounds, so that a missing edge has a
    // chance to show on weakly ordered hardware.
    let pool = ThreadPool::new(2);
    let cells: Arc<Vec<AtomicUsize>> = Arc::new((0..64).map(|_| AtomicUsize::new(0)).collect());
    for round in 1..=size(10_000, 50) {
        let writer = cells.clone();
        let task = pool.spawn(move || {
            for cell in writer.iter() {
                cell.store(round, Ordering::Relaxed);
            }
        });
        join_guarded("relaxed stores", task).unwrap();
        for (index, cell) in cells.iter().enumerate() {
            assert_eq!(
                cell.load(Ordering::Relaxed),
                round,
                "round {round}: cell {index} does not show the task's write after join"
            );
        }
    }
}

#[test]
fn relaxed_atomic_store_in_an_async_task_is_visible_after_await() {
    let pool = ThreadPool::new(2);
    let cell = Arc::new(AtomicUsize::new(0));
    for round in 1..=size(2_000, 20) {
        let writer = cell.clone();
        let task = pool.spawn_async(async move {
            taskpool::yield_now().await;
            writer.store(round, Ordering::Relaxed);
        });
        taskpool::block_on(task).unwrap();
        assert_eq!(cell.load(Ordering::Relaxed), round, "round {round}");
    }
}

#[test]
fn wait_timeout_is_false_while_gated_then_true_and_join_still_works() {
    let pool = ThreadPool::new(1);
    let (release, gate) = mpsc::channel::<u32>();
    let mut task = pool.spawn(move || gate.recv().unwrap() + 1);
    assert!(
        !task.wait_timeout(Duration::from_millis(20)),
        "finished while gated"
    );
    assert!(!task.is_finished());
    // Still usable after a `false`: a zero wait answers at once, too.
    assert!(!task.wait_timeout(Duration::ZERO));
    release.send(41).unwrap();
    assert!(
        task.wait_timeout(HANG_GUARD),
        "did not finish after the gate opened"
    );
    assert!(task.is_finished());
    // A second wait on a finished task is true at once.
    assert!(task.wait_timeout(Duration::ZERO));
    assert_eq!(task.join().unwrap(), 42);
}

#[test]
fn wait_timeout_with_a_huge_timeout_returns_when_the_task_ends() {
    let pool = ThreadPool::new(1);
    let mut task = pool.spawn(|| 7);
    assert!(task.wait_timeout(Duration::MAX));
    assert_eq!(task.join().unwrap(), 7);
}

#[test]
fn is_finished_turns_true_once_the_task_ended() {
    let pool = ThreadPool::new(1);
    let (release, gate) = mpsc::channel::<()>();
    let mut task = pool.spawn(move || gate.recv().unwrap());
    assert!(!task.is_finished());
    release.send(()).unwrap();
    assert!(task.wait_timeout(HANG_GUARD));
    assert!(task.is_finished());
    task.join().unwrap();
}

#[test]
fn joinhandle_is_the_same_type_as_task() {
    let pool = ThreadPool::new(1);
    let handle: taskpool::JoinHandle<&str> = pool.spawn(|| "same");
    let task: taskpool::Task<&str> = handle;
    assert_eq!(join_guarded("alias", task).unwrap(), "same");
}

#[test]
fn free_spawn_runs_on_the_global_pool_and_returns_the_value() {
    let task = taskpool::spawn(|| (1..=10).sum::<u32>());
    assert_eq!(join_guarded("global spawn", task).unwrap(), 55);
}

#[test]
fn wait_timeout_with_tiny_timeouts_in_a_loop_ends_true_and_join_gives_the_value() {
    let pool = ThreadPool::new(2);
    for round in 0..size(2_000, 20) {
        let mut task = pool.spawn(move || round);
        let start = std::time::Instant::now();
        while !task.wait_timeout(Duration::from_micros(1)) {
            assert!(start.elapsed() < HANG_GUARD, "hang");
        }
        assert!(task.is_finished());
        assert_eq!(task.join().unwrap(), round);
    }
}

/// Joining a task that already ended hands over its output and frees the
/// task: the value, a panic, and a waker left in the slot by an earlier poll
/// each come out or are dropped exactly once, and the pool counts every task
/// freed.
#[test]
fn joining_a_finished_task_hands_over_its_output_and_frees_it() {
    use std::future::Future;
    use std::task::{Context, Wake, Waker};

    struct CountedWaker;
    impl Wake for CountedWaker {
        fn wake(self: Arc<Self>) {}
    }

    let pool = ThreadPool::new(2);
    let value = Arc::new(());
    let in_task = value.clone();
    let mut finished = pool.spawn(move || in_task);
    assert!(finished.wait_timeout(HANG_GUARD), "the task never ended");
    assert!(Arc::ptr_eq(&finished.join().unwrap(), &value));
    assert_eq!(
        Arc::strong_count(&value),
        1,
        "the output was copied or leaked"
    );

    let mut panicked =
        pool.spawn(|| -> u32 { panic!("{}: finished, then joined", support::EXPECTED) });
    assert!(panicked.wait_timeout(HANG_GUARD), "the task never ended");
    assert!(panicked.join().unwrap_err().is_panic());

    // A poll before the end leaves the handle's waker in the slot.
    let waker_arc = Arc::new(CountedWaker);
    let waker = Waker::from(waker_arc.clone());
    let (release, gate) = mpsc::channel::<()>();
    let mut polled = pool.spawn(move || gate.recv().map(|()| 7).unwrap_or(0));
    assert!(
        std::pin::Pin::new(&mut polled)
            .poll(&mut Context::from_waker(&waker))
            .is_pending()
    );
    release.send(()).unwrap();
    assert!(polled.wait_timeout(HANG_GUARD), "the task never ended");
    assert_eq!(polled.join().unwrap(), 7);
    drop(waker);

    // The completer may still be waking the polled waker as `join` returns;
    // once the workers have stopped, nothing holds it.
    pool.shutdown();
    assert_eq!(Arc::strong_count(&waker_arc), 1, "the polled waker leaked");
    if let Some(live) = pool.debug_live_tasks() {
        assert_eq!(live, 0, "a task was never freed");
    }
}

/// Each task holds a reference to its pool. Tasks spawned from outside and
/// freed on the workers hand theirs to the workers, which keep some and give
/// the rest back in batches: after the pool is dropped, none may be left
/// over (the pool, and the panic handler it holds, are freed).
#[test]
fn tasks_freed_on_workers_leave_no_reference_to_their_pool() {
    let captured = Arc::new(());
    let handler_holds = Arc::clone(&captured);
    let pool = ThreadPool::builder()
        .num_threads(2)
        .panic_handler(move |_| {
            let _ = &handler_holds;
        })
        .build()
        .unwrap();
    let done = Arc::new(AtomicUsize::new(0));
    let tasks = size(100_000, 2_000); // past the spares a worker keeps
    for _ in 0..tasks {
        let done = Arc::clone(&done);
        pool.spawn(move || {
            done.fetch_add(1, Ordering::Relaxed);
        })
        .detach();
    }
    drop(pool);
    assert_eq!(done.load(Ordering::Relaxed), tasks);
    // The workers' last references go as their threads end, just after
    // the drop returns.
    support::wait_until("the pool to be freed", || Arc::strong_count(&captured) == 1);
}
