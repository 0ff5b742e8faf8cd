//! What an iteration knows of its loop and how the loop ends: the early-exit
//! state every part of a loop shares ([`Exit`], see "Early exit" in the
//! parent module), its view from one iteration ([`LoopState`]), the
//! outcome ([`LoopResult`]), and the body of the plain loops.

use super::drive::Body;
use crate::cancel::CancellationToken;
use crate::error::Cancelled;
use crate::sync::{AtomicBool, AtomicUsize, Ordering};
use std::fmt;
use std::ops::Range;

/// How a blocking loop ended, when no cancellation ended it: .NET's
/// `ParallelLoopResult`.
///
/// # Examples
///
/// ```
/// let result = taskpool::Parallel::new().for_range(0..100, |_, _| {}).unwrap();
/// assert_eq!(result, taskpool::LoopResult { completed: true, lowest_break: None });
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct LoopResult {
    /// Every iteration ran: nobody called [`LoopState::stop`] or
    /// [`LoopState::break_`].
    pub completed: bool,
    /// The lowest index at which an iteration called [`LoopState::break_`];
    /// every iteration below it ran.
    pub lowest_break: Option<usize>,
}

/// What an iteration knows of its loop, and how it ends the loop early:
/// .NET's `ParallelLoopState`.
///
/// # Examples
///
/// ```
/// use std::sync::atomic::{AtomicBool, Ordering};
///
/// // Find whether any item is negative, and stop looking once one is.
/// let items = [3, 1, -4, 1, 5, -9, 2, 6];
/// let found = AtomicBool::new(false);
/// let result = taskpool::Parallel::new()
///     .for_each(&items, |item, state| {
///         if *item < 0 {
///             found.store(true, Ordering::Relaxed);
///             state.stop();
///         }
///     })
///     .unwrap();
/// assert!(found.load(Ordering::Relaxed));
/// assert!(!result.completed);
/// ```
pub struct LoopState<'a> {
    exit: &'a Exit<'a>,
    index: usize,
}

impl fmt::Debug for LoopState<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoopState")
            .field("index", &self.index)
            .field("stopped", &self.is_stopped())
            .field("lowest_break", &self.lowest_break())
            .finish()
    }
}

impl LoopState<'_> {
    /// The index of this iteration: the loop's counter for
    /// [`for_range`](super::Parallel::for_range), the item's or chunk's position
    /// for the other forms.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut doubled = vec![0; 10];
    /// taskpool::Parallel::new()
    ///     .for_each_mut(&mut doubled, |slot, state| *slot = 2 * state.index())
    ///     .unwrap();
    /// assert_eq!(doubled, [0, 2, 4, 6, 8, 10, 12, 14, 16, 18]);
    /// ```
    pub fn index(&self) -> usize {
        self.index
    }

    /// Asks the loop to start no new iteration, at any index. Iterations
    /// already running finish; the loop's result says it did not complete.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::atomic::{AtomicUsize, Ordering};
    ///
    /// let ran = AtomicUsize::new(0);
    /// let result = taskpool::Parallel::new()
    ///     .max_degree_of_parallelism(1)
    ///     .for_range(0..1000, |i, state| {
    ///         ran.fetch_add(1, Ordering::Relaxed);
    ///         if i == 10 {
    ///             state.stop();
    ///         }
    ///     })
    ///     .unwrap();
    /// assert!(!result.completed);
    /// assert_eq!(ran.load(Ordering::Relaxed), 11); // one thread: in order
    /// ```
    pub fn stop(&self) {
        self.exit.stop();
    }

    /// Asks the loop to start no iteration above this one (.NET's `Break`;
    /// `break` is a keyword). Iterations below it still run, also those not
    /// started yet; the loop's result reports the lowest index at which any
    /// iteration broke.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::atomic::{AtomicBool, Ordering};
    ///
    /// let ran: Vec<AtomicBool> = (0..10_000).map(|_| AtomicBool::new(false)).collect();
    /// let result = taskpool::Parallel::new()
    ///     .for_range(0..10_000, |i, state| {
    ///         ran[i].store(true, Ordering::Relaxed);
    ///         if i == 5000 {
    ///             state.break_();
    ///         }
    ///     })
    ///     .unwrap();
    /// let lowest = result.lowest_break.unwrap();
    /// assert!(lowest <= 5000);
    /// assert!(ran[..lowest].iter().all(|ran| ran.load(Ordering::Relaxed)));
    /// ```
    #[doc(alias = "break")]
    pub fn break_(&self) {
        self.exit.break_at(self.index);
    }

    /// Whether an iteration called [`stop`](Self::stop) (or one panicked).
    ///
    /// # Examples
    ///
    /// ```
    /// taskpool::Parallel::new()
    ///     .max_degree_of_parallelism(1)
    ///     .for_range(0..1, |_, state| {
    ///         assert!(!state.is_stopped());
    ///         state.stop();
    ///         assert!(state.is_stopped());
    ///     })
    ///     .unwrap();
    /// ```
    pub fn is_stopped(&self) -> bool {
        // ORDERING: Relaxed: a hint for long iterations; nothing is read
        // through it.
        self.exit.stopped.load(Ordering::Relaxed)
    }

    /// The lowest index at which an iteration called
    /// [`break_`](Self::break_) so far (.NET's `LowestBreakIteration`).
    ///
    /// # Examples
    ///
    /// ```
    /// taskpool::Parallel::new()
    ///     .max_degree_of_parallelism(1)
    ///     .for_range(0..5, |i, state| {
    ///         if i == 3 {
    ///             state.break_();
    ///             assert_eq!(state.lowest_break(), Some(3));
    ///         }
    ///     })
    ///     .unwrap();
    /// ```
    pub fn lowest_break(&self) -> Option<usize> {
        self.exit.lowest_break()
    }

    /// Whether this iteration may as well return now: the loop was
    /// stopped or cancelled, or broke below this index (.NET's
    /// `ShouldExitCurrentIteration`). For iterations that run long.
    ///
    /// # Examples
    ///
    /// ```
    /// taskpool::Parallel::new()
    ///     .max_degree_of_parallelism(1)
    ///     .for_range(0..10, |i, state| {
    ///         if i == 2 {
    ///             state.break_();
    ///         }
    ///         assert_eq!(state.should_exit_current_iteration(), i > 2);
    ///     })
    ///     .unwrap();
    /// ```
    pub fn should_exit_current_iteration(&self) -> bool {
        !self.exit.may_start(self.index)
    }
}

