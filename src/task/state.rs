//! The task state machine: one atomic word per task.
//!
//! The word holds flags, the outcome, and the reference count. Every change
//! is one atomic read-modify-write, made through a named transition below
//! that returns what the caller must do next. Whoever a transition hands the
//! *stage* (the closure or future, later the output) to is its only user
//! until it hands it on.
//!
//! # Flags
//!
//! | flag | set while |
//! |---|---|
//! | [`RUNNING`] | a thread owns the stage: running the closure, polling the future, or dropping it on cancel |
//! | [`COMPLETE`] | the outcome is decided and stored; never cleared |
//! | [`SCHEDULED`] | a queue entry for the task exists (it holds a reference) or, while `RUNNING`, a wake-up asks for another poll |
//! | [`CANCELLED`] | cancellation was requested |
//! | [`STARTED`] | the closure began running or the future was polled once |
//! | [`JOIN_INTEREST`] | a [`Task`](crate::Task) handle exists and will read (or drop) the output |
//! | [`JOIN_WAKER`] | the waiter slot holds a waker for the handle (see below) |
//! | [`CONSUMED`] | the output was moved out or dropped: the stage is empty |
//!
//! The outcome ([`Outcome`]) is written together with `COMPLETE`.
//!
//! # Transitions
//!
//! | transition | from | to | the caller then |
//! |---|---|---|---|
//! | [`State::transition_to_running`] | a queue entry runs | `RUNNING`, `STARTED`, not `SCHEDULED` | runs or polls; or, if the task was claimed or finished meanwhile, drops the entry's reference |
//! | [`State::claim_unstarted`] | `SCHEDULED`, not started, not `RUNNING`/`COMPLETE` | `RUNNING`, `STARTED` | a joiner runs the closure inline; the queue entry will find it taken |
//! | [`State::transition_to_complete`] | `RUNNING` | `COMPLETE` + outcome | drops the output if no handle remains, or wakes the handle's waker |
//! | [`State::transition_to_idle`] | `RUNNING` after `Poll::Pending` | idle, or `SCHEDULED` again, or stays `RUNNING` if cancelled | drops its reference; re-queues; or cancels |
//! | [`State::transition_to_notified`] | a wake-up | `SCHEDULED` (+1 reference) if idle; `SCHEDULED` only if running | queues the task, or nothing |
//! | [`State::transition_to_cancelled`] | a `cancel` | `RUNNING` + `CANCELLED` if idle; `CANCELLED` if running | drops the stage and completes; or lets the runner see the flag |
//! | [`State::cancel_if_idle`] | shutdown, idle and not `SCHEDULED` | `RUNNING` + `CANCELLED` | drops the future and completes |
//! | [`State::set_join_waker`] / [`State::unset_join_waker`] | handle side, not `COMPLETE` | `JOIN_WAKER` set / unset | the handle waits / may replace its waker |
//! | [`State::drop_join_interest`] | the handle is dropped | not `JOIN_INTEREST` | drops the output if complete, and its waker if it owns the slot |
//!
//! # Who may touch the waiter slot
//!
//! While `JOIN_WAKER` is unset, only the handle. While it is set and the task
//! is not complete, nobody (the handle first unsets it). Once `COMPLETE` is
//! set with `JOIN_WAKER`, only the completing thread, which wakes the waker
//! and then unsets `JOIN_WAKER` ([`State::unset_waker_after_complete`]),
//! dropping the waker itself if the handle is gone by then.
//!
//! # References
//!
//! The count, in the high bits, counts: the handle, each queue entry, each
//! `Waker` of an async task, the pool's list of live async tasks, and a
//! running thread's borrow where it needs one. The allocation is freed when
//! it reaches zero.

use crate::sync::{AtomicUsize, Ordering};
use crate::unwind::{self, AbortIfPanic};

/// A thread owns the stage (closure, future, or output being written).
pub(crate) const RUNNING: usize = 1 << 0;
/// The outcome is decided and stored; never cleared.
pub(crate) const COMPLETE: usize = 1 << 1;
/// A queue entry exists, or a wake-up arrived during a poll.
pub(crate) const SCHEDULED: usize = 1 << 2;
/// Cancellation was requested.
pub(crate) const CANCELLED: usize = 1 << 3;
/// The closure began running, or the future was polled once.
pub(crate) const STARTED: usize = 1 << 4;
/// A `Task` handle exists.
pub(crate) const JOIN_INTEREST: usize = 1 << 5;
/// The waiter slot holds the handle's waker.
pub(crate) const JOIN_WAKER: usize = 1 << 6;
/// The output was moved out or dropped.
pub(crate) const CONSUMED: usize = 1 << 7;

