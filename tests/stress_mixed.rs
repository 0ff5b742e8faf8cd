//! Millions of pieces of work of every kind, with random panics, random
//! cancels, nested spawns and joins, and a shutdown in the middle; then exact
//! accounting.
//!
//! Every piece of work (a level-1 job, a closure task, an async task, a
//! cancellable task, a child spawned from inside a worker) owns a [`Guard`].
//! The guard is dropped exactly when the closure or future is dropped, and
//! records, in the slot of its id, how the work ended: completed, panicked,
//! cancelled, or refused (a `try_execute` after the shutdown began, handed
//! back unrun). Every output is an [`Output`] that counts its own drops. At
//! the end of each round:
//!
//! * every id was recorded exactly once (a closure or future dropped twice
//!   records twice, one never dropped records nothing);
//! * submitted = completed + panicked + cancelled, exactly, with refused
//!   submissions counted apart;
//! * every completed task's output was dropped exactly once, by the test
//!   (joined) or by the pool (detached), and no other output exists;
//! * what `join` returned agrees with what the guard recorded;
//! * the panic handler saw exactly the panics nobody joined;
//! * the pool freed every task (`debug_live_tasks`).
//!
//! Sizes: `TASKPOOL_STRESS_ITEMS` (default: several million in release
//! builds, fewer in debug builds so that `cargo test` stays quick, a few
//! hundred under Miri), `TASKPOOL_STRESS_SEED` (default: from the clock;
//! printed, so a failure can be replayed).

mod support;

use std::cell::Cell;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use support::Rng;
use taskpool::{CancellationToken, Task, TaskError, ThreadPool};

/// Pieces of work per test, across all rounds.
fn items() -> usize {
    if let Some(items) = std::env::var("TASKPOOL_STRESS_ITEMS")
        .ok()
        .and_then(|value| value.parse().ok())
    {
        return items;
    }
    if cfg!(miri) {
        300
    } else if cfg!(debug_assertions) {
        300_000
    } else {
        3_000_000
    }
}

fn seed() -> u64 {
    std::env::var("TASKPOOL_STRESS_SEED")
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or_else(|| {
            if cfg!(miri) {
                // Miri has no clock to seed from without isolation off.
                0x5eed
            } else {
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(1, |since| since.as_nanos() as u64)
                    | 1
            }
        })
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
enum Ended {
    Completed = 1,
    Panicked = 2,
    Cancelled = 3,
    Refused = 4,
}

impl Ended {
    fn from_u8(value: u8) -> Option<Ended> {
        match value {
            1 => Some(Ended::Completed),
            2 => Some(Ended::Panicked),
            3 => Some(Ended::Cancelled),
            4 => Some(Ended::Refused),
            _ => None,
        }
    }
}

/// Per-id records of one round.
struct Ledger {
    /// How many times the id's guard was dropped (saturating).
    records: Vec<AtomicU8>,
    /// How the id ended, as its guard recorded it.
    ended: Vec<AtomicU8>,
    /// How many times the id's output was dropped (saturating).
    output_drops: Vec<AtomicU8>,
    /// Whether somebody joined or awaited the id's task (its panic, if
    /// any, was observed and must not reach the panic handler).
    observed: Vec<AtomicBool>,
    /// Whether the id is a task (it has an output slot) or a level-1 job.
    is_task: Vec<AtomicBool>,
    next_id: AtomicUsize,
    /// Panics the pool's handler received.
    handled_panics: AtomicU64,
    /// A token that is never cancelled: async work waiting on it can only
    /// end by being cancelled (at shutdown, or by `Task::cancel`).
    never: CancellationToken,
}

fn saturating_increment(counter: &AtomicU8) {
    let _ = counter.fetch_update(Ordering::AcqRel, Ordering::Acquire, |count| {
        Some(count.saturating_add(1))
    });
}

impl Ledger {
    fn new(capacity: usize) -> Arc<Ledger> {
        let bytes = |_| AtomicU8::new(0);
        Arc::new(Ledger {
            records: (0..capacity).map(bytes).collect(),
            ended: (0..capacity).map(bytes).collect(),
            output_drops: (0..capacity).map(bytes).collect(),
            observed: (0..capacity).map(|_| AtomicBool::new(false)).collect(),
            is_task: (0..capacity).map(|_| AtomicBool::new(false)).collect(),
            next_id: AtomicUsize::new(0),
            handled_panics: AtomicU64::new(0),
            never: CancellationToken::new(),
        })
    }

    /// A new id and its guard; `None` once the id space is used up (then
    /// the caller simply does not create the work).
    fn guard(self: &Arc<Self>, task: bool) -> Option<Guard> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        if id >= self.records.len() {
            return None;
        }
        self.is_task[id].store(task, Ordering::Relaxed);
        Some(Guard {
            ledger: self.clone(),
            id,
            ended: Cell::new(Ended::Cancelled),
        })
    }

    fn ended(&self, id: usize) -> Option<Ended> {
        Ended::from_u8(self.ended[id].load(Ordering::Acquire))
    }
}