/// The loop's shared early-exit state (see the module doc).
pub(super) struct Exit<'a> {
    /// Iterations whose index is at or above this do not start.
    pub(super) limit: AtomicUsize,
    stopped: AtomicBool,
    /// `usize::MAX` while nobody broke (no iteration has that index: ranges
    /// end below it).
    lowest_break: AtomicUsize,
    /// An iteration did not start because the token was cancelled.
    cancelled: AtomicBool,
    pub(super) token: Option<&'a CancellationToken>,
}

impl<'a> Exit<'a> {
    pub(super) fn new(token: Option<&'a CancellationToken>) -> Self {
        Exit {
            limit: AtomicUsize::new(usize::MAX),
            stopped: AtomicBool::new(false),
            lowest_break: AtomicUsize::new(usize::MAX),
            cancelled: AtomicBool::new(false),
            token,
        }
    }

    // ORDERING (for every access to these fields): Relaxed. They only
    // decide which iterations start; what the iterations wrote reaches the
    // caller through the joins that end the loop, which synchronize.

    /// May iteration `index` start? Every iteration asks, right before it
    /// starts.
    #[inline]
    fn may_start(&self, index: usize) -> bool {
        self.may_start_with(self.token, index)
    }

    /// [`may_start`](Self::may_start) with the token read once, outside a
    /// block's loop.
    #[inline(always)]
    pub(super) fn may_start_with(&self, token: Option<&CancellationToken>, index: usize) -> bool {
        if index >= self.limit.load(Ordering::Relaxed) {
            return false;
        }
        match token {
            Some(token) if token.is_cancelled() => {
                self.cancelled.store(true, Ordering::Relaxed);
                self.limit.store(0, Ordering::Relaxed);
                false
            }
            _ => true,
        }
    }

    fn stop(&self) {
        self.stopped.store(true, Ordering::Relaxed);
        self.limit.store(0, Ordering::Relaxed);
    }

    fn break_at(&self, index: usize) {
        self.lowest_break.fetch_min(index, Ordering::Relaxed);
        self.limit.fetch_min(index + 1, Ordering::Relaxed);
    }

    fn lowest_break(&self) -> Option<usize> {
        let lowest = self.lowest_break.load(Ordering::Relaxed);
        (lowest != usize::MAX).then_some(lowest)
    }

    /// The loop's outcome, once every part of it ended.
    pub(super) fn result(&self) -> Result<LoopResult, Cancelled> {
        if self.cancelled.load(Ordering::Relaxed) {
            return Err(Cancelled);
        }
        let lowest_break = self.lowest_break();
        Ok(LoopResult {
            completed: !self.stopped.load(Ordering::Relaxed) && lowest_break.is_none(),
            lowest_break,
        })
    }
}

/// While a block of iterations runs: if one panics, no new iteration
/// starts anywhere in the loop. Forgotten when the block ends normally.
pub(super) struct StopOnPanic<'a>(pub(super) &'a AtomicUsize);

impl Drop for StopOnPanic<'_> {
    fn drop(&mut self) {
        // ORDERING: Relaxed, like every access to the exit state.
        self.0.store(0, Ordering::Relaxed);
    }
}

/// The plain loops: one call of `f` per index, with its loop state.
pub(super) struct EachIndex<'a, F> {
    pub(super) exit: &'a Exit<'a>,
    pub(super) f: F,
}

impl<F> Body for EachIndex<'_, F>
where
    F: Fn(usize, &LoopState<'_>) + Sync,
{
    type Acc = ();

    fn identity(&self) {}

    #[inline]
    fn run(&self, (): (), range: Range<usize>) -> ((), bool) {
        let guard = StopOnPanic(&self.exit.limit);
        let token = self.exit.token;
        for index in range {
            if !self.exit.may_start_with(token, index) {
                std::mem::forget(guard);
                return ((), false);
            }
            (self.f)(
                index,
                &LoopState {
                    exit: self.exit,
                    index,
                },
            );
        }
        std::mem::forget(guard);
        ((), true)
    }

    fn reduce(&self, (): (), (): ()) {}
}
