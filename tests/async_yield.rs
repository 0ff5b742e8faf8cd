//! `yield_now` lets every other queued piece of work run before the
//! yielding task continues.

mod support;

use std::sync::{Arc, Mutex, mpsc};
use support::{join_guarded, recv_guarded};
use taskpool::{ThreadPool, yield_now};

#[derive(Debug, Clone, PartialEq)]
enum Event {
    A(usize),
    B,
}

#[test]
fn work_queued_from_outside_after_the_first_poll_runs_before_the_yielding_task_goes_on() {
    let pool = ThreadPool::new(1);
    let order = Arc::new(Mutex::new(Vec::new()));
    let (first_poll, wait_first_poll) = mpsc::channel::<()>();
    let (b_queued, wait_b_queued) = mpsc::channel::<()>();
    let a_order = order.clone();
    let rounds = 100;
    let a = pool.spawn_async(async move {
        for round in 0..rounds {
            a_order.lock().unwrap().push(Event::A(round));
            if round == 0 {
                first_poll.send(()).unwrap();
                // Hold the worker until B is queued behind us.
                wait_b_queued.recv().unwrap();
            }
            yield_now().await;
        }
    });
    recv_guarded("A's first poll", &wait_first_poll);
    let b_order = order.clone();
    let b = pool.spawn(move || b_order.lock().unwrap().push(Event::B));
    b_queued.send(()).unwrap();
    join_guarded("A", a).unwrap();
    join_guarded("B", b).unwrap();
    let order = order.lock().unwrap().clone();
    assert_eq!(order.len(), rounds + 1);
    assert_eq!(
        &order[..3],
        &[Event::A(0), Event::B, Event::A(1)],
        "B was queued before A yielded: it must run at A's first yield"
    );
}

#[test]
fn work_spawned_by_the_yielding_task_runs_before_it_goes_on() {
    let pool = ThreadPool::new(1);
    let order = Arc::new(Mutex::new(Vec::new()));
    let a_order = order.clone();
    let a = pool.spawn_async(async move {
        for round in 0..10 {
            a_order.lock().unwrap().push(Event::A(round));
            if round == 0 {
                let b_order = a_order.clone();
                // On this worker's own deque.
                drop(taskpool::spawn(move || {
                    b_order.lock().unwrap().push(Event::B)
                }));
            }
            yield_now().await;
        }
    });
    join_guarded("A", a).unwrap();
    let order = order.lock().unwrap().clone();
    assert_eq!(&order[..3], &[Event::A(0), Event::B, Event::A(1)]);
}

#[test]
fn two_yielding_tasks_on_one_thread_interleave() {
    let pool = ThreadPool::new(1);
    let order = Arc::new(Mutex::new(Vec::new()));
    let gate = support::WorkerGate::close(&pool, 1);
    let tasks: Vec<_> = (0..2)
        .map(|id| {
            let order = order.clone();
            pool.spawn_async(async move {
                for _ in 0..50 {
                    order.lock().unwrap().push(id);
                    yield_now().await;
                }
            })
        })
        .collect();
    gate.open();
    for task in tasks {
        join_guarded("yielder", task).unwrap();
    }
    let order = order.lock().unwrap().clone();
    assert_eq!(order.len(), 100);
    // Each yield lets the other (queued) task run, as long as both run.
    // Not strict alternation: a yielded task waits on its worker's later
    // queue, and every `LATER_INTERVAL` jobs the worker looks there before
    // its own deque, so a yielder may jump once over the other task if that
    // one sits in the deque. Never twice in a row: the next look is at the
    // deque.
    let last = order[99];
    let first_done = order.iter().rposition(|&id| id != last).unwrap();
    let longest_run = order[..=first_done]
        .chunk_by(|a, b| a == b)
        .map(<[usize]>::len)
        .max()
        .unwrap();
    assert!(
        longest_run <= 2,
        "yield_now did not let the other task run: {order:?}"
    );
}

/// A job on a worker that submits its successor before it returns, so the
/// worker's own deque is never empty until the chain ends.
fn chain(order: Arc<Mutex<Vec<char>>>, remaining: usize) {
    order.lock().unwrap().push('J');
    if remaining > 0 {
        taskpool::execute(move || chain(order, remaining - 1));
    }
}

#[test]
fn a_yielding_task_is_not_starved_by_a_worker_that_keeps_feeding_itself() {
    let pool = ThreadPool::new(1);
    let order = Arc::new(Mutex::new(Vec::new()));
    let gate = support::WorkerGate::close(&pool, 1);
    let y_order = order.clone();
    let yielder = pool.spawn_async(async move {
        for _ in 0..10 {
            y_order.lock().unwrap().push('Y');
            yield_now().await;
        }
    });
    let j_order = order.clone();
    pool.execute(move || chain(j_order, 10_000));
    gate.open();
    join_guarded("yielder", yielder).unwrap();
    pool.shutdown();
    let order = order.lock().unwrap();
    assert_eq!(order.iter().filter(|&&e| e == 'J').count(), 10_001);
    let last_yield = order.iter().rposition(|&e| e == 'Y').unwrap();
    // The yielder comes back every few dozen jobs of the chain, so its ten
    // rounds end long before the chain does (without that, all after it).
    assert!(
        last_yield < 2_000,
        "the yielder's last round came after {last_yield} events"
    );
}