/// Owned by a closure or a future; records how it ended when dropped.
struct Guard {
    ledger: Arc<Ledger>,
    id: usize,
    /// Dropped without being told otherwise, the work was cancelled (never
    /// ran, or a future dropped before it finished).
    ended: Cell<Ended>,
}

impl Guard {
    fn complete(&self) {
        self.ended.set(Ended::Completed);
    }

    /// Marks the work panicked, then panics.
    fn panic(&self) -> ! {
        self.ended.set(Ended::Panicked);
        std::panic::panic_any(StressPanic(self.id));
    }

    fn output(&self) -> Output {
        Output {
            ledger: self.ledger.clone(),
            id: self.id,
        }
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        let ended = self.ended.get();
        self.ledger.ended[self.id].store(ended as u8, Ordering::Release);
        saturating_increment(&self.ledger.records[self.id]);
    }
}

/// The payload of every planned panic (not a string, so the default hook
/// prints little; see `quiet_panics`).
#[derive(Debug)]
struct StressPanic(#[allow(dead_code)] usize);

/// A task's output: counts its own drops.
struct Output {
    ledger: Arc<Ledger>,
    id: usize,
}

impl Drop for Output {
    fn drop(&mut self) {
        saturating_increment(&self.ledger.output_drops[self.id]);
    }
}

/// Planned panics would print a line each; keep the hook for the others.
fn quiet_panics() {
    support::quiet_panics("StressPanic payloads", |info| {
        info.payload().downcast_ref::<StressPanic>().is_some()
    });
}

/// Checks a join result against the guard's record, and drops the output.
fn settle(ledger: &Ledger, id: usize, result: Result<Output, TaskError>) {
    ledger.observed[id].store(true, Ordering::Release);
    let recorded = ledger.ended(id);
    match result {
        Ok(output) => {
            assert_eq!(output.id, id);
            assert_eq!(recorded, Some(Ended::Completed), "id {id}: joined a value");
        }
        Err(error) if error.is_panic() => {
            assert!(error.into_panic().downcast_ref::<StressPanic>().is_some());
            assert_eq!(recorded, Some(Ended::Panicked), "id {id}: joined a panic");
        }
        Err(error) => {
            assert!(error.is_cancelled());
            assert_eq!(recorded, Some(Ended::Cancelled), "id {id}: joined a cancel");
        }
    }
}

/// The body of a closure task or level-1 job: maybe panics, maybe spawns
/// and joins children (on the worker it runs on), then completes.
fn closure_body(guard: &Guard, mut rng: Rng, depth: u32) {
    if depth < 2 && rng.chance(8) {
        let children: Vec<(usize, Task<Output>)> = (0..1 + rng.below(3))
            .filter_map(|_| {
                let child_rng = Rng::stream(rng.next_u64(), guard.id);
                let child = guard.ledger.guard(true)?;
                let id = child.id;
                // On a worker, `taskpool::spawn` queues on this worker's pool.
                let task = taskpool::spawn(move || {
                    closure_body(&child, child_rng, depth + 1);
                    child.output()
                });
                Some((id, task))
            })
            .collect();
        for (id, task) in children {
            if rng.chance(15) {
                let _ = task.cancel();
            }
            if rng.chance(20) {
                // Detached: it runs; a panic in it goes to the handler.
                drop(task);
            } else {
                settle(&guard.ledger, id, task.join());
            }
        }
    }
    if rng.chance(5) {
        guard.panic();
    }
    guard.complete();
}

/// The body of an async task: yields, maybe awaits children, maybe panics;
/// if `waits_forever`, it then waits on a token nobody cancels, so it can
/// only end cancelled (by `Task::cancel`, or by the shutdown).
async fn async_body(guard: Guard, mut rng: Rng, waits_forever: bool) -> Output {
    for _ in 0..rng.below(3) {
        taskpool::yield_now().await;
    }
    if rng.chance(10) {
        let child_rng = Rng::stream(rng.next_u64(), guard.id);
        if let Some(child) = guard.ledger.guard(true) {
            let id = child.id;
            let task = taskpool::spawn(move || {
                closure_body(&child, child_rng, 1);
                child.output()
            });
            let result = task.await;
            settle(&guard.ledger, id, result);
        }
    }
    if waits_forever {
        let never = guard.ledger.never.clone();
        never.cancelled().await;
        unreachable!("nobody cancels this token");
    }
    if rng.chance(5) {
        guard.panic();
    }
    guard.complete();
    guard.output()
}

/// One round: a pool, `count` pieces of work submitted from this thread,
/// a shutdown from another thread in the middle, then the accounting.
fn round(threads: usize, count: usize, seed: u64) {
    // Children take ids too: room for every one that may be made.
    let ledger = Ledger::new(count * 4 + 16);
    let handler_ledger = ledger.clone();
    let pool = Arc::new(
        ThreadPool::builder()
            .num_threads(threads)
            .panic_handler(move |payload| {
                assert!(payload.downcast_ref::<StressPanic>().is_some());
                handler_ledger
                    .handled_panics
                    .fetch_add(1, Ordering::Relaxed);
            })
            .build()
            .expect("the pool starts"),
    );
    // Handles kept for a join after a while (some of them after shutdown),
    // with whether the task waits forever (to be cancelled before a join
    // that happens before the shutdown).
    let mut held: Vec<(usize, Task<Output>, bool)> = Vec::new();
    // Late enough that most work is real, early enough that plenty is still
    // queued or running, and some submitted after it.
    let shutdown_at = count * 7 / 10 + (seed as usize % (count / 4 + 1));
    let mut shutdown_thread = None;

    for index in 0..count {
        if index == shutdown_at {
            let pool = pool.clone();
            shutdown_thread = Some(std::thread::spawn(move || pool.shutdown()));
        }
        let mut rng = Rng::stream(seed, index);
        let kind = rng.below(100);
        let task_kind = kind >= 30;
        let Some(guard) = ledger.guard(task_kind) else {
            break;
        };
        let id = guard.id;
        let body_rng = Rng::stream(rng.next_u64(), id);
        let waits_forever = kind >= 75 && rng.chance(3);
        let task = match kind {
            // Level 1.
            0..30 => {
                let job = move || closure_body(&guard, body_rng, 0);
                if let Err(refused) = pool.try_execute(job) {
                    // Handed back unrun. Dropping it records the guard (as
                    // cancelled); then say it was refused, which is what
                    // the accounting keeps apart from submitted work.
                    drop(refused.into_inner());
                    ledger.ended[id].store(Ended::Refused as u8, Ordering::Release);
                }
                None
            }
            // A closure task.
            30..65 => Some(pool.spawn(move || {
                closure_body(&guard, body_rng, 0);
                guard.output()
            })),
            // A cancellable closure task that checks its token.
            65..75 => Some(pool.spawn_with_token(&ledger.never, move |own| {
                let mut rng = body_rng;
                for _ in 0..rng.below(4) {
                    own.check()?;
                    std::hint::spin_loop();
                }
                closure_body(&guard, rng, 1);
                Ok(guard.output())
            })),
            // An async task.
            _ => Some(pool.spawn_async(async_body(guard, body_rng, waits_forever))),
        };
        let Some(task) = task else { continue };
        if rng.chance(10) {
            let _ = task.cancel();
        }
        match rng.below(10) {
            // Detached: the pool drops the output, or reports the panic.
            0..3 => drop(task),
            // Joined right away.
            3..4 => {
                if waits_forever {
                    let _ = task.cancel();
                }
                settle(&ledger, id, task.join());
            }
            // Joined later, in a batch.
            _ => held.push((id, task, waits_forever)),
        }
        if held.len() >= 256 {
            for (id, task, waits_forever) in held.drain(..) {
                if waits_forever {
                    let _ = task.cancel();
                }
                settle(&ledger, id, task.join());
            }
        }
    }
    match shutdown_thread {
        Some(thread) => thread.join().expect("shutdown returns"),
        None => pool.shutdown(),
    }
    // Shutdown cancelled the async tasks that still waited; every other
    // task ran. Joining now never blocks.
    for (id, task, _) in held.drain(..) {
        assert!(task.is_finished(), "id {id}: unfinished after shutdown");
        settle(&ledger, id, task.join());
    }
    let pool = Arc::into_inner(pool).expect("only this thread holds the pool now");
    let live_tasks = pool.debug_live_tasks();
    let metrics = pool.metrics();
    drop(pool);

    account(&ledger, metrics.panicked, live_tasks);
}

fn account(ledger: &Ledger, pool_panicked: u64, live_tasks: Option<usize>) {
    let made = ledger
        .next_id
        .load(Ordering::Relaxed)
        .min(ledger.records.len());
    let mut totals = [0_usize; 5];
    let mut unobserved_panics = 0_u64;
    for id in 0..made {
        let records = ledger.records[id].load(Ordering::Acquire);
        assert_eq!(
            records, 1,
            "id {id}: its closure or future was dropped {records} times"
        );
        let ended = ledger.ended(id).expect("recorded");
        totals[ended as usize] += 1;
        let task = ledger.is_task[id].load(Ordering::Relaxed);
        let outputs = ledger.output_drops[id].load(Ordering::Acquire);
        let expected_outputs = u8::from(task && ended == Ended::Completed);
        assert_eq!(
            outputs, expected_outputs,
            "id {id} ({ended:?}): output dropped {outputs} times"
        );
        if ended == Ended::Panicked && !ledger.observed[id].load(Ordering::Acquire) {
            unobserved_panics += 1;
        }
    }
    let [_, completed, panicked, cancelled, refused] = totals;
    let submitted = made - refused;
    eprintln!(
        "{made} made: {submitted} submitted = {completed} completed + {panicked} panicked + \
         {cancelled} cancelled; {refused} refused at shutdown"
    );
    assert_eq!(submitted, completed + panicked + cancelled);
    let handled = ledger.handled_panics.load(Ordering::Relaxed);
    assert_eq!(
        handled, unobserved_panics,
        "the handler saw exactly the unjoined panics"
    );
    assert_eq!(
        pool_panicked, handled,
        "the metrics count what the handler saw"
    );
    if let Some(live) = live_tasks {
        assert_eq!(live, 0, "task allocations left after the pool stopped");
    }
}

#[test]
fn several_million_mixed_items_each_end_exactly_once_across_mid_flight_shutdowns() {
    quiet_panics();
    let total = items();
    let seed = seed();
    let rounds = if cfg!(miri) { 2 } else { 8 };
    eprintln!("TASKPOOL_STRESS_ITEMS={total} TASKPOOL_STRESS_SEED={seed} ({rounds} rounds)");
    let started = Instant::now();
    for round_index in 0..rounds {
        // 1, 2, 3 or 4 workers: one-thread pools exercise inline joins,
        // larger ones stealing.
        let threads = 1 + round_index % 4;
        round(
            threads,
            total / rounds,
            seed.wrapping_add(round_index as u64),
        );
    }
    eprintln!("{total} items in {:?}", started.elapsed());
    // A generous bound that only a hang or a pathological slowdown crosses
    // (nextest's slow-timeout is the real guard).
    assert!(started.elapsed() < Duration::from_secs(if cfg!(miri) { 100_000 } else { 3_600 }));
}
