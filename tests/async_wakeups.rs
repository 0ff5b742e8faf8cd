//! Wake-ups of an async task from other threads, before, during and after
//! its poll: none is lost, none causes a poll too many, the task completes
//! once.

mod support;

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier, mpsc};
use std::task::{Context, Poll, Waker};
use support::{DropCounter, Tracked, WorkerGate, join_guarded, recv_guarded};
use taskpool::ThreadPool;

/// What the hand-written future does in its first poll, before returning
/// `Pending`; every later poll returns `Ready`.
type FirstPoll = Box<dyn FnMut(&Waker) + Send>;

/// A future that hands its waker out in its first poll and counts polls.
struct HandsOutItsWaker {
    polls: Arc<AtomicUsize>,
    first_poll: FirstPoll,
    output: DropCounter,
}

impl Future for HandsOutItsWaker {
    type Output = Tracked;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Tracked> {
        if self.polls.fetch_add(1, Ordering::SeqCst) == 0 {
            (self.first_poll)(cx.waker());
            Poll::Pending
        } else {
            Poll::Ready(self.output.track())
        }
    }
}

fn hands_out(first_poll: FirstPoll) -> (HandsOutItsWaker, Arc<AtomicUsize>, DropCounter) {
    let polls = Arc::new(AtomicUsize::new(0));
    let output = DropCounter::new();
    let future = HandsOutItsWaker {
        polls: polls.clone(),
        first_poll,
        output: output.clone(),
    };
    (future, polls, output)
}

#[test]
fn future_woken_twice_while_queued_before_its_next_poll_is_polled_once_more() {
    let pool = ThreadPool::new(1);
    let (send_waker, waker) = mpsc::channel::<Waker>();
    let (future, polls, outputs) = hands_out(Box::new(move |waker| {
        send_waker.send(waker.clone()).unwrap();
    }));
    let task = pool.spawn_async(future);
    let waker = recv_guarded("the first poll hands out its waker", &waker);
    // On a one-thread pool the gate starts only after the first poll
    // returned: the task is idle now, and stays unpolled while gated.
    let gate = WorkerGate::close(&pool, 1);
    let other = waker.clone();
    std::thread::spawn(move || other.wake()).join().unwrap();
    waker.wake_by_ref();
    assert_eq!(
        polls.load(Ordering::SeqCst),
        1,
        "polled while every worker was gated"
    );
    gate.open();
    let output = join_guarded("woken before its poll", task).unwrap();
    drop(output);
    drop(waker);
    pool.shutdown();
    assert_eq!(
        polls.load(Ordering::SeqCst),
        2,
        "two wake-ups while queued: one poll"
    );
    assert_eq!((outputs.made(), outputs.drops()), (1, 1));
}

#[test]
fn future_woken_during_its_poll_is_polled_again_after_it() {
    let pool = ThreadPool::new(1);
    let (send_waker, waker) = mpsc::channel::<Waker>();
    let in_poll = Arc::new(Barrier::new(2));
    let poll_barrier = in_poll.clone();
    let (future, polls, outputs) = hands_out(Box::new(move |waker| {
        send_waker.send(waker.clone()).unwrap();
        // The test thread wakes us before this barrier opens.
        poll_barrier.wait();
    }));
    let task = pool.spawn_async(future);
    let waker = recv_guarded("the first poll hands out its waker", &waker);
    waker.wake();
    in_poll.wait();
    drop(join_guarded("woken during its poll", task).unwrap());
    pool.shutdown();
    assert_eq!(polls.load(Ordering::SeqCst), 2);
    assert_eq!((outputs.made(), outputs.drops()), (1, 1));
}

