//! `CancellationToken::cancel_after`: one deadline per token, replaced by a
//! later call (issue 10, defect 12), and callbacks that never run on the
//! process-wide timer thread (issue 10, defect 5).
//!
//! Timing: no test asserts how long something took. The deadlines are far
//! apart (tens of milliseconds against 30 seconds), so a busy machine can
//! only delay a firing, never make one early; the one window is a pause of
//! the test thread longer than the short delay between two consecutive
//! `cancel_after` calls. A hang shows up as a failed `recv_timeout` after
//! [`HANG_GUARD`], not as a stuck suite.

mod support;

use std::sync::mpsc;
use std::thread;
use std::time::Duration;
use support::HANG_GUARD;
use taskpool::{CancellationToken, ThreadPool};

/// Waits for the token with a hang guard; `true` if it was cancelled.
fn cancelled_within_hang_guard(token: &CancellationToken) -> bool {
    taskpool::block_on(taskpool::timeout(HANG_GUARD, token.cancelled())).is_ok()
}

/// Outcome: the second, longer call replaces the first; 200 ms later (well
/// past the first deadline) the token is still not cancelled.
#[test]
fn a_later_longer_cancel_after_extends_the_deadline() {
    let token = CancellationToken::new();
    token.cancel_after(Duration::from_millis(50));
    token.cancel_after(Duration::from_secs(30));
    thread::sleep(Duration::from_millis(200));
    assert!(
        !token.is_cancelled(),
        "cancelled by the replaced 50 ms delay"
    );
}

/// Outcome: a keep-alive deadline pushed on each bit of activity is not
/// cancelled while the activity goes on.
#[test]
fn a_keep_alive_deadline_pushed_repeatedly_is_not_cancelled_early() {
    let token = CancellationToken::new();
    for _ in 0..20 {
        token.cancel_after(Duration::from_millis(100));
        token.cancel_after(Duration::from_secs(30));
        thread::sleep(Duration::from_millis(10));
    }
    thread::sleep(Duration::from_millis(200));
    assert!(
        !token.is_cancelled(),
        "cancelled by a replaced 100 ms delay"
    );
}

/// Outcome: the second, shorter call brings the deadline forward; the token
/// is cancelled long before the first 30 s deadline.
#[test]
fn a_later_shorter_cancel_after_brings_the_deadline_forward() {
    let token = CancellationToken::new();
    token.cancel_after(Duration::from_secs(30));
    token.cancel_after(Duration::from_millis(10));
    assert!(cancelled_within_hang_guard(&token));
}

/// Outcome: a delay too long to represent never comes, and it still
/// replaces the earlier one (like .NET's `CancelAfter(Timeout.Infinite)`).
#[test]
fn an_unrepresentable_cancel_after_disarms_the_earlier_delay() {
    let token = CancellationToken::new();
    token.cancel_after(Duration::from_millis(100));
    token.cancel_after(Duration::MAX);
    thread::sleep(Duration::from_millis(250));
    assert!(
        !token.is_cancelled(),
        "cancelled by the replaced 100 ms delay"
    );
}

/// Outcome: a zero delay cancels at once, whatever was armed before.
#[test]
fn a_zero_cancel_after_cancels_at_once_over_a_pending_delay() {
    let token = CancellationToken::new();
    token.cancel_after(Duration::from_secs(30));
    token.cancel_after(Duration::ZERO);
    assert!(token.is_cancelled());
}

/// Outcome: a child token's own `cancel_after` fires for it and not for its
/// parent, and its parent's replaced delay does not cancel it.
#[test]
fn cancel_after_on_parent_and_child_are_separate_deadlines() {
    let parent = CancellationToken::new();
    let child = parent.child_token();
    parent.cancel_after(Duration::from_millis(100));
    parent.cancel_after(Duration::from_secs(30));
    child.cancel_after(Duration::from_millis(10));
    assert!(cancelled_within_hang_guard(&child));
    thread::sleep(Duration::from_millis(250));
    assert!(!parent.is_cancelled());
}

/// Outcome: callbacks fired by `cancel_after` run somewhere other than the
/// timer thread (`taskpool-timer`).
#[test]
fn cancel_after_runs_callbacks_off_the_timer_thread() {
    let token = CancellationToken::new();
    let (sender, receiver) = mpsc::channel();
    let _registration = token.register(move || {
        let name = thread::current().name().map(str::to_owned);
        sender.send(name).unwrap();
    });
    token.cancel_after(Duration::from_millis(1));
    let name = receiver.recv_timeout(HANG_GUARD).expect("callback ran");
    assert_ne!(name.as_deref(), Some("taskpool-timer"));
}

