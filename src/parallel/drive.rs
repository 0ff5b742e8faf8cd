//! The splitting engine under every loop form: a warm-up on the calling
//! worker, then rayon-style adaptive splitting, then lazy binary splitting
//! while other workers are idle.
//!
//! A loop form describes its iterations as a [`Body`]: how to run a block of
//! indices into an accumulator, the accumulator's identity, and how two
//! accumulators of adjacent ranges combine (left first). [`drive`] then
//! decides where each block runs; it never runs an index twice and never
//! skips one unless the body says to stop.

use super::LoopOptions;
use crate::pool::{Registry, WorkerThread};
use crate::sync::{AtomicBool, AtomicUsize, Ordering};
use std::ops::Range;
use std::time::{Duration, Instant};

/// How long a loop runs on its calling worker alone before it may split.
/// Waking a sleeping worker costs several microseconds, so a loop shorter
/// than that is done before a helper could start: it costs a plain loop.
const WARM_UP: Duration = Duration::from_micros(4);

/// About how much work, in nanoseconds, runs between two looks at whether
/// another worker is idle (the look is one load of a shared word).
const CHECK_NANOS: u128 = 1_000;

/// The most iterations between two looks, however cheap they are.
const MAX_CHECK_EVERY: usize = 4096;

/// How many times its first interval a part may wait between two looks
/// once the halves it split off were not taken.
const MAX_BACK_OFF: usize = 64;

/// One loop form's iterations, as the engine sees them.
pub(super) trait Body: Sync {
    /// What a block of iterations yields (`()` for the plain loops).
    type Acc: Send;

    /// The accumulator of an empty range.
    fn identity(&self) -> Self::Acc;

    /// Runs the iterations of `range`, in order, folded into `acc`. The
    /// `bool` is `false` once the loop must start no more iterations (stop,
    /// break, cancellation, a panic elsewhere): the rest of this range, and
    /// every later block of this part, is then skipped.
    fn run(&self, acc: Self::Acc, range: Range<usize>) -> (Self::Acc, bool);

    /// Combines the results of two adjacent ranges, `left` before `right`.
    fn reduce(&self, left: Self::Acc, right: Self::Acc) -> Self::Acc;
}

/// Runs `body` over `range` on `registry`'s pool; the caller is one of its
/// workers, and takes part. Without a registry (a pool that shut down) it
/// runs the whole range here.
///
/// It first runs blocks of doubling length here, for [`WARM_UP`]; a loop
/// that ends by then never touched another thread. Otherwise what is left
/// goes to [`Splitter::part`], which splits in halves whenever another
/// worker is idle, checking about every [`CHECK_NANOS`] of work (the
/// warm-up measured how many iterations that is).
pub(super) fn drive<B: Body>(
    registry: Option<&Registry>,
    options: &LoopOptions,
    range: Range<usize>,
    body: &B,
) -> B::Acc {
    let Range { start, end } = range;
    let registry = match registry {
        Some(registry) if registry.threads() > 1 && options.max_degree > 1 && start < end => {
            registry
        }
        // Nobody could help: one block, no clock.
        _ => return body.run(body.identity(), start..end.max(start)).0,
    };
    let started = Instant::now();
    let mut acc = body.identity();
    let mut next = start;
    let mut batch = 1_usize;
    loop {
        let stop = next + batch.min(end - next);
        let (folded, go_on) = body.run(acc, next..stop);
        acc = folded;
        next = stop;
        if !go_on || next == end {
            return acc;
        }
        let elapsed = started.elapsed();
        if elapsed >= WARM_UP {
            let per_iteration = elapsed.as_nanos() / (next - start) as u128;
            let check_every =
                (CHECK_NANOS / per_iteration.max(1)).clamp(1, MAX_CHECK_EVERY as u128);
            let splitter = Splitter {
                registry,
                threads: registry.threads(),
                min_len: options.min_len.max(1),
                check_every: check_every as usize,
                max_helpers: match options.max_degree {
                    usize::MAX => usize::MAX,
                    threads => threads - 1,
                },
                helpers: AtomicUsize::new(0),
            };
            let rest = splitter.part(
                body,
                next..end,
                splitter.threads,
                splitter.check_every,
                true,
                None,
            );
            return body.reduce(acc, rest);
        }
        batch = batch.saturating_mul(2);
    }
}

/// What the parallel phase of one loop shares: fixed once the warm-up ends.
struct Splitter<'a> {
    registry: &'a Registry,
    /// The pool's threads: the split budget of a part that starts on a
    /// worker.
    threads: usize,
    /// Neither half of a split is shorter than this.
    min_len: usize,
    /// Iterations between two looks at the idle probe.
    check_every: usize,
    /// How many threads beside the calling one may run parts of this loop
    /// at once; `usize::MAX` for no limit.
    max_helpers: usize,
    /// Split-off halves that may be running on another thread now: each
    /// split reserves one, the half gives it back when it ends (at once,
    /// if it runs on the thread that split it).
    helpers: AtomicUsize,
}

