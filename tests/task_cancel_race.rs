//! `cancel` racing a worker that starts the task: one atomic transition
//! decides, exactly one side wins, and `cancel` says which.

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, mpsc};
use support::{DropCounter, Tracked, join_guarded, size, within};
use taskpool::{Task, ThreadPool};

const ROUNDS: usize = size(100_000, 200);

/// The tally of one race run.
#[derive(Debug, Default)]
struct Tally {
    cancelled_before_start: usize,
    completed: usize,
}

/// Checks one task's end: `cancel()` said `won`; the join must agree, and a
/// cancelled closure must not have run.
fn settle(
    index: usize,
    task: Task<(usize, Tracked)>,
    won: bool,
    ran_before: &[AtomicUsize],
    tally: &mut Tally,
) {
    let result = join_guarded("a raced task", task);
    if won {
        let error = result.err().unwrap_or_else(|| {
            panic!("task {index}: cancel() returned true but join gave a value")
        });
        assert!(
            error.is_cancelled(),
            "task {index}: cancel() true but join: {error}"
        );
        assert_eq!(
            ran_before[index].load(Ordering::SeqCst),
            0,
            "task {index}: cancel() returned true but the closure ran"
        );
        tally.cancelled_before_start += 1;
    } else {
        let (got, output) = result.unwrap_or_else(|error| {
            panic!("task {index}: cancel() returned false but join gave {error}")
        });
        assert_eq!(got, index);
        assert_eq!(
            ran_before[index].load(Ordering::SeqCst),
            1,
            "task {index}: completed, so its closure ran exactly once"
        );
        drop(output);
        tally.completed += 1;
    }
}

fn check_totals(
    rounds: usize,
    tally: &Tally,
    runs: &[AtomicUsize],
    captured: &DropCounter,
    outputs: &DropCounter,
) {
    println!("{tally:?}");
    assert_eq!(tally.cancelled_before_start + tally.completed, rounds);
    let total_runs: usize = runs.iter().map(|r| r.load(Ordering::SeqCst)).sum();
    assert_eq!(
        total_runs, tally.completed,
        "run counter must equal the Ok count"
    );
    assert_eq!(captured.made(), rounds);
    assert_eq!(
        captured.drops(),
        rounds,
        "every closure dropped exactly once"
    );
    assert_eq!(outputs.made(), tally.completed);
    assert_eq!(
        outputs.drops(),
        tally.completed,
        "every output dropped exactly once"
    );
}

fn spawn_counted(
    pool: &ThreadPool,
    index: usize,
    runs: &Arc<Vec<AtomicUsize>>,
    captured: &DropCounter,
    outputs: &DropCounter,
) -> Task<(usize, Tracked)> {
    let value = captured.track();
    let runs = runs.clone();
    let outputs = outputs.clone();
    pool.spawn(move || {
        value.touch();
        runs[index].fetch_add(1, Ordering::SeqCst);
        (index, outputs.track())
    })
}

#[test]
fn cancel_racing_start_from_the_spawning_thread_ends_every_task_exactly_once() {
    within("cancel race from the spawning thread", || {
        let pool = ThreadPool::new(2);
        let runs: Arc<Vec<AtomicUsize>> =
            Arc::new((0..ROUNDS).map(|_| AtomicUsize::new(0)).collect());
        let captured = DropCounter::new();
        let outputs = DropCounter::new();
        let mut tally = Tally::default();
        for index in 0..ROUNDS {
            let task = spawn_counted(&pool, index, &runs, &captured, &outputs);
            let won = task.cancel();
            settle(index, task, won, &runs, &mut tally);
        }
        pool.shutdown();
        check_totals(ROUNDS, &tally, &runs, &captured, &outputs);
    });
}

#[test]
fn cancel_after_a_random_spin_from_the_spawning_thread_ends_every_task_exactly_once() {
    // The same race with a random pause between spawn and cancel, so that
    // both sides win often (an immediate cancel nearly always wins).
    within("cancel race with jitter", || {
        let pool = ThreadPool::new(2);
        let runs: Arc<Vec<AtomicUsize>> =
            Arc::new((0..ROUNDS).map(|_| AtomicUsize::new(0)).collect());
        let captured = DropCounter::new();
        let outputs = DropCounter::new();
        let mut tally = Tally::default();
        let mut rng = support::Rng::new(0x5eed);
        let rounds = ROUNDS / 2;
        for index in 0..rounds {
            let spins = rng.range(0, 1_000);
            let task = spawn_counted(&pool, index, &runs, &captured, &outputs);
            for _ in 0..spins {
                std::hint::spin_loop();
            }
            let won = task.cancel();
            settle(index, task, won, &runs, &mut tally);
        }
        pool.shutdown();
        check_totals(rounds, &tally, &runs, &captured, &outputs);
    });
}