const OUTCOME_SHIFT: u32 = 8;
const OUTCOME_MASK: usize = 0b11 << OUTCOME_SHIFT;

/// One reference, in the count held by the high bits.
pub(crate) const REF_ONE: usize = 1 << 10;
const REF_MASK: usize = !(REF_ONE - 1);

const _: () = assert!(OUTCOME_MASK & (CONSUMED | REF_MASK) == 0);

/// How a task ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// The closure returned, or the future resolved: the stage holds the value.
    Value = 1,
    /// The closure or a poll panicked: the stage holds the payload.
    Panicked = 2,
    /// Cancelled before or while running: the stage is empty.
    Cancelled = 3,
}

impl Outcome {
    fn bits(self) -> usize {
        (self as usize) << OUTCOME_SHIFT
    }
}

/// A copy of the state word.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct Snapshot(usize);

impl Snapshot {
    pub(crate) fn has(self, flags: usize) -> bool {
        self.0 & flags == flags
    }
    pub(crate) fn is_running(self) -> bool {
        self.has(RUNNING)
    }
    pub(crate) fn is_complete(self) -> bool {
        self.has(COMPLETE)
    }
    pub(crate) fn is_scheduled(self) -> bool {
        self.has(SCHEDULED)
    }
    pub(crate) fn is_cancelled(self) -> bool {
        self.has(CANCELLED)
    }
    pub(crate) fn is_started(self) -> bool {
        self.has(STARTED)
    }
    pub(crate) fn is_join_interested(self) -> bool {
        self.has(JOIN_INTEREST)
    }
    pub(crate) fn is_join_waker_set(self) -> bool {
        self.has(JOIN_WAKER)
    }
    pub(crate) fn is_consumed(self) -> bool {
        self.has(CONSUMED)
    }
    pub(crate) fn ref_count(self) -> usize {
        (self.0 & REF_MASK) / REF_ONE
    }
    /// The outcome, once `COMPLETE` is set.
    pub(crate) fn outcome(self) -> Option<Outcome> {
        match (self.0 & OUTCOME_MASK) >> OUTCOME_SHIFT {
            1 => Some(Outcome::Value),
            2 => Some(Outcome::Panicked),
            3 => Some(Outcome::Cancelled),
            _ => None,
        }
    }
}

impl std::fmt::Debug for Snapshot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names = [
            (RUNNING, "RUNNING"),
            (COMPLETE, "COMPLETE"),
            (SCHEDULED, "SCHEDULED"),
            (CANCELLED, "CANCELLED"),
            (STARTED, "STARTED"),
            (JOIN_INTEREST, "JOIN_INTEREST"),
            (JOIN_WAKER, "JOIN_WAKER"),
            (CONSUMED, "CONSUMED"),
        ];
        let mut list = f.debug_list();
        for (flag, name) in names {
            if self.has(flag) {
                list.entry(&name);
            }
        }
        list.entry(&format_args!("{:?}", self.outcome()));
        list.entry(&format_args!("refs={}", self.ref_count()));
        list.finish()
    }
}

/// What a queue entry must do with the task it popped.
#[must_use]
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum ToRunning {
    /// The entry owns the stage now; `cancelled` says cancellation was
    /// requested before it started (then it must not run the body).
    Run { cancelled: bool },
    /// Someone else claimed or finished the task: drop the entry's
    /// reference (`last` says it was the last one: free the task).
    Skip { last: bool },
}

/// What the completing thread must do after publishing the outcome.
#[must_use]
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Completed {
    /// No handle remains: the completer drops the output.
    pub(crate) drop_output: bool,
    /// The handle waits: the completer wakes its waker.
    pub(crate) wake_join_waker: bool,
    /// The completer's reference was released in the same transition
    /// (asked for, and nothing else to do): it must not touch the task
    /// again, but free it if `last`.
    pub(crate) released: bool,
    /// `released` and it was the last reference.
    pub(crate) last: bool,
}

/// What the poller must do after a poll returned `Pending`.
#[must_use]
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum ToIdle {
    /// Idle now: drop the queue entry's reference (`last`: free the task).
    Idle { last: bool },
    /// Woken during the poll: queue it again, reusing the entry's reference.
    Requeue,
    /// Cancelled during the poll: still `RUNNING`; drop the future and
    /// complete as cancelled.
    Cancel,
}

