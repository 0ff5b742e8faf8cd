//! Dropping pools that are full of work: queued jobs, running jobs,
//! cancelled, panicked, detached and never-woken tasks, continuations and
//! token callbacks, round after round.
//!
//! Every value the work captured or produced counts its drops, and must be
//! dropped exactly once by the time the pool's drop returns; in debug builds
//! the pool must have freed every task (`debug_live_tasks`). `.ci/run` runs
//! this file under LeakSanitizer (nightly) or valgrind memcheck (stable),
//! which must report no definite leak at exit.
//!
//! Size: `TASKPOOL_STRESS_ROUNDS` (see [`rounds`]).

mod support;

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Barrier};
use std::task::{Context, Poll};
use support::{DropCounter, Tracked, panic_text, quiet_panics};
use taskpool::{CancellationToken, ThreadPool};

/// Rounds per test: `TASKPOOL_STRESS_ROUNDS`, by default 200 (2 under
/// Miri). The sanitizer runs of `.ci/run` ask for fewer.
fn rounds() -> usize {
    std::env::var("TASKPOOL_STRESS_ROUNDS")
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(if cfg!(miri) { 2 } else { 200 })
}

const PER_KIND: usize = if cfg!(miri) { 3 } else { 50 };

const PLANNED: &str = "planned panic";

fn quiet_planned_panics() {
    quiet_panics("starts with PLANNED", |info| {
        panic_text(info.payload()).is_some_and(|text| text.starts_with(PLANNED))
    });
}

/// Pending forever (nobody keeps its waker): only a cancel ends it.
struct Forever(#[allow(dead_code)] Tracked);

impl Future for Forever {
    type Output = Tracked;

    fn poll(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Tracked> {
        Poll::Pending
    }
}

/// One pool, filled with every kind of work, then dropped while some of it
/// runs, some is queued and some waits forever.
fn fill_and_drop(threads: usize, ledger: &DropCounter, round: usize) {
    let pool = ThreadPool::builder()
        .num_threads(threads)
        .panic_handler(drop)
        .build()
        .expect("the pool starts");
    // Every worker busy until the queues below are full: the work is queued,
    // not run, when the handles are cancelled or dropped.
    let start = Arc::new(Barrier::new(threads + 1));
    for _ in 0..threads {
        let (start, value) = (start.clone(), ledger.track());
        pool.execute(move || {
            let _value = value;
            start.wait();
        });
    }
    let token = CancellationToken::new();
    let mut kept = Vec::new();
    let mut registrations = Vec::new();
    for index in 0..PER_KIND {
        // Queued level-1 jobs, some panicking.
        let value = ledger.track();
        pool.execute(move || {
            let _value = value;
            if index % 3 == 0 {
                panic!("{PLANNED}: a job");
            }
        });
        // Tasks: detached, cancelled, kept, panicking.
        let (captured, output) = (ledger.track(), ledger.track());
        let task = pool.spawn(move || {
            let _captured = captured;
            if index % 4 == 0 {
                panic!("{PLANNED}: a task");
            }
            output
        });
        match index % 3 {
            0 => drop(task),
            1 => {
                let _ = task.cancel();
                drop(task);
            }
            _ => kept.push(task),
        }
        // Async tasks that wait forever (cancelled by the shutdown), and
        // ones that finish after yielding.
        drop(pool.spawn_async(Forever(ledger.track())));
        let (held, output) = (ledger.track(), ledger.track());
        kept.push(pool.spawn_async(async move {
            let _held = held;
            taskpool::yield_now().await;
            output
        }));
        // A continuation, and a cancellable task with a token callback.
        let output = ledger.track();
        drop(pool.spawn(move || output).then(drop));
        let (callback_value, output) = (ledger.track(), ledger.track());
        let registration = token.register(move || drop(callback_value));
        drop(pool.spawn_with_token(&token, move |own| {
            own.check()?;
            Ok(output)
        }));
        if index % 2 == 0 {
            drop(registration); // unregistered: the callback is dropped unrun
        } else {
            registrations.push(registration); // the token's cancel runs it
        }
    }
    token.cancel();
    drop(registrations);
    start.wait();
    if round % 2 == 0 {
        // Drop the pool while it runs the queue: it drains, cancels the
        // futures that wait forever, and joins its workers.
        drop(pool);
        drop(kept); // every kept task ended: its output is dropped here
    } else {
        // The same through `shutdown`, which keeps the pool value to ask
        // it whether it freed every task.
        pool.shutdown();
        drop(kept);
        if let Some(live) = pool.debug_live_tasks() {
            assert_eq!(live, 0, "round {round}: task allocations left");
        }
        drop(pool);
    }
    ledger.assert_all_dropped(&format!("round {round}"));
}

#[test]
fn pools_dropped_with_queued_running_cancelled_and_panicked_work_drop_everything_once() {
    quiet_planned_panics();
    let ledger = DropCounter::new();
    for round in 0..rounds() {
        fill_and_drop(1 + round % 4, &ledger, round);
    }
}

/// The same, checking the pool's own count of live task allocations (which
/// needs the pool value after its shutdown).
#[test]
fn a_pool_shut_down_with_every_kind_of_work_frees_every_task() {
    quiet_planned_panics();
    for round in 0..rounds() / 10 + 1 {
        let ledger = DropCounter::new();
        let pool = ThreadPool::builder()
            .num_threads(1 + round % 3)
            .panic_handler(drop)
            .build()
            .unwrap();
        for index in 0..PER_KIND {
            let value = ledger.track();
            drop(pool.spawn(move || {
                if index % 2 == 0 {
                    panic!("{PLANNED}: a task");
                }
                value
            }));
            drop(pool.spawn_async(Forever(ledger.track())));
            let kept = pool.spawn(|| 1);
            let _ = kept.cancel();
            drop(kept);
        }
        pool.shutdown();
        if let Some(live) = pool.debug_live_tasks() {
            assert_eq!(live, 0, "round {round}: task allocations left");
        }
        drop(pool);
        ledger.assert_all_dropped(&format!("round {round}"));
    }
}
