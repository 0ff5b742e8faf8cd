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
//! Each transition returns an enum that names what the caller does next.
//! One that drops the caller's reference says so with [`Released`]
//! (`Dealloc`: that was the last one, free the task), which the caller
//! hands to `RawTask::release`.
//!
//! | transition | from | to | the caller then (the enum) |
//! |---|---|---|---|
//! | [`State::transition_to_running`] | a queue entry runs | `RUNNING`, `STARTED`, not `SCHEDULED` | runs or polls; cancels if asked before it started; or, if the task was claimed or finished meanwhile, its reference is gone ([`ToRunning`]) |
//! | [`State::claim_unstarted`] | `SCHEDULED`, not started, not `RUNNING`/`COMPLETE` | `RUNNING`, `STARTED` | a joiner runs the closure inline; the queue entry will find it taken ([`Claim`]) |
//! | [`State::transition_to_complete`] / [`State::complete_and_release`] | `RUNNING` | `COMPLETE` + outcome | drops the output if no handle remains, or wakes the handle's waker; the second also drops the completer's reference when nothing is left to do ([`ToComplete`], [`ToCompleteReleasing`]) |
//! | [`State::unset_waker_after_complete`] | `COMPLETE`, `JOIN_WAKER` | not `JOIN_WAKER` | drops the waker if the handle is gone ([`AfterWake`]) |
//! | [`State::transition_to_idle`] | `RUNNING` after `Poll::Pending` | idle, or `SCHEDULED` again, or stays `RUNNING` if cancelled | its reference is gone; re-queues; or cancels ([`ToIdle`]) |
//! | [`State::transition_to_notified`] | a wake-up | `SCHEDULED` (+1 reference) if idle; `SCHEDULED` only if running | queues the task, or nothing ([`Notified`]) |
//! | [`State::transition_to_cancelled`] | a `cancel` | `RUNNING` + `CANCELLED` if idle; `CANCELLED` if running | drops the stage and completes; or lets the runner see the flag ([`ToCancelled`]) |
//! | [`State::cancel_if_idle`] / [`State::cancel_unstarted`] | shutdown, idle and not `SCHEDULED` / a token, not started | `RUNNING` + `CANCELLED` | drops the body and completes ([`Claim`]) |
//! | [`State::set_join_waker`] / [`State::unset_join_waker`] | handle side, not `COMPLETE` | `JOIN_WAKER` set / unset | the handle waits / may replace its waker |
//! | [`State::is_owned_by_joiner`] | `SCHEDULED`, `JOIN_INTEREST`, two references, nothing else, and the joiner holds both (the handle and the entry it took back) | the task is freed, the word with it | moves the closure out, frees the block, runs the closure and keeps the value: a plain check, as nobody else can reach the task |
//! | [`State::finish_join`] | `join` took the output | not `JOIN_INTEREST`, `CONSUMED` | its reference is gone, or it drops its waker first ([`JoinFinished`]) |
//! | [`State::drop_join_interest`] | the handle is dropped | not `JOIN_INTEREST` | drops the output if complete and unread, and its waker if it owns the slot; else its reference is gone ([`JoinDropped`]) |
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

/// What the caller must do after a transition dropped its reference.
#[must_use]
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Released {
    /// Others still hold references: nothing more (and not touch the task).
    Shared,
    /// That was the last reference: free the task.
    Dealloc,
}

impl Released {
    fn after(next: usize) -> Released {
        if Snapshot(next).ref_count() == 0 {
            Released::Dealloc
        } else {
            Released::Shared
        }
    }
}

/// Whether the waiter slot holds the handle's waker, as the handle (its
/// only writer while `JOIN_WAKER` is unset) last left it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Slot {
    /// Nothing to drop.
    Empty,
    /// A waker, which someone must drop.
    HoldsWaker,
}

/// What a queue entry must do with the task it popped.
#[must_use]
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum ToRunning {
    /// The entry owns the stage now: run the closure or poll the future.
    Run,
    /// The entry owns the stage, but cancellation was requested before it
    /// started: drop the body and complete as cancelled.
    Cancel,
    /// Someone else claimed or finished the task; the entry's reference is
    /// gone.
    Skip(Released),
}

/// A claim on the stage of a task that is not running.
#[must_use]
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Claim {
    /// The caller owns the stage now.
    Claimed,
    /// The task started, completed or is owned by another: leave it.
    Refused,
}

/// What the completing thread must do after publishing the outcome.
#[must_use]
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum ToComplete {
    /// No handle remains: drop the output.
    DropOutput,
    /// The handle waits: wake its waker, then hand the slot back
    /// (`unset_waker_after_complete`).
    WakeJoiner,
    /// Nothing.
    Done,
}

/// What the completing thread must do after `complete_and_release`.
#[must_use]
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum ToCompleteReleasing {
    /// Nothing was left to do, so its reference went in the same step.
    Released(Released),
    /// The reference is kept: do this, then release it.
    Then(ToComplete),
}

