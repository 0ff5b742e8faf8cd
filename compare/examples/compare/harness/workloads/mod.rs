//! The workloads, each written once against [`Contender`].
//!
//! A workload returns what it measured, or [`Unmeasured`] when the
//! contender lacks what it needs (or starved part of the work); when it ran
//! a stand-in instead of the contender's native way, it says so with a
//! [`Via`].

pub mod blocking;
pub mod combinators;
pub mod fan_out;
pub mod fork_join;
pub mod heap;
pub mod idle_cpu;
pub mod latency;
pub mod loops;
pub mod scope;
pub mod spawn_join;
pub mod submit;
pub mod tokio_shapes;
pub mod wakeup;

use super::contender::Contender;
use std::sync::mpsc;
use std::time::Duration;

/// Why a workload has no number for a contender.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unmeasured {
    /// The contender lacks what the workload needs; the table shows "n/a".
    NotApplicable(&'static str),
    /// The contender never ran some of the work while other work kept it
    /// busy; the table shows "starved".
    Starved(&'static str),
}

impl Unmeasured {
    /// What the table shows instead of a number.
    pub fn label(self) -> &'static str {
        match self {
            Unmeasured::NotApplicable(_) => "n/a",
            Unmeasured::Starved(_) => "starved",
        }
    }

    /// Why, in a few words.
    pub fn reason(self) -> &'static str {
        match self {
            Unmeasured::NotApplicable(reason) | Unmeasured::Starved(reason) => reason,
        }
    }
}

/// How a workload ran: the contender's own way, or a stand-in for a
/// capability it lacks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Via {
    /// The contender's own way of doing what the workload describes.
    Native,
    /// No result handle: `execute` plus one shared channel for the results.
    Channel,
    /// No fork-join of closures: spawn the left half, await it after the
    /// right half.
    SpawnAwait,
    /// No `yield_now`: the job queues its own continuation and returns.
    Requeue,
    /// No `Task` to fork with: `join(a, b)` instead, the bar a task per
    /// fork is held to.
    Join,
}

impl Via {
    /// The marker the table prints after a value, and its legend.
    pub fn marker(self) -> Option<(&'static str, &'static str)> {
        match self {
            Via::Native => None,
            Via::Channel => Some(("c", "no result handle: execute + a channel")),
            Via::SpawnAwait => Some(("a", "no join(a, b): spawn + await")),
            Via::Requeue => Some(("r", "no yield: the job re-queues itself")),
            Via::Join => Some(("j", "no Task per fork: join(a, b)")),
        }
    }
}

/// A timed run and how it ran.
#[derive(Debug, Clone, Copy)]
pub struct Timed {
    /// Wall-clock time of the whole run.
    pub elapsed: Duration,
    /// Native, or the stand-in it used.
    pub via: Via,
}

impl Timed {
    /// A run done the contender's own way.
    pub fn native(elapsed: Duration) -> Self {
        Self {
            elapsed,
            via: Via::Native,
        }
    }
}

/// Runs `f` on one of `pool`'s workers and waits for its result: how a
/// workload starts work that must begin inside the pool.
///
/// # Panics
///
/// If `f` panicked (the pool then dropped the channel's sender).
pub fn run_on<C, R>(pool: &C, f: impl FnOnce() -> R + Send + 'static) -> R
where
    C: Contender,
    R: Send + 'static,
{
    let (sender, receiver) = mpsc::sync_channel(1);
    pool.execute(move || {
        // The receiver waits below; a send cannot fail.
        let _ = sender.send(f());
    });
    match receiver.recv() {
        Ok(result) => result,
        Err(_) => panic!("{}: a benchmark job panicked or was dropped", C::NAME),
    }
}

/// Runs a little work on a fresh pool, so that its threads are up and have
/// touched their queues before anything is measured.
pub fn warm_up<C: Contender>(pool: &C) {
    submit::from_one_thread(pool, 1_000);
}
