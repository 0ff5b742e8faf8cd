//! Our own broken invariants abort the process with a message; they never
//! unwind through a frame another thread still uses, and never reach a
//! pool's panic handler as if the user had panicked.
//!
//! Each test runs itself again in a child process with the debug-build hook
//! `TASKPOOL_TEST_TRIP=<site>`, which makes taskpool's own code panic inside
//! a guarded stretch, and checks how the child died.

#![cfg(all(debug_assertions, not(miri)))]

use std::process::Command;

/// Set in the child: which site to trip.
const TRIP: &str = "TASKPOOL_TEST_TRIP";

/// Runs the test `name` of this binary in a child with `site` tripped;
/// returns (died by SIGABRT, stdout, stderr).
fn run_child(name: &str, site: &str) -> (bool, String, String) {
    let output = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", name, "--nocapture", "--test-threads", "1"])
        .env(TRIP, site)
        .output()
        .expect("the test binary runs again");
    #[cfg(unix)]
    let aborted = {
        use std::os::unix::process::ExitStatusExt;
        output.status.signal() == Some(6)
    };
    #[cfg(not(unix))]
    let aborted = !output.status.success();
    let text = |bytes: Vec<u8>| String::from_utf8_lossy(&bytes).into_owned();
    (aborted, text(output.stdout), text(output.stderr))
}

#[test]
fn a_broken_invariant_inside_a_fork_join_on_a_worker_aborts_with_its_message() {
    const NAME: &str = "a_broken_invariant_inside_a_fork_join_on_a_worker_aborts_with_its_message";
    if std::env::var_os(TRIP).is_some() {
        // The child: a join on a worker, whose guarded stretch trips.
        let pool = taskpool::Builder::new()
            .num_threads(1)
            .panic_handler(|_| println!("the pool's panic handler ran"))
            .build()
            .unwrap();
        let task = pool.spawn(|| taskpool::join(|| 1, || 2));
        let outcome = task.join();
        println!("the join returned: {outcome:?}");
        return;
    }
    let (aborted, stdout, stderr) = run_child(NAME, "join");
    assert!(
        aborted,
        "the child aborts; stdout:\n{stdout}\nstderr:\n{stderr}"
    );
    assert!(
        stderr.contains(
            "taskpool: internal invariant broken, aborting: join: a stack job left its frame"
        ),
        "the abort names the invariant; stderr:\n{stderr}"
    );
    assert!(
        !stdout.contains("panic handler ran"),
        "not reported as a user panic:\n{stdout}"
    );
    assert!(
        !stdout.contains("the join returned"),
        "nothing unwound past the guard:\n{stdout}"
    );
}

#[test]
fn without_the_hook_the_same_join_returns_normally() {
    let pool = taskpool::ThreadPool::new(1);
    assert_eq!(
        pool.spawn(|| taskpool::join(|| 1, || 2)).join().unwrap(),
        (1, 2)
    );
}