/// What the completing thread must do after waking the handle's waker.
#[must_use]
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum AfterWake {
    /// The handle is gone: drop the waker in the slot.
    DropWaker,
    /// The handle owns the slot again.
    Done,
}

/// What the poller must do after a poll returned `Pending`.
#[must_use]
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum ToIdle {
    /// Idle now; the queue entry's reference is gone.
    Idle(Released),
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
    /// complete as cancelled.
    Claimed,
    /// The task is running: the flag is set for the runner to see.
    Flagged,
    /// The task had finished already.
    AlreadyComplete,
}

/// What `join` must do after taking the output.
#[must_use]
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum JoinFinished {
    /// The handle's reference is gone.
    Released(Released),
    /// The handle owns the slot and its waker: drop the waker, then release
    /// the reference.
    DropWaker,
}

/// What the handle must do when it is dropped; in every variant but
/// `Released` it then releases its reference.
#[must_use]
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum JoinDropped {
    /// Nothing else to do: the handle's reference went in the same step.
    Released(Released),
    /// The task is complete and the output unread: drop it.
    DropOutput,
    /// The handle owns the slot, with a waker in it: drop the waker.
    DropWaker,
    /// Both.
    DropOutputAndWaker,
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
                (Some(next), ToRunning::Skip(Released::after(next)))
            } else {
                let next = (s.0 & !SCHEDULED) | RUNNING | STARTED;
                let run = if s.is_cancelled() {
                    ToRunning::Cancel
                } else {
                    ToRunning::Run
                };
                (Some(next), run)
            }
        })
    }

    /// A joiner takes a closure task that has not started, to run it inline.
    /// Refused if it started, finished or was claimed already.
    pub(crate) fn claim_unstarted(&self) -> Claim {
        self.update(|s| {
            if s.is_running() || s.is_complete() || s.is_started() || !s.is_scheduled() {
                (None, Claim::Refused)
            } else {
                (Some(s.0 | RUNNING | STARTED), Claim::Claimed)
            }
        })
    }

    /// The owner of the stage publishes the outcome it stored; its
    /// reference is borrowed (a joiner running the task inline, a
    /// canceller). `T` is the output type: a value without drop glue (a
    /// `()`, a `u64`) left behind needs no dropping.
    pub(crate) fn transition_to_complete<T>(&self, outcome: Outcome) -> ToComplete {
        self.update(|s| {
            let (next, then) = Self::completed::<T>(s, outcome);
            (Some(next), then)
        })
    }

    /// As `transition_to_complete`, for a completer that owns a reference
    /// (a queue entry): when there is nothing left to do, the reference
    /// goes in the same step.
    pub(crate) fn complete_and_release<T>(&self, outcome: Outcome) -> ToCompleteReleasing {
        self.update(|s| match Self::completed::<T>(s, outcome) {
            (next, ToComplete::Done) => {
                let next = next - REF_ONE;
                let released = ToCompleteReleasing::Released(Released::after(next));
                (Some(next), released)
            }
            (next, then) => (Some(next), ToCompleteReleasing::Then(then)),
        })
    }

    /// The word after completing from `s` with `outcome`, and what is left
    /// to do.
    fn completed<T>(s: Snapshot, outcome: Outcome) -> (usize, ToComplete) {
        debug_assert!(s.is_running() && !s.is_complete(), "complete from {s:?}");
        let mut next = (s.0 & !RUNNING) | COMPLETE | outcome.bits();
        if !s.is_join_interested() {
            // Nothing for a handle to read: the stage ends empty, and its
            // output is dropped here if it needs dropping.
            next |= CONSUMED;
            debug_assert!(!s.is_join_waker_set(), "a waker without a handle: {s:?}");
            let then = match outcome {
                Outcome::Value if std::mem::needs_drop::<T>() => ToComplete::DropOutput,
                Outcome::Panicked => ToComplete::DropOutput,
                Outcome::Value | Outcome::Cancelled => ToComplete::Done,
            };
            return (next, then);
        }
        if outcome == Outcome::Cancelled {
            next |= CONSUMED;
        }
        // `JOIN_WAKER` is only ever set with `JOIN_INTEREST` before completion.
        let then = if s.is_join_waker_set() {
            ToComplete::WakeJoiner
        } else {
            ToComplete::Done
        };
        (next, then)
    }

    /// After waking the handle's waker, hands the waiter slot back. Returns
    /// `DropWaker` if the handle is gone, so the caller drops the waker.
    pub(crate) fn unset_waker_after_complete(&self) -> AfterWake {
        // ORDERING: AcqRel: publishes our use of the slot to the handle.
        let before = Snapshot(self.0.fetch_and(!JOIN_WAKER, Ordering::AcqRel));
        debug_assert!(before.is_complete() && before.is_join_waker_set());
        if before.is_join_interested() {
            AfterWake::Done
        } else {
            AfterWake::DropWaker
        }
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
                (Some(next), ToIdle::Idle(Released::after(next)))
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
                (
                    Some(s.0 | CANCELLED | RUNNING | STARTED),
                    ToCancelled::Claimed,
                )
            }
        })
    }

    /// A token cancels a task that has not started (queued or not): claims
    /// it as `transition_to_cancelled` does, or refuses and changes nothing
    /// if it started or completed.
    pub(crate) fn cancel_unstarted(&self) -> Claim {
        self.claim_for_cancel_unless(Snapshot::is_started)
    }

    /// Shutdown cancels an async task that waits for a wake-up: idle, not
    /// queued, not running. Claims it as `transition_to_cancelled` does, or
    /// refuses and changes nothing.
    pub(crate) fn cancel_if_idle(&self) -> Claim {
        self.claim_for_cancel_unless(Snapshot::is_scheduled)
    }

    /// Claims a task that is neither complete nor running, nor `spared`,
    /// for cancellation (as `transition_to_cancelled` does).
    fn claim_for_cancel_unless(&self, spared: fn(Snapshot) -> bool) -> Claim {
        self.update(|s| {
            if s.is_complete() || s.is_running() || spared(s) {
                (None, Claim::Refused)
            } else {
                (Some(s.0 | CANCELLED | RUNNING | STARTED), Claim::Claimed)
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

    /// Whether a joiner that took the task's queue entry back from its
    /// deque (`WorkerThread::take_back_newest`) is now its only user: the
    /// task has not started, nobody asked to cancel it, its handle has no
    /// waker, and the handle and that entry are its only references. Then
    /// nobody else can reach the task, and the joiner runs and frees it
    /// with no transition (`Harness::join_exclusive`).
    pub(crate) fn is_owned_by_joiner(&self) -> bool {
        // Acquire (in `load`): whoever dropped another reference before
        // released its use of the task with it.
        self.load().0 == SCHEDULED | JOIN_INTEREST | (2 * REF_ONE)
    }

    /// The handle moved the output out (or will drop it): mark the stage
    /// empty. Only the handle calls it, once the task is complete.
    pub(crate) fn set_consumed(&self) {
        // ORDERING: Release: our use of the stage happens before the free.
        self.0.fetch_or(CONSUMED, Ordering::Release);
    }

    /// `join` took the output of a complete task and ends the handle in one
    /// step: interest dropped, stage marked empty, and the handle's
    /// reference released, unless the handle still owns a waker in the slot
    /// (`slot`, as the handle left it), which it must drop first.
    pub(crate) fn finish_join(&self, slot: Slot) -> JoinFinished {
        self.update(|s| {
            debug_assert!(s.is_complete() && s.is_join_interested());
            let next = (s.0 & !JOIN_INTEREST) | CONSUMED;
            // With JOIN_WAKER still set, the completer owns the slot and
            // drops the waker itself once it sees the handle gone.
            if slot == Slot::HoldsWaker && !s.is_join_waker_set() {
                (Some(next), JoinFinished::DropWaker)
            } else {
                let next = next - REF_ONE;
                (Some(next), JoinFinished::Released(Released::after(next)))
            }
        })
    }

    /// The handle is dropped, leaving the waiter slot as `slot` says; `T`
    /// is the output type, as in `transition_to_complete`.
    pub(crate) fn drop_join_interest<T>(&self, slot: Slot) -> JoinDropped {
        let has_waker = slot == Slot::HoldsWaker;
        self.update(|s| {
            debug_assert!(s.is_join_interested());
            let (mut next, drop_output, drop_waker) = if s.is_complete() {
                let unread = !s.is_consumed()
                    && match s.outcome() {
                        Some(Outcome::Value) => std::mem::needs_drop::<T>(),
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
            let dropped = match (drop_output, drop_waker) {
                (false, false) => {
                    next -= REF_ONE;
                    JoinDropped::Released(Released::after(next))
                }
                (true, false) => JoinDropped::DropOutput,
                (false, true) => JoinDropped::DropWaker,
                (true, true) => JoinDropped::DropOutputAndWaker,
            };
            if drop_output {
                // The handle drops it next: not consumed yet.
                next &= !CONSUMED;
            }
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

    /// Drops one reference.
    pub(crate) fn ref_dec(&self) -> Released {
        // ORDERING: AcqRel: the last dropper acquires every other holder's
        // use of the task before freeing it.
        let before = Snapshot(self.0.fetch_sub(REF_ONE, Ordering::AcqRel));
        if before.ref_count() == 0 {
            unwind::abort("task reference count underflow");
        }
        if before.ref_count() == 1 {
            Released::Dealloc
        } else {
            Released::Shared
        }
    }
}