#[test]
fn future_woken_after_its_poll_returned_is_polled_again() {
    let pool = ThreadPool::new(1);
    let (send_waker, waker) = mpsc::channel::<Waker>();
    let (future, polls, outputs) = hands_out(Box::new(move |waker| {
        let waker = waker.clone();
        let send_waker = send_waker.clone();
        // Queued on this worker's own deque: on a one-thread pool it runs
        // only after this poll has returned and the task went idle.
        taskpool::execute(move || send_waker.send(waker).unwrap());
    }));
    let task = pool.spawn_async(future);
    let waker = recv_guarded("the waker, after the first poll", &waker);
    assert_eq!(polls.load(Ordering::SeqCst), 1);
    std::thread::spawn(move || waker.wake()).join().unwrap();
    drop(join_guarded("woken after its poll", task).unwrap());
    pool.shutdown();
    assert_eq!(polls.load(Ordering::SeqCst), 2);
    assert_eq!((outputs.made(), outputs.drops()), (1, 1));
}

#[test]
fn future_woken_1000_times_during_its_poll_is_polled_a_bounded_number_of_times() {
    for threads in [1, 2] {
        let pool = ThreadPool::new(threads);
        let (send_waker, waker) = mpsc::channel::<Waker>();
        let start_waking = Arc::new(Barrier::new(2));
        let done_waking = Arc::new(Barrier::new(2));
        let (start, done) = (start_waking.clone(), done_waking.clone());
        let (future, polls, outputs) = hands_out(Box::new(move |waker| {
            send_waker.send(waker.clone()).unwrap();
            start.wait();
            done.wait();
        }));
        let task = pool.spawn_async(future);
        let waker = recv_guarded("the first poll hands out its waker", &waker);
        start_waking.wait();
        for round in 0..support::size(1_000, 20) {
            if round % 2 == 0 {
                waker.wake_by_ref();
            } else {
                // On purpose: the by-value path releases a reference.
                #[allow(clippy::waker_clone_wake)]
                waker.clone().wake();
            }
        }
        done_waking.wait();
        drop(join_guarded("woken 1000 times", task).unwrap());
        drop(waker);
        pool.shutdown();
        let polls = polls.load(Ordering::SeqCst);
        assert!(
            (2..=3).contains(&polls),
            "{threads} threads: 1000 wake-ups during one poll gave {polls} polls"
        );
        assert_eq!(
            (outputs.made(), outputs.drops()),
            (1, 1),
            "{threads} threads: completes exactly once"
        );
    }
}

#[test]
fn future_woken_concurrently_from_many_threads_completes_once() {
    let pool = ThreadPool::new(2);
    for _ in 0..support::size(200, 5) {
        let (send_waker, waker) = mpsc::channel::<Waker>();
        let (future, polls, outputs) = hands_out(Box::new(move |waker| {
            send_waker.send(waker.clone()).unwrap();
        }));
        let task = pool.spawn_async(future);
        let waker = recv_guarded("the waker", &waker);
        let wakers: Vec<_> = (0..4)
            .map(|_| {
                let waker = waker.clone();
                std::thread::spawn(move || {
                    for _ in 0..50 {
                        waker.wake_by_ref();
                    }
                })
            })
            .collect();
        for waker in wakers {
            waker.join().unwrap();
        }
        drop(join_guarded("woken from many threads", task).unwrap());
        // Waking a completed task does nothing.
        waker.wake();
        assert!(polls.load(Ordering::SeqCst) >= 2);
        assert_eq!((outputs.made(), outputs.drops()), (1, 1));
    }
}

#[test]
fn a_waker_kept_after_the_task_and_pool_are_gone_is_harmless() {
    let pool = ThreadPool::new(1);
    let (send_waker, waker) = mpsc::channel::<Waker>();
    let (future, _polls, outputs) = hands_out(Box::new(move |waker| {
        send_waker.send(waker.clone()).unwrap();
        waker.wake_by_ref();
    }));
    let task = pool.spawn_async(future);
    let waker = recv_guarded("the waker", &waker);
    drop(join_guarded("task", task).unwrap());
    pool.shutdown();
    drop(pool);
    // The task's allocation lives while this waker does; waking it now
    // finds it complete.
    waker.wake_by_ref();
    drop(waker);
    assert_eq!((outputs.made(), outputs.drops()), (1, 1));
}