/// Outcome: a callback that joins a task awaiting a `sleep` gets the task's
/// result: the sleep fires although the callback blocks until it does.
/// (Before the fix the callback blocked the one timer thread, so the sleep,
/// and every other timer in the process, never fired.)
#[test]
fn a_cancel_after_callback_that_joins_a_sleeping_task_does_not_stop_the_timers() {
    let pool = ThreadPool::new(1);
    // The sleep's deadline is at least 50 ms after this line; the token's
    // is 1 ms after: the callback always starts before the sleep is due.
    let sleeper = pool.spawn_async(async {
        taskpool::sleep(Duration::from_millis(50)).await;
        7
    });
    let token = CancellationToken::new();
    let (sender, receiver) = mpsc::channel();
    let _registration = token.register(move || {
        sender.send(sleeper.join().ok()).unwrap();
    });
    token.cancel_after(Duration::from_millis(1));
    let joined = receiver
        .recv_timeout(HANG_GUARD)
        .expect("the callback's join hangs: the timers stopped");
    assert_eq!(joined, Some(7));
}

/// Outcome: a callback that drops the last handle of a pool whose worker
/// waits in `block_on(sleep(..))` returns: the shutdown it starts sees the
/// sleep fire and the job end.
#[test]
fn a_cancel_after_callback_that_drops_a_pool_blocked_on_a_sleep_returns() {
    let pool = ThreadPool::new(1);
    let (started_sender, started) = mpsc::channel();
    pool.execute(move || {
        started_sender.send(()).unwrap();
        taskpool::block_on(taskpool::sleep(Duration::from_millis(50)));
    });
    started.recv_timeout(HANG_GUARD).expect("the job started");
    let token = CancellationToken::new();
    let (sender, receiver) = mpsc::channel();
    let _registration = token.register(move || {
        drop(pool);
        sender.send(()).unwrap();
    });
    token.cancel_after(Duration::from_millis(1));
    receiver
        .recv_timeout(HANG_GUARD)
        .expect("dropping the pool hangs: the timers stopped");
}

/// Outcome: while one `cancel_after` callback blocks, another token's
/// `cancel_after` still fires and runs its callback.
#[test]
fn a_blocked_cancel_after_callback_does_not_hold_up_another_tokens_callback() {
    let first = CancellationToken::new();
    let second = CancellationToken::new();
    let (release_sender, release) = mpsc::channel::<()>();
    let (sender, receiver) = mpsc::channel();
    let first_sender = sender.clone();
    let _first = first.register(move || {
        // Blocks until the second token's callback has run.
        let released = release.recv_timeout(HANG_GUARD).is_ok();
        first_sender.send(("first", released)).unwrap();
    });
    let _second = second.register(move || {
        release_sender.send(()).unwrap();
        sender.send(("second", true)).unwrap();
    });
    first.cancel_after(Duration::from_millis(1));
    second.cancel_after(Duration::from_millis(30));
    let mut seen = vec![
        receiver.recv_timeout(HANG_GUARD).expect("a callback ran"),
        receiver
            .recv_timeout(HANG_GUARD)
            .expect("both callbacks ran"),
    ];
    seen.sort();
    assert_eq!(seen, [("first", true), ("second", true)]);
}

/// Outcome: a burst of deadlines whose tokens have callbacks runs every
/// callback exactly once, then a second burst does too: the callbacks run
/// on threads kept from earlier firings or started for them, and none is
/// lost in between (a runner that stops waiting just as a firing picks it).
#[test]
fn bursts_of_deadlines_with_callbacks_run_every_callback_once() {
    let tokens = if cfg!(miri) { 8 } else { 200 };
    for burst in 0..2 {
        let (sender, receiver) = mpsc::channel();
        let registered: Vec<_> = (0..tokens)
            .map(|index| {
                let token = CancellationToken::new();
                let sender = sender.clone();
                let registration = token.register(move || sender.send(index).unwrap());
                token.cancel_after(Duration::from_millis(1 + (index % 5) as u64));
                (token, registration)
            })
            .collect();
        let mut ran: Vec<usize> = (0..tokens)
            .map(|_| {
                receiver
                    .recv_timeout(HANG_GUARD)
                    .expect("every callback ran")
            })
            .collect();
        ran.sort_unstable();
        assert_eq!(ran, (0..tokens).collect::<Vec<_>>(), "burst {burst}");
        assert!(registered.iter().all(|(token, _)| token.is_cancelled()));
        assert!(receiver.try_recv().is_err(), "no callback ran twice");
    }
}
