//! Our own broken invariants abort the process with a message; they never
//! unwind through a frame another thread still uses, never leave a
//! `shutdown` waiting for a worker that died without saying so, and never
//! reach a pool's panic handler as if the user had panicked. Users' panics
//! at the same places are caught and reported as always.
//!
//! The abort kills the process, so each scenario runs in a child process:
//! this test binary again, with the debug-build hook `TASKPOOL_TEST_TRIP=
//! <site>`, which makes taskpool's own code panic inside a guarded stretch
//! as a failed internal assertion there would.

#![cfg(all(debug_assertions, not(miri)))]

mod support;

use support::{ChildOutput, HANG_GUARD, panic_text, run_in_child};
use taskpool::ThreadPool;

/// Set in the child: which site of taskpool's own code panics.
const TRIP: &str = "TASKPOOL_TEST_TRIP";

/// Runs the test `name` of this binary in a child with `site` tripped.
fn run_tripped(name: &str, site: &str) -> ChildOutput {
    run_in_child(name, &[(TRIP, site)], "the child did not end")
}

/// The child died of SIGABRT, after printing `message` (the invariant)
/// and the planted panic itself.
fn assert_aborted_with(child: &ChildOutput, message: &str) {
    let ChildOutput {
        status,
        stdout,
        stderr,
    } = child;
    assert!(
        !status.success(),
        "the child exited normally; stdout:\n{stdout}\nstderr:\n{stderr}"
    );
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(
            status.signal(),
            Some(6),
            "not SIGABRT ({status}); stderr:\n{stderr}"
        );
    }
    let expected = format!("taskpool: internal invariant broken, aborting: {message}");
    assert!(
        stderr.contains(&expected),
        "the abort names the invariant; stderr:\n{stderr}"
    );
    assert!(
        stderr.contains("an internal assertion fails here"),
        "stderr:\n{stderr}"
    );
}

fn in_child() -> bool {
    std::env::var_os(TRIP).is_some()
}

/// Seen failing before the guard: the internal panic unwound out of the
/// join and reached the user as `Err(Panicked)`.
#[test]
fn a_broken_invariant_inside_a_fork_join_on_a_worker_aborts_with_its_message() {
    const NAME: &str = "a_broken_invariant_inside_a_fork_join_on_a_worker_aborts_with_its_message";
    if in_child() {
        let pool = taskpool::Builder::new()
            .num_threads(1)
            .panic_handler(|_| println!("the pool's panic handler ran"))
            .build()
            .unwrap();
        let outcome = pool.spawn(|| taskpool::join(|| 1, || 2)).join();
        println!("the join returned: {outcome:?}");
        return;
    }
    let child = run_tripped(NAME, "join");
    assert_aborted_with(&child, "join: a stack job left its frame");
    assert!(
        !child.stdout.contains("panic handler ran"),
        "reported as a user panic:\n{}",
        child.stdout
    );
    assert!(
        !child.stdout.contains("the join returned"),
        "unwound past the guard:\n{}",
        child.stdout
    );
}

/// Seen failing before the guard (`AbortIfPanic` in `run_worker`): the
/// worker thread died of the panic without counting itself out, and the
/// child's `shutdown` waited forever (the hang guard here fired).
#[test]
fn a_panic_in_a_workers_exit_bookkeeping_aborts_naming_the_invariant() {
    const NAME: &str = "a_panic_in_a_workers_exit_bookkeeping_aborts_naming_the_invariant";
    if in_child() {
        let pool = ThreadPool::new(2);
        pool.execute(|| {});
        pool.shutdown();
        println!("shutdown returned");
        return;
    }
    let child = run_tripped(NAME, "worker_exit");
    assert_aborted_with(&child, "a worker thread panicked");
    assert!(
        child.stderr.contains("shutdown would wait for it forever"),
        "stderr:\n{}",
        child.stderr
    );
    assert!(
        !child.stdout.contains("shutdown returned"),
        "stdout:\n{}",
        child.stdout
    );
}

/// A user's panic in the `on_thread_stop` hook, at the same place, is not
/// ours: it goes to the panic handler, and the shutdown returns.
#[test]
fn a_panic_in_the_stop_hook_is_reported_not_aborted() {
    let (sender, received) = std::sync::mpsc::channel::<String>();
    let sender = std::sync::Mutex::new(sender);
    let pool = ThreadPool::builder()
        .num_threads(1)
        .on_thread_stop(|_| panic!("a user's stop hook panics"))
        .panic_handler(move |payload| {
            let text = panic_text(&*payload).unwrap_or("?");
            sender.lock().unwrap().send(text.to_owned()).unwrap();
        })
        .build()
        .unwrap();
    pool.shutdown();
    assert_eq!(
        received.recv_timeout(HANG_GUARD).unwrap(),
        "a user's stop hook panics"
    );
    assert_eq!(pool.metrics().panicked, 1);
}

#[test]
fn without_the_hook_the_same_join_returns_normally() {
    let pool = ThreadPool::new(1);
    assert_eq!(
        pool.spawn(|| taskpool::join(|| 1, || 2)).join().unwrap(),
        (1, 2)
    );
}
