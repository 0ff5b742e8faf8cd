//! Every combination of how a task body ends, when it is cancelled, what
//! happens to its handle and how many threads the pool has: each ends in the
//! one expected outcome, drops its closure's captures and its output exactly
//! once, and reports to the panic handler exactly the panics nobody joined.

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, mpsc};
use support::{
    DropCounter, EXPECTED, HANG_GUARD, Tracked, WorkerGate, pool_with_panic_log, recv_guarded,
    wait_until, within,
};
use taskpool::{CancellationToken, Task, TaskError};

#[derive(Debug, Clone, Copy, PartialEq)]
enum Body {
    Returns,
    Panics,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Cancel {
    Never,
    /// While every worker is blocked by a gate: the task is still queued.
    BeforeItRuns,
    /// While the closure waits on a channel this test controls.
    WhileItRuns,
    AfterItFinished,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Handle {
    /// Dropped right after spawn: detached (cancelled through the token).
    DroppedEarly,
    /// Dropped after the task finished, never joined.
    DroppedLate,
    Joined,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Outcome {
    Value,
    Panicked,
    Cancelled,
}

#[derive(Debug, Clone, Copy)]
struct Case {
    body: Body,
    cancel: Cancel,
    handle: Handle,
    threads: usize,
}

impl Case {
    fn expected_outcome(self) -> Outcome {
        match (self.cancel, self.body) {
            (Cancel::BeforeItRuns | Cancel::WhileItRuns, _) => Outcome::Cancelled,
            (_, Body::Returns) => Outcome::Value,
            (_, Body::Panics) => Outcome::Panicked,
        }
    }

    /// Whether the closure (the part after the token check) runs at all.
    fn closure_runs(self) -> bool {
        self.cancel != Cancel::BeforeItRuns
    }

    fn expected_handler_reports(self) -> usize {
        usize::from(self.expected_outcome() == Outcome::Panicked && self.handle != Handle::Joined)
    }
}

/// What one case observed.
#[derive(Debug)]
struct Observed {
    outcome: Option<Outcome>,
    cancel_returned: Option<bool>,
    runs: usize,
    captured: (usize, usize),
    outputs: (usize, usize),
    handler_reports: usize,
    panicked_metric: u64,
}

fn outcome_of(result: &Result<Tracked, TaskError>) -> Outcome {
    match result {
        Ok(_) => Outcome::Value,
        Err(error) if error.is_panic() => Outcome::Panicked,
        Err(error) => {
            assert!(error.is_cancelled());
            Outcome::Cancelled
        }
    }
}

fn run_case(case: Case) -> Observed {
    let (pool, log) = pool_with_panic_log(case.threads);
    let runs = Arc::new(AtomicUsize::new(0));
    // Bumped when the task has ended, whichever way: its closure's captured
    // value is dropped as the very last thing (or by the canceller).
    let captured = DropCounter::new();
    let outputs = DropCounter::new();
    let (started, wait_started) = mpsc::channel::<()>();
    let (release, wait_release) = mpsc::channel::<()>();
    let token = CancellationToken::new();

    let gate =
        (case.cancel == Cancel::BeforeItRuns).then(|| WorkerGate::close(&pool, case.threads));

    let value = captured.track();
    let body_runs = runs.clone();
    let body_outputs = outputs.clone();
    let waits = case.cancel == Cancel::WhileItRuns;
    let panics = case.body == Body::Panics;
    let mut task: Option<Task<Tracked>> = Some(pool.spawn_with_token(&token, move |own| {
        let value = value;
        value.touch();
        body_runs.fetch_add(1, Ordering::SeqCst);
        if waits {
            started.send(()).unwrap();
            wait_release.recv().unwrap();
        }
        own.check()?;
        if panics {
            panic!("{EXPECTED}: cross product");
        }
        Ok(body_outputs.track())
    }));

    if case.handle == Handle::DroppedEarly {
        task = None;
    }

    // Cancels through the handle if we still have it, else through the
    // parent token; returns what `Task::cancel` said.
    let cancel = |task: &Option<Task<Tracked>>| -> Option<bool> {
        match task {
            Some(task) => Some(task.cancel()),
            None => {
                token.cancel();
                None
            }
        }
    };
    // Waits until the task has ended, without observing its result.
    let wait_finished = |task: &mut Option<Task<Tracked>>| match task {
        Some(task) => assert!(task.wait_timeout(HANG_GUARD), "{case:?}: hang"),
        None => wait_until(&format!("{case:?}: the detached task ends"), || {
            captured.drops() == 1
        }),
    };

    let mut cancel_returned = None;
    match case.cancel {
        Cancel::Never => {}
        Cancel::BeforeItRuns => {
            cancel_returned = cancel(&task);
            drop(gate);
        }
        Cancel::WhileItRuns => {
            recv_guarded("the task starts", &wait_started);
            cancel_returned = cancel(&task);
            release.send(()).unwrap();
        }
        Cancel::AfterItFinished => {
            wait_finished(&mut task);
            cancel_returned = cancel(&task);
        }
    }

    let mut outcome = None;
    match case.handle {
        Handle::DroppedEarly => {}
        Handle::DroppedLate => {
            wait_finished(&mut task);
            drop(task.take());
        }
        Handle::Joined => {
            let mut task = task.take().unwrap();
            assert!(task.wait_timeout(HANG_GUARD), "{case:?}: hang");
            let result = task.join();
            outcome = Some(outcome_of(&result));
            drop(result);
        }
    }

    // No worker died: the pool still runs new tasks.
    let mut alive = pool.spawn(|| 1);
    assert!(
        alive.wait_timeout(HANG_GUARD),
        "{case:?}: the pool stopped running tasks"
    );
    assert_eq!(alive.join().unwrap(), 1);

    pool.shutdown();
    Observed {
        outcome,
        cancel_returned,
        runs: runs.load(Ordering::SeqCst),
        captured: (captured.made(), captured.drops()),
        outputs: (outputs.made(), outputs.drops()),
        handler_reports: log.count(),
        panicked_metric: pool.metrics().panicked,
    }
}

fn check(case: Case, seen: &Observed) -> Result<(), String> {
    let mut problems = Vec::new();
    let expected = case.expected_outcome();
    if case.handle == Handle::Joined && seen.outcome != Some(expected) {
        problems.push(format!(
            "join gave {:?}, expected {expected:?}",
            seen.outcome
        ));
    }
    let expected_cancel = match (case.cancel, case.handle) {
        (Cancel::Never, _) | (_, Handle::DroppedEarly) => None,
        (Cancel::BeforeItRuns, _) => Some(true),
        (Cancel::WhileItRuns | Cancel::AfterItFinished, _) => Some(false),
    };
    if seen.cancel_returned != expected_cancel {
        problems.push(format!(
            "cancel() returned {:?}, expected {expected_cancel:?}",
            seen.cancel_returned
        ));
    }
    let expected_runs = usize::from(case.closure_runs());
    if seen.runs != expected_runs {
        problems.push(format!(
            "closure ran {} times, expected {expected_runs}",
            seen.runs
        ));
    }
    if seen.captured != (1, 1) {
        problems.push(format!(
            "captured value made/dropped {:?}, expected (1, 1)",
            seen.captured
        ));
    }
    let output_made = usize::from(expected == Outcome::Value);
    if seen.outputs != (output_made, output_made) {
        problems.push(format!(
            "output made/dropped {:?}, expected ({output_made}, {output_made})",
            seen.outputs
        ));
    }
    let reports = case.expected_handler_reports();
    if seen.handler_reports != reports || seen.panicked_metric != reports as u64 {
        problems.push(format!(
            "panic handler got {} (metrics.panicked {}), expected {reports}",
            seen.handler_reports, seen.panicked_metric
        ));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!("{case:?}: {}", problems.join("; ")))
    }
}

#[test]
fn every_body_cancel_handle_and_thread_count_combination_ends_as_expected() {
    let mut cases = Vec::new();
    for threads in [1, 4] {
        for body in [Body::Returns, Body::Panics] {
            for cancel in [
                Cancel::Never,
                Cancel::BeforeItRuns,
                Cancel::WhileItRuns,
                Cancel::AfterItFinished,
            ] {
                for handle in [Handle::DroppedEarly, Handle::DroppedLate, Handle::Joined] {
                    cases.push(Case {
                        body,
                        cancel,
                        handle,
                        threads,
                    });
                }
            }
        }
    }
    assert_eq!(cases.len(), 48);
    let failures = within("the cross product", move || {
        let mut failures = Vec::new();
        for case in cases {
            // Repeated, so that each case also meets the races it allows.
            for _ in 0..support::size(5, 1) {
                let seen = run_case(case);
                if let Err(problem) = check(case, &seen) {
                    failures.push(problem);
                    break;
                }
            }
        }
        failures
    });
    assert!(
        failures.is_empty(),
        "{} of 48 combinations failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