#[test]
fn cancel_racing_start_from_another_thread_ends_every_task_exactly_once() {
    within("cancel race from another thread", || {
        let pool = ThreadPool::new(2);
        let runs: Arc<Vec<AtomicUsize>> =
            Arc::new((0..ROUNDS).map(|_| AtomicUsize::new(0)).collect());
        let captured = DropCounter::new();
        let outputs = DropCounter::new();
        // A bounded channel keeps the canceller close behind the spawner,
        // so that most cancels really race the worker.
        let (send_task, receive_task) = mpsc::sync_channel::<(usize, Task<(usize, Tracked)>)>(4);
        let canceller_runs = runs.clone();
        let canceller = std::thread::spawn(move || {
            let mut tally = Tally::default();
            for (index, task) in receive_task {
                let won = task.cancel();
                settle(index, task, won, &canceller_runs, &mut tally);
            }
            tally
        });
        for index in 0..ROUNDS {
            let task = spawn_counted(&pool, index, &runs, &captured, &outputs);
            send_task.send((index, task)).unwrap();
        }
        drop(send_task);
        let tally = canceller.join().expect("the canceller thread");
        pool.shutdown();
        check_totals(ROUNDS, &tally, &runs, &captured, &outputs);
    });
}

#[test]
fn cancel_racing_a_joiner_that_runs_the_task_inline_ends_every_task_exactly_once() {
    // On a worker, `join` claims a not-started task and runs it inline: that
    // claim races `cancel` from another thread through the same transition.
    within("cancel race with inline join", || {
        let pool = ThreadPool::new(2);
        let rounds = size(20_000, 100);
        let cancelled = Arc::new(AtomicUsize::new(0));
        let completed = Arc::new(AtomicUsize::new(0));
        let runs = Arc::new(AtomicUsize::new(0));
        let captured = DropCounter::new();
        let (send_task, receive_task) =
            mpsc::sync_channel::<Arc<std::sync::Mutex<Option<Task<usize>>>>>(4);
        let canceller = std::thread::spawn(move || {
            let mut won_count = 0;
            for slot in receive_task {
                if let Some(task) = slot.lock().unwrap().as_ref() {
                    if task.cancel() {
                        won_count += 1;
                    }
                }
            }
            won_count
        });
        let outer = {
            let (cancelled, completed, runs, captured) = (
                cancelled.clone(),
                completed.clone(),
                runs.clone(),
                captured.clone(),
            );
            pool.spawn(move || {
                for index in 0..rounds {
                    let value = captured.track();
                    let runs = runs.clone();
                    let task = taskpool::spawn(move || {
                        value.touch();
                        runs.fetch_add(1, Ordering::SeqCst);
                        index
                    });
                    let slot = Arc::new(std::sync::Mutex::new(Some(task)));
                    send_task.send(slot.clone()).unwrap();
                    // Take it back (the canceller may be holding the lock
                    // while it cancels) and join it on this worker.
                    let task = slot.lock().unwrap().take().unwrap();
                    match task.join() {
                        Ok(got) => {
                            assert_eq!(got, index);
                            completed.fetch_add(1, Ordering::SeqCst);
                        }
                        Err(error) => {
                            assert!(error.is_cancelled(), "{error}");
                            cancelled.fetch_add(1, Ordering::SeqCst);
                        }
                    }
                }
            })
        };
        join_guarded("the joining task", outer).unwrap();
        let won = canceller.join().unwrap();
        pool.shutdown();
        let (cancelled, completed) = (
            cancelled.load(Ordering::SeqCst),
            completed.load(Ordering::SeqCst),
        );
        println!("cancelled {cancelled}, completed {completed}");
        assert_eq!(cancelled + completed, rounds);
        assert_eq!(
            won, cancelled,
            "cancel() true exactly for the cancelled tasks"
        );
        assert_eq!(runs.load(Ordering::SeqCst), completed);
        assert_eq!(captured.drops(), rounds);
    });
}
