//! loom models of the crate's protocols, run with
//! `RUSTFLAGS="--cfg loom" cargo test --lib --release`
//! (see `.ci/run` for the exact command and bounds).
//!
//! Each model drives the real code: under `cfg(loom)` every atomic, lock and
//! thread comes from loom (`crate::sync`) and the queues are the stand-ins
//! of `pool/queue.rs` (the injector a lock-based queue, each worker's deque
//! a Chase-Lev deque with crossbeam-deque's orderings and fences), so loom
//! explores every interleaving of the protocol up to the preemption bound.
//! loom models `fence(SeqCst)` but treats `SeqCst` loads, stores and
//! read-modify-writes as `AcqRel`: a Dekker pairing is checked where it
//! rests on fences, as the sleep protocol's does. A lost wake-up shows up as a
//! deadlock (every thread blocked), a double run or a lost result as a
//! failed assertion, a task never freed as a leaked `Arc` (every task holds
//! its pool's registry). Each model notes the bug planted to see it fail.
//!
//! | file | protocol |
//! |---|---|
//! | `sleep.rs` | sleep and wake-up of the workers |
//! | `task.rs` | the task state machine: join, complete, cancel, dropped handle |
//! | `waker.rs` | an async task's waker: before, during and after a poll, after completion |
//! | `token.rs` | `CancellationToken`: cancel against register and unregister |
//! | `promise.rs` | `Promise`: completing from outside against join, a dropped task, a second completer |
//! | `shutdown.rs` | shutdown against concurrent submissions and wake-ups |
//! | `flag.rs` | the future the waker and shutdown models wait on, and its waking thread |
//! | `scope.rs` | a scope's latch against its owner's park; a scoped task's join and dropped handle against completion |
//! | `blocking.rs` | the blocking threads: a job submitted while the thread goes idle; a blocking submission against shutdown |
//! | `bound.rs` | the `max_queued` bound: a submitter waiting for room against a worker taking a job, and against shutdown |
//! | `alloc.rs` | recycled task blocks: a block freed on another thread coming back through the depot; the depot's bound under two spilling threads |
//! | `slab.rs` | the slabs under the block caches: blocks given back on two threads while a third takes the slab's stack |

mod alloc;
mod blocking;
mod bound;
mod flag;
mod promise;
mod scope;
mod shutdown;
mod slab;
mod sleep;
mod task;
mod token;
mod waker;

use crate::sync::{AtomicBool, Ordering, Parker};

/// `loom::model(body)`, and a line on stderr saying how many interleavings
/// it explored: a model that explores a handful is checking little, one that
/// explores millions is too slow for CI (see the bounds in `.ci/run`).
pub(crate) fn model(body: impl Fn() + Sync + Send + 'static) {
    model_preempting(None, body);
}

/// [`model`] with at most `bound` preemptions, fewer than `.ci/run` gives
/// the others: for a model whose scenario is too long to explore with
/// more in CI's time.
pub(crate) fn model_preempting_at_most(bound: usize, body: impl Fn() + Sync + Send + 'static) {
    model_preempting(Some(bound), body);
}

fn model_preempting(at_most: Option<usize>, body: impl Fn() + Sync + Send + 'static) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let iterations = std::sync::Arc::new(AtomicUsize::new(0));
    let counter = iterations.clone();
    let started = std::time::Instant::now();
    let mut builder = loom::model::Builder::new();
    // loom's default (1,000 branches a path) is there to catch spin loops;
    // a two-worker shutdown over the Chase-Lev deque stand-in takes more
    // atomic steps than that without spinning. `LOOM_MAX_BRANCHES` still
    // overrides it.
    if std::env::var_os("LOOM_MAX_BRANCHES").is_none() {
        builder.max_branches = 5_000;
    }
    if let Some(bound) = at_most {
        builder.preemption_bound = Some(builder.preemption_bound.map_or(bound, |b| b.min(bound)));
    }
    builder.check(move || {
        counter.fetch_add(1, Ordering::Relaxed);
        body();
    });
    eprintln!(
        "{}: {} interleavings in {:.1?}",
        std::thread::current().name().unwrap_or("model"),
        iterations.load(Ordering::Relaxed),
        started.elapsed(),
    );
}

/// A one-shot signal a model's main thread waits on.
#[derive(Debug, Default)]
pub(crate) struct Signal {
    set: AtomicBool,
    parker: Parker,
}

impl Signal {
    pub(crate) fn set(&self) {
        self.set.store(true, Ordering::Release);
        self.parker.unpark();
    }

    pub(crate) fn is_set(&self) -> bool {
        self.set.load(Ordering::Acquire)
    }

    /// Only one thread may wait.
    pub(crate) fn wait(&self) {
        while !self.is_set() {
            self.parker.park();
        }
    }
}

/// A shared counter of events (runs, drops) that a model asserts on.
///
/// Deliberately `std`'s atomics, which loom does not see: loom runs one
/// thread at a time, so the count is exact, and a counter it does not model
/// adds no interleavings to explore (the protocol under test is the pool's,
/// not the counter's). Models read it only after a join, a shutdown or a
/// loom synchronisation that orders the events before the read.
#[derive(Debug, Clone, Default)]
pub(crate) struct Count(std::sync::Arc<std::sync::atomic::AtomicUsize>);

impl Count {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    pub(crate) fn add(&self) {
        self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }

    pub(crate) fn get(&self) -> usize {
        self.0.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// A value that adds one to this count when it is dropped: captured by a
    /// closure or a future, or returned as an output, it tells how many
    /// times that closure, future or output was dropped.
    pub(crate) fn tracker(&self) -> DropTracker {
        DropTracker(self.clone())
    }
}

/// Adds one to its [`Count`] when dropped.
#[derive(Debug)]
pub(crate) struct DropTracker(Count);

impl Drop for DropTracker {
    fn drop(&mut self) {
        self.0.add();
    }
}
