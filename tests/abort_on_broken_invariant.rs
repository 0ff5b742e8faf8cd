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

use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};
use taskpool::ThreadPool;

/// Set in the child: which site of taskpool's own code panics.
const TRIP: &str = "TASKPOOL_TEST_TRIP";

/// How long a child may take before it counts as hung (not a timing
/// assertion: a child that hangs is the failure this turns into a message).
const HANG_GUARD: Duration = Duration::from_secs(60);

/// What a child left behind.
struct Child {
    status: ExitStatus,
    stdout: String,
    stderr: String,
}

impl Child {
    /// Runs the test `name` of this binary in a child with `site` tripped.
    fn run(name: &str, site: &str) -> Child {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args(["--exact", name, "--nocapture", "--test-threads=1"])
            .env(TRIP, site)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the test binary runs again");
        let read = |mut pipe: Box<dyn std::io::Read + Send>| {
            std::thread::spawn(move || {
                let mut text = String::new();
                let _ = pipe.read_to_string(&mut text);
                text
            })
        };
        let stdout = read(Box::new(child.stdout.take().unwrap()));
        let stderr = read(Box::new(child.stderr.take().unwrap()));
        let start = Instant::now();
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break status;
            }
            if start.elapsed() > HANG_GUARD {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "hang: the child did not end; stderr:\n{}",
                    stderr.join().unwrap()
                );
            }
            std::thread::sleep(Duration::from_millis(10));
        };
        Child {
            status,
            stdout: stdout.join().unwrap(),
            stderr: stderr.join().unwrap(),
        }
    }

    /// The child died of SIGABRT, after printing `message` (the invariant)
    /// and the planted panic itself.
    fn assert_aborted_with(&self, message: &str) {
        let Child {
            status,
            stdout,
            stderr,
        } = self;
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
    let child = Child::run(NAME, "join");
    child.assert_aborted_with("join: a stack job left its frame");
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
    let child = Child::run(NAME, "worker_exit");
    child.assert_aborted_with("a worker thread panicked");
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
            let text = payload.downcast_ref::<&str>().copied().unwrap_or("?");
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