impl Splitter<'_> {
    /// Runs `range`, splitting off its upper half while `splits` is not
    /// spent (each split halves it), and after that whenever another worker
    /// is idle, looking every `check_every` iterations (and at once if
    /// `look_now`).
    ///
    /// The budget is rayon's adaptive splitter: a loop starts with one
    /// split per thread, so that every worker finds a part to steal, also
    /// one whose owner the OS has preempted; a half that another worker
    /// took starts over with a full budget, and looks for idle workers at
    /// once, since the thief may be the first of several. The idle probe
    /// then balances the tail: a busy worker hands half of what it has left
    /// to whoever runs dry, however uneven the iterations.
    ///
    /// Each look follows at least one block of work on this thread, and
    /// waits until the half this part split off last was taken (an idle
    /// worker that is slow to wake finds that half, so there is no need
    /// for more); a half that nobody took (it runs here after the first)
    /// looks half as often, so an idle worker that never comes costs less
    /// and less.
    fn part<B: Body>(
        &self,
        body: &B,
        range: Range<usize>,
        mut splits: usize,
        check_every: usize,
        mut look_now: bool,
        sibling_started: Option<&AtomicBool>,
    ) -> B::Acc {
        let Range { mut start, end } = range;
        let mut acc = body.identity();
        loop {
            if end - start >= 2 * self.min_len
                && (splits > 0 || (look_now && self.idle_worker_wants_more(sibling_started)))
                && self.reserve_helper()
            {
                splits /= 2;
                let mid = start + (end - start) / 2;
                let home = current_worker();
                let right_started = AtomicBool::new(false);
                let (left, right) = crate::join(
                    || {
                        self.part(
                            body,
                            start..mid,
                            splits,
                            check_every,
                            false,
                            Some(&right_started),
                        )
                    },
                    || {
                        // ORDERING: Relaxed: a hint for the left half's
                        // next split, nothing is read through it.
                        right_started.store(true, Ordering::Relaxed);
                        let migrated = current_worker() != home;
                        if migrated {
                            let _slot = HelperSlot(self);
                            self.part(body, mid..end, self.threads, self.check_every, true, None)
                        } else {
                            // Run by the thread that split it: it adds no
                            // parallelism, so its slot goes back at once.
                            self.release_helper();
                            let slower = (check_every * 2).min(self.check_every * MAX_BACK_OFF);
                            self.part(body, mid..end, splits, slower, false, None)
                        }
                    },
                );
                return body.reduce(body.reduce(acc, left), right);
            }
            let stop = start + check_every.min(end - start);
            let (folded, go_on) = body.run(acc, start..stop);
            acc = folded;
            start = stop;
            look_now = true;
            if !go_on || start == end {
                return acc;
            }
        }
    }

    /// Should this part split for an idle worker? Only once the half it
    /// split off last (`sibling_started`) was taken: until then, that half
    /// is what an idle worker will find, and splitting again would only
    /// pile up halves while the worker wakes up.
    fn idle_worker_wants_more(&self, sibling_started: Option<&AtomicBool>) -> bool {
        // ORDERING: Relaxed, as where it is set.
        sibling_started.is_none_or(|started| started.load(Ordering::Relaxed))
            && self.registry.has_idle_workers()
    }

    /// Takes a helper slot, if the maximum degree of parallelism leaves one.
    fn reserve_helper(&self) -> bool {
        if self.max_helpers == usize::MAX {
            return true;
        }
        // ORDERING: Relaxed: the count only bounds how many parts run at
        // once; no data is published through it.
        self.helpers
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |helpers| {
                (helpers < self.max_helpers).then_some(helpers + 1)
            })
            .is_ok()
    }

    fn release_helper(&self) {
        if self.max_helpers != usize::MAX {
            // ORDERING: Relaxed, as in `reserve_helper`.
            self.helpers.fetch_sub(1, Ordering::Relaxed);
        }
    }
}

/// The helper slot of a half that another worker took: given back when
/// the half ends, panic or not.
struct HelperSlot<'a, 'b>(&'a Splitter<'b>);

impl Drop for HelperSlot<'_, '_> {
    fn drop(&mut self) {
        self.0.release_helper();
    }
}

/// Which worker this is (parts of one loop only ever run on one pool).
fn current_worker() -> Option<usize> {
    WorkerThread::with_current(|worker| worker.map(WorkerThread::index))
}
