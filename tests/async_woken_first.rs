//! A task woken from outside the pool runs before work that never started,
//! and a storm of such wake-ups still lets new work run (at most 29 woken
//! tasks in a row before one new job, as `spawn_async` documents).

mod support;

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::Duration;
use support::WorkerGate;
use taskpool::{Task, ThreadPool};

/// The most woken tasks a worker runs in a row while new work waits.
const WOKEN_BURST: usize = 29;

/// What ran, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ran {
    Woken(usize),
    New(usize),
}

impl Ran {
    fn woken(&self) -> Option<usize> {
        match self {
            Ran::Woken(i) => Some(*i),
            Ran::New(_) => None,
        }
    }

    fn new_job(&self) -> Option<usize> {
        match self {
            Ran::New(i) => Some(*i),
            Ran::Woken(_) => None,
        }
    }
}

#[derive(Clone, Default)]
struct Log(Arc<Mutex<Vec<Ran>>>);

impl Log {
    fn push(&self, ran: Ran) {
        self.0.lock().unwrap().push(ran);
    }

    fn take(&self) -> Vec<Ran> {
        std::mem::take(&mut *self.0.lock().unwrap())
    }
}

/// A door an async task waits at; another thread opens it and wakes the
/// task.
#[derive(Default)]
struct Door {
    open: AtomicBool,
    waker: Mutex<Option<Waker>>,
    polled: AtomicBool,
}

impl Door {
    fn open(&self) {
        self.open.store(true, Ordering::SeqCst);
        let waker = self.waker.lock().unwrap().take();
        waker.expect("the task waits at the door").wake();
    }
}

struct WaitAt(Arc<Door>);

impl Future for WaitAt {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        *self.0.waker.lock().unwrap() = Some(cx.waker().clone());
        self.0.polled.store(true, Ordering::SeqCst);
        if self.0.open.load(Ordering::SeqCst) {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }
}

/// Spawns `count` async tasks that each wait at a door and then log
/// `Woken(i)`; returns once every one of them is polled and waits.
fn spawn_waiters(pool: &ThreadPool, log: &Log, count: usize) -> (Vec<Arc<Door>>, Vec<Task<()>>) {
    let doors: Vec<Arc<Door>> = (0..count).map(|_| Arc::new(Door::default())).collect();
    let tasks = doors
        .iter()
        .enumerate()
        .map(|(i, door)| {
            let (door, log) = (door.clone(), log.clone());
            pool.spawn_async(async move {
                WaitAt(door).await;
                log.push(Ran::Woken(i));
            })
        })
        .collect();
    support::wait_until("every waiter is polled", || {
        doors.iter().all(|door| door.polled.load(Ordering::SeqCst))
    });
    (doors, tasks)
}

/// Queues `count` new jobs from outside that log `New(i)`.
fn queue_backlog(pool: &ThreadPool, log: &Log, count: usize) {
    for i in 0..count {
        let log = log.clone();
        pool.execute(move || log.push(Ran::New(i)));
    }
}

fn join_all(tasks: Vec<Task<()>>) {
    for task in tasks {
        support::join_guarded("a woken task", task).unwrap();
    }
}

#[test]
fn a_task_woken_from_another_thread_runs_before_the_backlog() {
    let pool = ThreadPool::new(1);
    let log = Log::default();
    let (doors, tasks) = spawn_waiters(&pool, &log, 1);
    let gate = WorkerGate::close(&pool, 1);
    queue_backlog(&pool, &log, 50);
    // Woken from a thread of its own while the worker is busy and 50 jobs
    // that never started wait.
    let door = doors[0].clone();
    std::thread::spawn(move || door.open()).join().unwrap();
    assert_eq!(pool.metrics().queued, 51, "the woken task is counted");
    gate.open();
    join_all(tasks);
    pool.shutdown();
    let order = log.take();
    assert_eq!(order.len(), 51);
    assert_eq!(order[0], Ran::Woken(0), "{order:?}");
    let backlog: Vec<Ran> = (0..50).map(Ran::New).collect();
    assert_eq!(order[1..], backlog[..], "the backlog runs in order after");
}