/// What a waker must do.
#[must_use]
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Notified {
    /// Queue the task; a reference was added for the queue entry.
    Submit,
    /// Nothing: it is queued already, running (it will be polled again), or
    /// complete.
    Nothing,
}

/// What `cancel` must do.
#[must_use]
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum ToCancelled {
    /// The canceller owns the stage (the task was idle): drop the body and
    /// complete as cancelled. `started` says whether it had begun.
    Claimed { started: bool },
    /// The task is running: the flag is set for the runner to see.
    Flagged,
    /// The task had finished already.
    AlreadyComplete,
}

/// What the handle must do when it is dropped.
#[must_use]
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct JoinDropped {
    /// The task is complete and the output still there: the handle drops it.
    pub(crate) drop_output: bool,
    /// The handle owns the waiter slot, with a waker in it: it drops it.
    pub(crate) drop_waker: bool,
    /// Nothing else to do, so the handle's reference went in the same
    /// step: `Some(last)` (free the task if `last`); `None` if it is kept.
    pub(crate) released: Option<bool>,
}

/// The state word of one task.
#[derive(Debug)]
pub(crate) struct State(AtomicUsize);

impl State {
    /// A new task: queued (its entry holds a reference), with a handle
    /// (holding one more), plus `extra_refs`.
    pub(crate) fn new_scheduled(extra_refs: usize) -> State {
        State(AtomicUsize::new(
            SCHEDULED | JOIN_INTEREST | ((2 + extra_refs) * REF_ONE),
        ))
    }

    /// A new task that a combinator completes (it owns the stage, as
    /// `RUNNING`), with a handle and the combinator's reference.
    pub(crate) fn new_running() -> State {
        State(AtomicUsize::new(
            RUNNING | STARTED | JOIN_INTEREST | (2 * REF_ONE),
        ))
    }

    pub(crate) fn load(&self) -> Snapshot {
        // ORDERING: Acquire: a `COMPLETE` seen here makes the output visible.
        Snapshot(self.0.load(Ordering::Acquire))
    }

    /// Applies `f` until the compare-exchange succeeds; `f` returns the new
    /// word and a result, or `None` to leave the word as it is.
    ///
    /// A transition that finds a state it forbids (the debug assertions in
    /// `f`) aborts: unwinding from here would leave the stage and the
    /// references of a task that other threads still use in no known state.
    fn update<R>(&self, mut f: impl FnMut(Snapshot) -> (Option<usize>, R)) -> R {
        let guard = AbortIfPanic("a task state transition found a state it forbids");
        // ORDERING: Acquire: a transition that changes nothing (`f` returns
        // `None`) still acts on what the word says, so it acquires it too.
        let mut current = self.0.load(Ordering::Acquire);
        let result = loop {
            let (next, result) = f(Snapshot(current));
            let Some(next) = next else {
                break result;
            };
            // ORDERING: AcqRel: each transition publishes what its thread
            // did with the stage and acquires what the previous owner did.
            match self
                .0
                .compare_exchange_weak(current, next, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => break result,
                Err(actual) => current = actual,
            }
        };
        guard.disarm();
        result
    }

    /// A queue entry starts processing the task.
    pub(crate) fn transition_to_running(&self) -> ToRunning {
        self.update(|s| {
            debug_assert!(s.is_scheduled(), "queue entry without SCHEDULED: {s:?}");
            if s.is_running() || s.is_complete() {
                let next = (s.0 & !SCHEDULED) - REF_ONE;
                let last = Snapshot(next).ref_count() == 0;
                (Some(next), ToRunning::Skip { last })
            } else {
                let next = (s.0 & !SCHEDULED) | RUNNING | STARTED;
                (
                    Some(next),
                    ToRunning::Run {
                        cancelled: s.is_cancelled(),
                    },
                )
            }
        })
    }

    /// A joiner takes a closure task that has not started, to run it inline.
    /// Returns `false` if it started, finished or was claimed already.
    pub(crate) fn claim_unstarted(&self) -> bool {
        self.update(|s| {
            if s.is_running() || s.is_complete() || s.is_started() || !s.is_scheduled() {
                (None, false)
            } else {
                (Some(s.0 | RUNNING | STARTED), true)
            }
        })
    }

