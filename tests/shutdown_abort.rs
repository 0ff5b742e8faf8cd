//! Our own faults abort, users' faults never do (issue 10, "Our own faults
//! abort"): a panic in a worker's own bookkeeping, planted through a
//! test-only builder switch, aborts the process with a message naming the
//! broken invariant, instead of leaving `shutdown` waiting forever for a
//! worker that died without saying so.
//!
//! The abort kills the process, so the scenario runs in a child process:
//! this test binary again, told by an environment variable to play the
//! child's part.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use taskpool::ThreadPool;

/// Set in the child's environment: run the scenario instead of checking it.
const CHILD: &str = "TASKPOOL_SHUTDOWN_ABORT_CHILD";

/// How long the child may take before it counts as hung (not a timing
/// assertion: a child that hangs is the failure this turns into a message).
const HANG_GUARD: Duration = Duration::from_secs(60);

/// Runs the test `name` of this binary in a child process with [`CHILD`]
/// set; returns its exit status and stderr, or fails if it hangs.
fn run_child(name: &str) -> (std::process::ExitStatus, String) {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", name, "--nocapture", "--test-threads=1"])
        .env(CHILD, "1")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the child process");
    let mut stderr = child.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = std::io::Read::read_to_string(&mut stderr, &mut text);
        text
    });
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if start.elapsed() > HANG_GUARD {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "hang: the child did not end within {HANG_GUARD:?}; stderr:\n{}",
                reader.join().unwrap()
            );
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    (status, reader.join().unwrap())
}

/// A panic in a worker's exit bookkeeping (after its main loop, before it
/// tells the pool it exited) aborts, naming the invariant; the shutdown that
/// waits for that worker does not hang.
///
/// Seen failing before the guard (`AbortIfPanic` in `run_worker`): the
/// worker thread died of the panic without counting itself out, and the
/// child's `shutdown` waited forever (the hang guard here fired).
#[test]
fn a_panic_in_a_workers_exit_bookkeeping_aborts_naming_the_invariant() {
    const NAME: &str = "a_panic_in_a_workers_exit_bookkeeping_aborts_naming_the_invariant";
    if std::env::var_os(CHILD).is_some() {
        let pool = ThreadPool::builder()
            .num_threads(2)
            .__test_panic_in_worker_exit()
            .build()
            .unwrap();
        pool.execute(|| {});
        pool.shutdown();
        // Only reached if the panic did not abort: the parent sees a clean
        // exit and fails.
        return;
    }
    let (status, stderr) = run_child(NAME);
    assert!(
        !status.success(),
        "the child exited normally; stderr:\n{stderr}"
    );
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(
            status.signal(),
            Some(6),
            "the child was not killed by SIGABRT ({status}); stderr:\n{stderr}"
        );
    }
    assert!(
        stderr.contains("taskpool: internal invariant broken, aborting: a worker thread panicked")
            && stderr.contains("shutdown would wait for it forever"),
        "the abort message names the invariant; stderr:\n{stderr}"
    );
    // The panic itself was printed by the panic hook before the abort.
    assert!(stderr.contains("taskpool test fault"), "stderr:\n{stderr}");
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