#[test]
fn a_task_woken_by_its_timer_runs_before_the_backlog() {
    // The timer must fire while the worker is held, after the sleeper was
    // polled: on a busy machine it can fire before the gate closes, and then
    // the task simply runs first. That round proves nothing, so it is tried
    // again with a longer sleep; the outcome is checked only for a round in
    // which the wake-up met a held worker.
    for millis in [1, 20, 200, 2_000, 20_000] {
        let pool = ThreadPool::new(1);
        let log = Log::default();
        let polled = Arc::new(AtomicBool::new(false));
        let task = {
            let (log, polled) = (log.clone(), polled.clone());
            pool.spawn_async(async move {
                let sleep = taskpool::sleep(Duration::from_millis(millis));
                polled.store(true, Ordering::SeqCst);
                sleep.await;
                log.push(Ran::Woken(0));
            })
        };
        support::wait_until("the sleeper is polled", || polled.load(Ordering::SeqCst));
        let gate = WorkerGate::close(&pool, 1);
        if !log.take().is_empty() {
            // It fired and ran before the worker was held: try again.
            gate.open();
            support::join_guarded("the sleeper", task).unwrap();
            continue;
        }
        let backlog = support::size(200, 20);
        queue_backlog(&pool, &log, backlog);
        // The timer thread wakes the task while the worker is busy: it
        // waits in the woken queue, which `queued` counts.
        support::wait_until("the timer fires", || pool.metrics().queued == backlog + 1);
        gate.open();
        support::join_guarded("the sleeper", task).unwrap();
        pool.shutdown();
        let order = log.take();
        assert_eq!(order.len(), backlog + 1);
        assert_eq!(order[0], Ran::Woken(0), "{order:?}");
        return;
    }
    panic!("the timer fired before the worker could be held, even for a 20 s sleep");
}

#[test]
fn a_storm_of_wake_ups_still_lets_new_work_run() {
    // 200 woken tasks and 20 new jobs wait together: a woken task goes
    // first, but never more than WOKEN_BURST in a row while new jobs wait.
    let pool = ThreadPool::new(1);
    let log = Log::default();
    let woken = support::size(200, 100);
    let (doors, tasks) = spawn_waiters(&pool, &log, woken);
    let gate = WorkerGate::close(&pool, 1);
    queue_backlog(&pool, &log, 20);
    for door in &doors {
        door.open();
    }
    gate.open();
    join_all(tasks);
    pool.shutdown();
    let order = log.take();
    assert_eq!(order.len(), woken + 20);
    assert!(matches!(order[0], Ran::Woken(_)), "{order:?}");

    let last_new = order
        .iter()
        .rposition(|ran| matches!(ran, Ran::New(_)))
        .unwrap();
    let mut in_a_row = 0;
    for ran in &order[..last_new] {
        match ran {
            Ran::Woken(_) => {
                in_a_row += 1;
                assert!(
                    in_a_row <= WOKEN_BURST,
                    "more than {WOKEN_BURST} woken tasks in a row while new work waits: {order:?}"
                );
            }
            Ran::New(_) => in_a_row = 0,
        }
    }
    // Each kind keeps its own order: woken tasks in wake-up order, new
    // jobs in submission order.
    let woken_order: Vec<usize> = order.iter().filter_map(Ran::woken).collect();
    assert_eq!(woken_order, (0..woken).collect::<Vec<_>>());
    let new_order: Vec<usize> = order.iter().filter_map(Ran::new_job).collect();
    assert_eq!(new_order, (0..20).collect::<Vec<_>>());
}

#[test]
fn new_work_runs_while_an_outside_thread_keeps_waking_tasks() {
    // An outside thread wakes 16 ever-pending tasks over and over; a new
    // job submitted meanwhile still runs.
    let pool = ThreadPool::new(1);
    let stop = Arc::new(AtomicBool::new(false));
    let polls = Arc::new(AtomicUsize::new(0));
    let slots: Arc<Vec<Mutex<Option<Waker>>>> =
        Arc::new((0..16).map(|_| Mutex::new(None)).collect());
    let tasks: Vec<Task<()>> = (0..16)
        .map(|i| {
            let (stop, polls, slots) = (stop.clone(), polls.clone(), slots.clone());
            pool.spawn_async(std::future::poll_fn(move |cx| {
                polls.fetch_add(1, Ordering::SeqCst);
                // The waker first: the storm's last pass, after `stop`, then
                // finds it if this poll missed `stop`.
                *slots[i].lock().unwrap() = Some(cx.waker().clone());
                if stop.load(Ordering::SeqCst) {
                    Poll::Ready(())
                } else {
                    Poll::Pending
                }
            }))
        })
        .collect();
    let storm = {
        let (stop, slots) = (stop.clone(), slots.clone());
        std::thread::spawn(move || {
            while !stop.load(Ordering::SeqCst) {
                for slot in slots.iter() {
                    if let Some(waker) = slot.lock().unwrap().take() {
                        waker.wake();
                    }
                }
            }
            for slot in slots.iter() {
                if let Some(waker) = slot.lock().unwrap().take() {
                    waker.wake();
                }
            }
        })
    };
    support::wait_until("the storm is on", || polls.load(Ordering::SeqCst) > 1000);
    let (sender, receiver) = std::sync::mpsc::channel();
    pool.execute(move || sender.send(()).unwrap());
    let ran = receiver.recv_timeout(support::HANG_GUARD);
    stop.store(true, Ordering::SeqCst);
    storm.join().unwrap();
    assert!(ran.is_ok(), "the new job starved behind the wake-ups");
    join_all(tasks);
}