    /// The owner of the stage publishes the outcome it stored. With
    /// `release`, the caller's reference goes in the same step when there
    /// is nothing left for it to do (no output to drop, no waker to wake).
    /// `value_needs_drop` says whether a value output has drop glue (a `()`
    /// or a `u64` left behind needs no dropping).
    pub(crate) fn transition_to_complete(
        &self,
        outcome: Outcome,
        release: bool,
        value_needs_drop: bool,
    ) -> Completed {
        self.update(|s| {
            debug_assert!(s.is_running() && !s.is_complete(), "complete from {s:?}");
            let mut next = (s.0 & !RUNNING) | COMPLETE | outcome.bits();
            let no_handle = !s.is_join_interested();
            if no_handle || outcome == Outcome::Cancelled {
                // Nothing for the handle to read: the stage ends empty.
                next |= CONSUMED;
            }
            let drop_output = no_handle
                && match outcome {
                    Outcome::Value => value_needs_drop,
                    Outcome::Panicked => true,
                    Outcome::Cancelled => false,
                };
            let wake_join_waker = s.is_join_waker_set();
            let released = release && !drop_output && !wake_join_waker;
            if released {
                next -= REF_ONE;
            }
            let completed = Completed {
                drop_output,
                wake_join_waker,
                released,
                last: released && Snapshot(next).ref_count() == 0,
            };
            (Some(next), completed)
        })
    }

    /// After waking the handle's waker, hands the waiter slot back. Returns
    /// `true` if the handle is gone, so the caller must drop the waker.
    pub(crate) fn unset_waker_after_complete(&self) -> bool {
        // ORDERING: AcqRel: publishes our use of the slot to the handle.
        let before = Snapshot(self.0.fetch_and(!JOIN_WAKER, Ordering::AcqRel));
        debug_assert!(before.is_complete() && before.is_join_waker_set());
        !before.is_join_interested()
    }

    /// After `Poll::Pending`.
    pub(crate) fn transition_to_idle(&self) -> ToIdle {
        self.update(|s| {
            debug_assert!(s.is_running(), "idle from {s:?}");
            if s.is_cancelled() {
                (None, ToIdle::Cancel)
            } else if s.is_scheduled() {
                // Keep SCHEDULED: the entry's reference moves to the new entry.
                (Some(s.0 & !RUNNING), ToIdle::Requeue)
            } else {
                let next = (s.0 & !RUNNING) - REF_ONE;
                let last = Snapshot(next).ref_count() == 0;
                (Some(next), ToIdle::Idle { last })
            }
        })
    }

    /// A waker fires.
    pub(crate) fn transition_to_notified(&self) -> Notified {
        self.update(|s| {
            if s.is_complete() || s.is_scheduled() {
                (None, Notified::Nothing)
            } else if s.is_running() {
                (Some(s.0 | SCHEDULED), Notified::Nothing)
            } else {
                (Some((s.0 | SCHEDULED) + REF_ONE), Notified::Submit)
            }
        })
    }

    /// `cancel` is called.
    pub(crate) fn transition_to_cancelled(&self) -> ToCancelled {
        self.update(|s| {
            if s.is_complete() {
                (None, ToCancelled::AlreadyComplete)
            } else if s.is_running() {
                (Some(s.0 | CANCELLED), ToCancelled::Flagged)
            } else {
                let claimed = ToCancelled::Claimed {
                    started: s.is_started(),
                };
                (Some(s.0 | CANCELLED | RUNNING | STARTED), claimed)
            }
        })
    }

    /// A token cancels a task that has not started (queued or not): claims
    /// it as `transition_to_cancelled` does, or returns `false` and changes
    /// nothing if it started or completed.
    pub(crate) fn cancel_unstarted(&self) -> bool {
        self.claim_for_cancel_unless(Snapshot::is_started)
    }

    /// Shutdown cancels an async task that waits for a wake-up: idle, not
    /// queued, not running. Claims it as `transition_to_cancelled` does, or
    /// returns `false` and changes nothing.
    pub(crate) fn cancel_if_idle(&self) -> bool {
        self.claim_for_cancel_unless(Snapshot::is_scheduled)
    }

    /// Claims a task that is neither complete nor running, nor `spared`,
    /// for cancellation (as `transition_to_cancelled` does); returns whether
    /// it did.
    fn claim_for_cancel_unless(&self, spared: fn(Snapshot) -> bool) -> bool {
        self.update(|s| {
            if s.is_complete() || s.is_running() || spared(s) {
                (None, false)
            } else {
                (Some(s.0 | CANCELLED | RUNNING | STARTED), true)
            }
        })
    }

