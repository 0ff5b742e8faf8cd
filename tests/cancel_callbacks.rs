//! `CancellationToken::register`: callbacks run once, on the cancelling
//! thread (or at once when already cancelled); dropping the registration
//! unregisters, and waits for a running callback unless called from it.

mod support;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::thread::ThreadId;
use support::{DropCounter, EXPECTED, recv_guarded, within};
use taskpool::CancellationToken;

fn counting(calls: &Arc<AtomicUsize>) -> impl FnOnce() + Send + 'static {
    let calls = calls.clone();
    move || {
        calls.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn a_callback_runs_once_on_the_cancelling_thread() {
    let token = CancellationToken::new();
    let ran_on: Arc<Mutex<Vec<ThreadId>>> = Arc::default();
    let record = ran_on.clone();
    let _registration = token.register(move || {
        record.lock().unwrap().push(std::thread::current().id());
    });
    assert!(ran_on.lock().unwrap().is_empty(), "ran before cancel");
    let canceller = token.clone();
    let cancelling_thread = std::thread::spawn(move || {
        canceller.cancel();
        canceller.cancel();
        std::thread::current().id()
    })
    .join()
    .unwrap();
    token.cancel();
    assert_eq!(*ran_on.lock().unwrap(), [cancelling_thread]);
}

#[test]
fn every_callback_runs_exactly_once_when_two_threads_cancel_at_once() {
    for _ in 0..support::size(500, 10) {
        let token = CancellationToken::new();
        let calls = Arc::new(AtomicUsize::new(0));
        let registrations: Vec<_> = (0..10).map(|_| token.register(counting(&calls))).collect();
        let cancellers: Vec<_> = (0..2)
            .map(|_| {
                let token = token.clone();
                std::thread::spawn(move || token.cancel())
            })
            .collect();
        for canceller in cancellers {
            canceller.join().unwrap();
        }
        assert_eq!(calls.load(Ordering::SeqCst), 10);
        drop(registrations);
    }
}

#[test]
fn callbacks_run_most_recently_registered_first() {
    let token = CancellationToken::new();
    let order = Arc::new(Mutex::new(Vec::new()));
    let registrations: Vec<_> = (0..5)
        .map(|i| {
            let order = order.clone();
            token.register(move || order.lock().unwrap().push(i))
        })
        .collect();
    token.cancel();
    assert_eq!(*order.lock().unwrap(), [4, 3, 2, 1, 0]);
    drop(registrations);
}

#[test]
fn a_callback_registered_on_a_cancelled_token_runs_at_once_on_the_registering_thread() {
    let token = CancellationToken::new();
    token.cancel();
    let ran_on = Arc::new(Mutex::new(None));
    let record = ran_on.clone();
    let registration = token.register(move || {
        *record.lock().unwrap() = Some(std::thread::current().id());
    });
    assert_eq!(*ran_on.lock().unwrap(), Some(std::thread::current().id()));
    drop(registration);
    token.cancel();
    assert_eq!(*ran_on.lock().unwrap(), Some(std::thread::current().id()));
}

#[test]
fn a_callback_registered_on_a_child_runs_when_the_parent_is_cancelled() {
    let parent = CancellationToken::new();
    let child = parent.child_token();
    let calls = Arc::new(AtomicUsize::new(0));
    let _registration = child.register(counting(&calls));
    parent.cancel();
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    child.cancel();
    assert_eq!(calls.load(Ordering::SeqCst), 1);
}

#[test]
fn a_callback_unregistered_before_cancel_never_runs_and_is_dropped_once() {
    let token = CancellationToken::new();
    let calls = Arc::new(AtomicUsize::new(0));
    let captured = DropCounter::new();
    let value = captured.track();
    let counter = calls.clone();
    let registration = token.register(move || {
        value.touch();
        counter.fetch_add(1, Ordering::SeqCst);
    });
    let kept = token.register(counting(&calls));
    drop(registration);
    assert_eq!(captured.drops(), 1, "unregistering drops the callback");
    token.cancel();
    assert_eq!(
        calls.load(Ordering::SeqCst),
        1,
        "only the kept callback ran"
    );
    assert_eq!(captured.drops(), 1);
    drop(kept);
}

#[test]
fn a_callback_is_dropped_once_after_it_ran() {
    let token = CancellationToken::new();
    let captured = DropCounter::new();
    let value = captured.track();
    let registration = token.register(move || value.touch());
    token.cancel();
    assert_eq!(captured.drops(), 1);
    drop(registration);
    assert_eq!(captured.drops(), 1);
}

#[test]
fn unregistering_while_the_callback_runs_on_another_thread_waits_for_it() {
    let token = CancellationToken::new();
    let (entered, wait_entered) = mpsc::channel::<()>();
    let (release, wait_release) = mpsc::channel::<()>();
    let finished = Arc::new(AtomicBool::new(false));
    let flag = finished.clone();
    let registration = token.register(move || {
        entered.send(()).unwrap();
        wait_release.recv().unwrap();
        flag.store(true, Ordering::SeqCst);
    });
    let canceller = {
        let token = token.clone();
        std::thread::spawn(move || token.cancel())
    };
    recv_guarded("the callback starts", &wait_entered);
    let (unregistered, wait_unregistered) = mpsc::channel::<bool>();
    let unregistering = {
        let finished = finished.clone();
        std::thread::spawn(move || {
            drop(registration);
            // Must only get here once the callback has finished.
            unregistered.send(finished.load(Ordering::SeqCst)).unwrap();
        })
    };
    // The unregistering thread is stuck while the callback runs.
    assert!(
        wait_unregistered
            .recv_timeout(std::time::Duration::from_millis(50))
            .is_err(),
        "dropping the registration returned while its callback was still running"
    );
    release.send(()).unwrap();
    assert!(
        recv_guarded("the registration drop returns", &wait_unregistered),
        "the drop returned before the callback finished"
    );
    unregistering.join().unwrap();
    canceller.join().unwrap();
}

#[test]
fn unregistering_from_inside_the_callback_does_not_deadlock() {
    let result = within("unregister from inside the callback", || {
        let token = CancellationToken::new();
        let slot: Arc<Mutex<Option<taskpool::CancellationRegistration>>> = Arc::default();
        let inner = slot.clone();
        let calls = Arc::new(AtomicUsize::new(0));
        let counter = calls.clone();
        let registration = token.register(move || {
            counter.fetch_add(1, Ordering::SeqCst);
            let own = inner.lock().unwrap().take();
            drop(own);
        });
        *slot.lock().unwrap() = Some(registration);
        token.cancel();
        calls.load(Ordering::SeqCst)
    });
    assert_eq!(result, 1);
}

#[test]
fn dropping_a_registration_from_inside_another_callback_waits_for_nothing_and_skips_it() {
    // Callback B (registered last, so run first) unregisters A before A ran.
    let result = within("unregister a sibling from a callback", || {
        let token = CancellationToken::new();
        let calls = Arc::new(AtomicUsize::new(0));
        let a = token.register(counting(&calls));
        let slot = Arc::new(Mutex::new(Some(a)));
        let inner = slot.clone();
        let _b = token.register(move || drop(inner.lock().unwrap().take()));
        token.cancel();
        calls.load(Ordering::SeqCst)
    });
    assert_eq!(result, 0, "A was unregistered before its turn");
}

#[test]
fn a_panicking_callback_does_not_stop_the_other_callbacks() {
    support::quiet_expected_panics();
    let token = CancellationToken::new();
    let calls = Arc::new(AtomicUsize::new(0));
    let first = token.register(counting(&calls));
    let panicking = token.register(|| panic!("{EXPECTED}: in a callback"));
    let last = token.register(counting(&calls));
    token.cancel();
    assert_eq!(calls.load(Ordering::SeqCst), 2);
    assert!(token.is_cancelled());
    drop((first, panicking, last));
}

#[test]
fn a_panicking_callback_run_by_a_worker_goes_to_that_pool_panic_handler() {
    let (pool, log) = support::pool_with_panic_log(1);
    let token = CancellationToken::new();
    let calls = Arc::new(AtomicUsize::new(0));
    let registrations = vec![
        token.register(counting(&calls)),
        token.register(|| panic!("{EXPECTED}: callback on a worker")),
    ];
    let canceller = token.clone();
    support::join_guarded("cancel on a worker", pool.spawn(move || canceller.cancel())).unwrap();
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    assert_eq!(
        log.messages(),
        [Some("expected panic: callback on a worker".to_string())]
    );
    drop(registrations);
}

#[test]
fn a_panicking_callback_registered_on_a_cancelled_token_does_not_unwind_into_register() {
    support::quiet_expected_panics();
    let token = CancellationToken::new();
    token.cancel();
    let registration = token.register(|| panic!("{EXPECTED}: at once"));
    drop(registration);
}

#[test]
fn a_callback_may_register_another_callback_and_cancel_other_tokens() {
    let token = CancellationToken::new();
    let other = CancellationToken::new();
    let calls = Arc::new(AtomicUsize::new(0));
    let inner_calls = calls.clone();
    let inner_token = token.clone();
    let other_clone = other.clone();
    let registration = token.register(move || {
        // The token is cancelled now: this runs at once, here.
        let nested = inner_token.register(counting(&inner_calls));
        drop(nested);
        other_clone.cancel();
    });
    within("nested register", move || token.cancel());
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    assert!(other.is_cancelled());
    drop(registration);
}
