//! Waiting from a thread-local's destructor works, at thread exit and at
//! process exit, on a thread that used the crate before (issue 10, D7).
//!
//! The crate's own thread-locals of that thread may be destroyed by then;
//! a wait must not touch them (that aborts the process: "cannot access a
//! Thread Local Storage value during or after destruction"). An abort
//! cannot be caught in-process, so each scenario runs in a child process:
//! this test binary again, running only [`child_process_scenario`] with the
//! scenario named in [`SCENARIO`]. Miri cannot start processes: there the
//! thread-exit scenarios run in-process, and the process-exit one not at all.

mod support;

use std::cell::RefCell;
use std::io::Write;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;
use support::run_in_child;
use taskpool::{Task, ThreadPool};

/// Set in a child process: which scenario to run.
const SCENARIO: &str = "TASKPOOL_WAIT_TLS_SCENARIO";

/// What the destructor waits on, and how.
enum Wait {
    Join(Task<u32>),
    BlockOn(Task<u32>),
}

/// A thread-local value whose `Drop` waits for a task and prints the result.
struct WaitOnDrop(Option<Wait>);

/// What the last [`WaitOnDrop`] got (0: nothing yet).
static WAITED: AtomicU32 = AtomicU32::new(0);

/// Set once a [`WaitOnDrop`] began to drop: the task it waits on finishes
/// only then, so that the wait really blocks.
static DROP_STARTED: AtomicBool = AtomicBool::new(false);

impl Drop for WaitOnDrop {
    fn drop(&mut self) {
        DROP_STARTED.store(true, Ordering::SeqCst);
        let value = match self.0.take().expect("set once") {
            Wait::Join(task) => task.join(),
            Wait::BlockOn(task) => taskpool::block_on(task),
        };
        let value = value.unwrap();
        WAITED.store(value, Ordering::SeqCst);
        // Not `println!`: it may use thread-locals of its own.
        let mut stdout = std::io::stdout().lock();
        writeln!(stdout, "waited in a thread-local destructor: {value}").unwrap();
        stdout.flush().unwrap();
    }
}

thread_local! {
    static WAIT_ON_DROP: RefCell<Option<WaitOnDrop>> = const { RefCell::new(None) };
}

/// The pool of these tests: two workers, so that the task the destructor
/// waits for (which occupies one until the destructor starts) never holds
/// up the work the thread does before it exits; never dropped, so alive at
/// process exit.
fn pool() -> &'static ThreadPool {
    static POOL: OnceLock<ThreadPool> = OnceLock::new();
    POOL.get_or_init(|| ThreadPool::new(2))
}

/// A task that ends (with 7) only after the destructor started waiting.
fn task_ending_after_the_drop_started() -> Task<u32> {
    pool().spawn(|| {
        support::wait_until("the thread-local destructor to start", || {
            DROP_STARTED.load(Ordering::SeqCst)
        });
        // Likely parked in the wait by now (only the test's strength
        // depends on it).
        std::thread::sleep(Duration::from_millis(20));
        7
    })
}

/// Arms this thread's [`WAIT_ON_DROP`], then uses the crate's waits so
/// that its thread-locals exist, registered after ours: they are destroyed
/// before ours (destructors run in reverse order of registration).
fn arm(make_wait: fn(Task<u32>) -> Wait) {
    WAIT_ON_DROP.with(|slot| {
        *slot.borrow_mut() = Some(WaitOnDrop(Some(make_wait(
            task_ending_after_the_drop_started(),
        ))))
    });
    let used = pool().spawn(|| {
        std::thread::sleep(Duration::from_millis(5));
        1
    });
    assert_eq!(used.join().unwrap(), 1);
    assert_eq!(
        taskpool::block_on(async {
            taskpool::sleep(Duration::from_millis(1)).await;
            2
        }),
        2
    );
}

/// The child side; does nothing in a normal test run.
#[test]
fn child_process_scenario() {
    let Ok(scenario) = std::env::var(SCENARIO) else {
        return;
    };
    match scenario.as_str() {
        "join at thread exit" => std::thread::spawn(|| arm(Wait::Join)).join().unwrap(),
        "block_on at thread exit" => std::thread::spawn(|| arm(Wait::BlockOn)).join().unwrap(),
        "join at process exit" => {
            arm(Wait::Join);
            // `exit` runs the calling thread's thread-local destructors, as
            // it does the main thread's when `main` returns.
            std::process::exit(0);
        }
        other => panic!("unknown scenario {other:?}"),
    }
}

/// Runs `scenario` in a child process and returns its stdout, failing the
/// test if the child fails, aborts, or hangs past the guard. Under Miri,
/// runs a thread-exit scenario in-process instead.
fn run_child(scenario: &str) -> String {
    if cfg!(miri) {
        // One scenario at a time: they share the statics above.
        static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());
        let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
        DROP_STARTED.store(false, Ordering::SeqCst);
        let make_wait = match scenario {
            "join at thread exit" => Wait::Join,
            "block_on at thread exit" => Wait::BlockOn,
            other => unreachable!("no in-process form of {other:?}"),
        };
        std::thread::spawn(move || arm(make_wait)).join().unwrap();
        return format!(
            "waited in a thread-local destructor: {}",
            WAITED.load(Ordering::SeqCst)
        );
    }
    let child = run_in_child(
        "child_process_scenario",
        &[(SCENARIO, scenario)],
        &format!("scenario `{scenario}` did not finish"),
    );
    assert!(
        child.status.success(),
        "scenario `{scenario}` failed: {}\n{}",
        child.status,
        child.both()
    );
    child.stdout
}

#[test]
fn joining_a_task_in_a_thread_local_destructor_at_thread_exit_returns_its_value() {
    let stdout = run_child("join at thread exit");
    assert!(
        stdout.contains("waited in a thread-local destructor: 7"),
        "{stdout}"
    );
}

#[test]
fn block_on_in_a_thread_local_destructor_at_thread_exit_returns_the_value() {
    let stdout = run_child("block_on at thread exit");
    assert!(
        stdout.contains("waited in a thread-local destructor: 7"),
        "{stdout}"
    );
}

#[test]
#[cfg_attr(miri, ignore = "Miri cannot start the child process")]
fn joining_a_task_in_a_thread_local_destructor_at_process_exit_returns_its_value() {
    let stdout = run_child("join at process exit");
    assert!(
        stdout.contains("waited in a thread-local destructor: 7"),
        "{stdout}"
    );
}