    /// The handle registered its waker in the slot; publish it. Fails (and
    /// the handle keeps the slot) if the task completed meanwhile.
    pub(crate) fn set_join_waker(&self) -> Result<(), Snapshot> {
        self.update(|s| {
            debug_assert!(s.is_join_interested() && !s.is_join_waker_set());
            if s.is_complete() {
                (None, Err(s))
            } else {
                (Some(s.0 | JOIN_WAKER), Ok(()))
            }
        })
    }

    /// The handle takes the slot back to replace its waker. Fails if the
    /// task completed (the completer owns the slot until it unsets the flag).
    pub(crate) fn unset_join_waker(&self) -> Result<(), Snapshot> {
        self.update(|s| {
            if s.is_complete() {
                // The completer may have woken the waker and unset the flag.
                (None, Err(s))
            } else {
                debug_assert!(s.is_join_interested() && s.is_join_waker_set());
                (Some(s.0 & !JOIN_WAKER), Ok(()))
            }
        })
    }

    /// The handle moved the output out (or will drop it): mark the stage
    /// empty. Only the handle calls it, once the task is complete.
    pub(crate) fn set_consumed(&self) {
        // ORDERING: Release: our use of the stage happens before the free.
        self.0.fetch_or(CONSUMED, Ordering::Release);
    }

    /// `join` took the output of a complete task and ends the handle in one
    /// step: interest dropped, stage marked empty, the handle's reference
    /// released, unless `keep_ref` (the handle still has a waker in the slot
    /// to drop, and must stay alive for that). Returns `Some(last)` if the
    /// reference was released (free the task if `last`), `None` if kept.
    pub(crate) fn finish_join(&self, keep_ref: bool) -> Option<bool> {
        self.update(|s| {
            debug_assert!(s.is_complete() && s.is_join_interested());
            let mut next = (s.0 & !JOIN_INTEREST) | CONSUMED;
            // With JOIN_WAKER still set, the completer owns the slot and
            // drops the waker itself once it sees the handle gone.
            let release = !keep_ref || s.is_join_waker_set();
            if release {
                next -= REF_ONE;
            }
            let result = release.then(|| Snapshot(next).ref_count() == 0);
            (Some(next), result)
        })
    }

    /// The handle is dropped. `has_waker` says whether the handle left a
    /// waker in the slot; `value_needs_drop` as in `transition_to_complete`.
    pub(crate) fn drop_join_interest(
        &self,
        has_waker: bool,
        value_needs_drop: bool,
    ) -> JoinDropped {
        self.update(|s| {
            debug_assert!(s.is_join_interested());
            let (mut next, drop_output, drop_waker) = if s.is_complete() {
                let unread = !s.is_consumed()
                    && match s.outcome() {
                        Some(Outcome::Value) => value_needs_drop,
                        Some(Outcome::Panicked) => true,
                        Some(Outcome::Cancelled) | None => false,
                    };
                // With JOIN_WAKER set the completer owns the slot, and drops
                // the waker once it sees the handle gone.
                let waker = has_waker && !s.is_join_waker_set();
                ((s.0 & !JOIN_INTEREST) | CONSUMED, unread, waker)
            } else {
                // Unsetting JOIN_WAKER before COMPLETE gives us the slot.
                (s.0 & !(JOIN_INTEREST | JOIN_WAKER), false, has_waker)
            };
            let released = if drop_output || drop_waker {
                None
            } else {
                next -= REF_ONE;
                Some(Snapshot(next).ref_count() == 0)
            };
            if drop_output {
                // The handle drops it next: not consumed yet.
                next &= !CONSUMED;
            }
            let dropped = JoinDropped {
                drop_output,
                drop_waker,
                released,
            };
            (Some(next), dropped)
        })
    }

    pub(crate) fn ref_inc(&self) {
        // ORDERING: Relaxed: taking a reference needs one already held.
        let before = self.0.fetch_add(REF_ONE, Ordering::Relaxed);
        if before >= usize::MAX / 2 {
            unwind::abort("task reference count overflow");
        }
    }

    /// Drops one reference; returns `true` if it was the last.
    pub(crate) fn ref_dec(&self) -> bool {
        // ORDERING: AcqRel: the last dropper acquires every other holder's
        // use of the task before freeing it.
        let before = Snapshot(self.0.fetch_sub(REF_ONE, Ordering::AcqRel));
        if before.ref_count() == 0 {
            unwind::abort("task reference count underflow");
        }
        before.ref_count() == 1
    }
}
