//! The typed side of a task: running, polling, completing, cancelling and
//! freeing a task whose body and extra types are known.
//!
//! [`Harness<B, X>`] is a typed view of one task allocation, made by its one
//! `unsafe` constructor, [`Harness::from_raw`]; everything else is a method
//! on it. Its [`TaskVTable`] is how `raw.rs` reaches this code from a
//! type-erased header. A harness counts no reference: each method says which
//! reference the caller holds, and which transition handed it the stage.

use super::alloc;
use super::raw::{
    Body, Cell, Extra, Header, Promise, RawTask, Stage, TaskRef, TaskVTable, report_panic_to,
};
use super::state::{AfterWake, Outcome, State, ToComplete, ToCompleteReleasing, ToIdle, ToRunning};
use super::waker::waker_ref;
use crate::error::{Cancelled, Failure, TaskError};
use crate::pool::{self, JobData, Ran, Submit};
use crate::sync::UnsafeCell;
use crate::unwind;
use std::alloc::Layout;
use std::mem::ManuallyDrop;
use std::ptr::NonNull;
use std::task::{Context, Poll, Waker};

impl<T: Send + 'static> TaskRef<Promise<T>, ()> {
    /// Completes a promise (see `raw::new_promise`) with `result`; `self`
    /// is the completer's reference.
    pub(crate) fn fulfil(self, result: Result<T, TaskError>) {
        let harness = self.harness();
        let outcome = match result {
            Ok(value) => {
                // SAFETY: a promise is RUNNING from birth and the completer
                // (`self`) owns its stage; nothing is in it yet.
                harness
                    .stage()
                    .with_mut(|stage| unsafe { (*stage).value = ManuallyDrop::new(value) });
                Outcome::Value
            }
            // A failure is stored where a panic payload goes, and told apart
            // when it is read (`TaskError::panicked`).
            Err(error) => match error.into_stored() {
                Some(payload) => {
                    // SAFETY: as above.
                    harness.stage().with_mut(|stage| unsafe {
                        (*stage).panic = ManuallyDrop::new(Box::new(payload));
                    });
                    Outcome::Panicked
                }
                None => Outcome::Cancelled,
            },
        };
        // SAFETY: the completer owns the stage and just filled it as
        // `outcome` says; `self` is its reference.
        unsafe { harness.complete_releasing(self.into_raw_task(), outcome) };
    }
}

/// A typed view of a task allocation holding body `B` and extra `X`.
pub(super) struct Harness<B: Body, X> {
    cell: NonNull<Cell<B, X>>,
}

impl<B: Body, X> Clone for Harness<B, X> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<B: Body, X> Copy for Harness<B, X> {}

impl<B: Body, X: Extra> Harness<B, X> {
    // Each entry but `run_from_queue` builds the harness of the task at
    // `header`: the vtable is `Harness<B, X>`'s only for a `Cell<B, X>`, and
    // the rest of each contract is the caller's, as the `TaskVTable` field
    // says.
    pub(super) const VTABLE: TaskVTable = TaskVTable {
        run_from_queue: Self::run_from_queue,
        inlinable: B::INLINABLE,
        // SAFETY: see above.
        run_claimed: |header| unsafe { Self::from_raw(header).run_claimed() },
        take_output: |header, dst| {
            // SAFETY: see above.
            let output = unsafe { Self::from_raw(header).take_output() };
            // SAFETY: as above, for `dst`.
            unsafe { write_output(dst, output) };
        },
        join_exclusive: |header, dst| {
            // SAFETY: see above.
            let output = unsafe { Self::from_raw(header).join_exclusive() };
            // SAFETY: as above, for `dst`.
            unsafe { write_output(dst, output) };
        },
        // SAFETY: see above.
        cancel_claimed: |header| unsafe { Self::from_raw(header).cancel_claimed() },
        // SAFETY: see above; the hook only reads the extra.
        on_cancel: |header| unsafe { Self::from_raw(header).extra().on_cancel() },
        // SAFETY: see above.
        dealloc: |header| unsafe { Self::from_raw(header).dealloc() },
    };

    /// The operations of a `Cell<B, X>` task, which its `RawTask`s carry.
    pub(super) fn vtable() -> &'static TaskVTable {
        &Self::VTABLE
    }

    /// The typed view of the task at `header`.
    ///
    /// # Safety
    ///
    /// The allocation at `header` is a `Cell<B, X>`, and stays allocated
    /// while the harness is used: the caller holds a reference, or frees the
    /// task through it (`dealloc`).
    pub(super) unsafe fn from_raw(header: NonNull<Header>) -> Self {
        Harness {
            cell: header.cast(),
        }
    }

    fn cell(&self) -> &Cell<B, X> {
        // SAFETY: by `from_raw`'s contract the cell is live.
        unsafe { self.cell.as_ref() }
    }

    fn header(&self) -> &Header {
        &self.cell().header
    }

    fn state(&self) -> &State {
        &self.header().state
    }

    pub(super) fn extra(&self) -> &X {
        &self.cell().extra
    }

    fn stage(&self) -> &UnsafeCell<Stage<B>> {
        &self.cell().stage
    }

    /// `run_from_queue`: a queue entry (one reference) runs the task.
    ///
    /// # Safety
    ///
    /// `data` came from `RawTask::into_job` of a `Cell<B, X>` task, and is
    /// run once.
    unsafe fn run_from_queue(data: JobData) -> Ran {
        // SAFETY: forwarded: the word is the task's header and carries the
        // entry's reference, which `entry` now holds.
        let entry = unsafe { RawTask::from_data(data, Self::vtable()) };
        // SAFETY: forwarded; `entry` keeps the task alive.
        let harness = unsafe { Self::from_raw(entry.header_ptr()) };
        match harness.state().transition_to_running() {
            ToRunning::Skip(released) => {
                entry.release(released);
                return Ran::Nothing;
            }
            // SAFETY: the transition gave us the stage, unconsumed; `entry`
            // keeps the task alive.
            ToRunning::Cancel => unsafe { harness.cancel_claimed() },
            // SAFETY: as above.
            ToRunning::Run => unsafe { harness.poll_owned(entry) },
        }
        Ran::Work
    }

    /// Runs a closure task that a joiner claimed (`claim_unstarted`).
    ///
    /// # Safety
    ///
    /// The caller's claim gave it the stage, and it holds a reference.
    unsafe fn run_claimed(self) {
        // SAFETY: forwarded.
        match unsafe { self.poll_body() } {
            // SAFETY: the stage is still ours, filled as `outcome` says.
            Poll::Ready(outcome) => unsafe { self.complete(outcome) },
            Poll::Pending => unreachable!("only closure tasks are run inline"),
        }
    }

    /// Runs a closure task whose only user is the caller, takes its output
    /// and frees it (`State::is_owned_by_joiner`: its handle and its queue
    /// entry, taken back, are its only references). Nobody else can reach
    /// the task, so this is what a run, a completion and a join do, without
    /// their transitions: the closure moves out, the block is freed (for
    /// the tasks the closure spawns to reuse), and the closure runs.
    ///
    /// # Safety
    ///
    /// `is_owned_by_joiner` held while the caller held both references,
    /// which it gives up here, and the task's body is a closure.
    unsafe fn join_exclusive(self) -> Result<B::Output, TaskError> {
        // SAFETY: every reference was the caller's, and the harness is not
        // used after.
        let Cell {
            header,
            extra,
            stage,
        } = unsafe { self.into_cell() };
        // SAFETY: a task that has not started holds its body.
        let body = unsafe { stage.into_inner().body };
        let output = run_moved(ManuallyDrop::into_inner(body));
        extra.on_complete(&header);
        drop_parts(header, extra);
        output
    }

    /// Polls (or runs) the body once, for the queue entry `entry`.
    ///
    /// # Safety
    ///
    /// `transition_to_running` gave `entry`'s holder the stage, unconsumed.
    unsafe fn poll_owned(self, entry: RawTask) {
        // SAFETY: forwarded.
        match unsafe { self.poll_body() } {
            // SAFETY: the stage is still ours, filled as `outcome` says.
            Poll::Ready(outcome) => unsafe { self.complete_releasing(entry, outcome) },
            Poll::Pending => match self.state().transition_to_idle() {
                ToIdle::Idle(released) => entry.release(released),
                ToIdle::Requeue => entry.schedule(Submit::Yield),
                // SAFETY: still RUNNING: the stage is ours, the future live.
                ToIdle::Cancel => unsafe { self.cancel_claimed() },
            },
        }
    }

    /// Runs the body through the unwind door; on `Ready` or a panic the
    /// body is gone and the output is in the stage.
    ///
    /// # Safety
    ///
    /// The caller owns the stage, and the body in it is live; it holds a
    /// reference.
    unsafe fn poll_body(self) -> Poll<Outcome> {
        let waker = waker_ref::<B, X>(self.cell.cast());
        let mut cx = Context::from_waker(&waker);
        let polled = self.stage().with_mut(|stage| {
            // SAFETY: forwarded: the body is live and ours.
            let body = unsafe { &raw mut (*stage).body }.cast::<B>();
            // SAFETY: as above.
            unwind::catch(|| unsafe { B::poll(body, &mut cx) })
        });
        let outcome = match polled {
            Ok(Poll::Pending) => return Poll::Pending,
            Ok(Poll::Ready(Ok(value))) => {
                // SAFETY: the stage is ours; the body is gone after this.
                unsafe { self.drop_body_after_poll() };
                // SAFETY: the body is gone; the stage is ours to fill.
                self.stage().with_mut(|stage| unsafe {
                    (*stage).value = ManuallyDrop::new(value);
                });
                Outcome::Value
            }
            Ok(Poll::Ready(Err(Cancelled))) => {
                // SAFETY: as above.
                unsafe { self.drop_body_after_poll() };
                Outcome::Cancelled
            }
            Err(payload) => {
                // SAFETY: as above.
                unsafe { self.drop_body_after_poll() };
                // SAFETY: as above.
                self.stage().with_mut(|stage| unsafe {
                    (*stage).panic = ManuallyDrop::new(Box::new(payload));
                });
                Outcome::Panicked
            }
        };
        Poll::Ready(outcome)
    }

    /// After `Ready` or a panic, drops a body that polling left in place.
    ///
    /// # Safety
    ///
    /// The caller owns the stage; polling just ended the body.
    unsafe fn drop_body_after_poll(self) {
        if !B::CONSUMED_BY_POLL {
            // SAFETY: a body that polling does not consume is still live.
            unsafe { self.drop_body() };
        }
    }

    /// Drops the body in place, containing a panic in its `Drop`.
    ///
    /// # Safety
    ///
    /// The caller owns the stage and the body is live.
    unsafe fn drop_body(self) {
        let dropped = self.stage().with_mut(|stage| {
            // SAFETY: forwarded.
            unwind::catch(|| unsafe { ManuallyDrop::drop(&mut (*stage).body) })
        });
        if let Err(payload) = dropped {
            self.header().report_panic(payload);
        }
    }

    /// Drops the body of a task that has not completed and completes it as
    /// cancelled: a task cancelled before it ran, or a future between polls.
    ///
    /// # Safety
    ///
    /// The caller's transition gave it the stage, whose body was never
    /// consumed; it holds a reference.
    unsafe fn cancel_claimed(self) {
        // SAFETY: forwarded.
        unsafe {
            self.drop_body();
            self.complete(Outcome::Cancelled);
        }
    }

    /// Publishes the outcome in the stage and does what completion asks;
    /// the caller's reference is borrowed (a joiner running the task inline,
    /// a canceller).
    ///
    /// # Safety
    ///
    /// The caller owns the stage, filled as `outcome` says, and holds a
    /// reference.
    unsafe fn complete(self, outcome: Outcome) {
        self.extra().on_complete(self.header());
        let then = self.state().transition_to_complete::<B::Output>(outcome);
        // SAFETY: the transition hands the completer what it names.
        unsafe { self.finish_completion(outcome, then) };
    }

    /// As `complete`, for a completer that owns `task`, a reference it
    /// gives up: released in the completing transition when nothing is left
    /// to do.
    ///
    /// # Safety
    ///
    /// As for `complete`; `task` is a reference to this task.
    unsafe fn complete_releasing(self, task: RawTask, outcome: Outcome) {
        self.extra().on_complete(self.header());
        match self.state().complete_and_release::<B::Output>(outcome) {
            ToCompleteReleasing::Released(released) => task.release(released),
            ToCompleteReleasing::Then(then) => {
                // SAFETY: the transition hands the completer what it names;
                // `task` keeps the task alive until it drops after.
                unsafe { self.finish_completion(outcome, then) };
            }
        }
    }

    /// # Safety
    ///
    /// `then` came from this caller's completing transition with `outcome`,
    /// and it holds a reference.
    unsafe fn finish_completion(self, outcome: Outcome, then: ToComplete) {
        match then {
            // SAFETY: forwarded: no handle remains to read the output.
            ToComplete::DropOutput => unsafe { self.drop_output(outcome) },
            ToComplete::WakeJoiner => self.wake_joiner(),
            ToComplete::Done => {}
        }
    }

    /// Wakes the handle's waker, then hands the slot back, dropping the
    /// waker if the handle is gone by then. The completing transition gave
    /// the completer the slot (`COMPLETE` with `JOIN_WAKER`).
    fn wake_joiner(self) {
        let waiter = &self.header().waiter;
        let woken = waiter.with(|slot| {
            // SAFETY: COMPLETE with JOIN_WAKER gives the slot to us.
            let waker = unsafe { (*slot).as_ref() }.expect("JOIN_WAKER with an empty slot");
            unwind::catch(|| waker.wake_by_ref())
        });
        if let Err(payload) = woken {
            self.header().report_panic(payload);
        }
        match self.state().unset_waker_after_complete() {
            AfterWake::DropWaker => {
                // SAFETY: the handle is gone and we still own the slot.
                let waker = waiter.with_mut(|slot| unsafe { (*slot).take() });
                if let Some(payload) = waker.and_then(unwind::drop_caught) {
                    self.header().report_panic(payload);
                }
            }
            AfterWake::Done => {}
        }
    }

    /// Drops an output that no handle will read: a value (containing a
    /// panic in its `Drop`), or a panic payload, which goes to the panic
    /// handler as unobserved.
    ///
    /// # Safety
    ///
    /// The task is complete with `outcome`, and the completing transition
    /// gave the caller the output (`ToComplete::DropOutput`).
    unsafe fn drop_output(self, outcome: Outcome) {
        match outcome {
            Outcome::Value => {
                let dropped = self.stage().with_mut(|stage| {
                    // SAFETY: a complete `Value` stage holds the value, and
                    // the caller is the one party that may drop it.
                    unwind::catch(|| unsafe { ManuallyDrop::drop(&mut (*stage).value) })
                });
                if let Err(payload) = dropped {
                    self.header().report_panic(payload);
                }
            }
            Outcome::Panicked => {
                // SAFETY: a complete `Panicked` stage holds the payload.
                let payload = self
                    .stage()
                    .with_mut(|stage| unsafe { ManuallyDrop::take(&mut (*stage).panic) });
                if !Failure::is_failure(&payload) {
                    self.header().report_panic(*payload);
                }
            }
            Outcome::Cancelled => {}
        }
    }

    /// Moves the output of a complete task out; the caller then marks the
    /// stage consumed.
    ///
    /// # Safety
    ///
    /// The caller holds the join interest and a reference, and the task is
    /// complete with its output not taken before.
    unsafe fn take_output(self) -> Result<B::Output, TaskError> {
        let state = self.state().load();
        debug_assert!(state.is_complete());
        debug_assert!(!state.is_consumed() || state.outcome() == Some(Outcome::Cancelled));
        match state.outcome() {
            // SAFETY: forwarded: the outcome says what the stage holds.
            Some(outcome) => unsafe { self.take_outcome(outcome) },
            None => Err(TaskError::cancelled()),
        }
    }

    /// Moves out what a body that ended with `outcome` left in the stage.
    ///
    /// # Safety
    ///
    /// The stage holds that, and the caller is its one reader.
    unsafe fn take_outcome(self, outcome: Outcome) -> Result<B::Output, TaskError> {
        match outcome {
            Outcome::Value => {
                // SAFETY: a `Value` stage holds the value.
                let value = self
                    .stage()
                    .with_mut(|stage| unsafe { ManuallyDrop::take(&mut (*stage).value) });
                Ok(value)
            }
            Outcome::Panicked => {
                // SAFETY: a `Panicked` stage holds the payload.
                let payload = self
                    .stage()
                    .with_mut(|stage| unsafe { ManuallyDrop::take(&mut (*stage).panic) });
                Err(TaskError::panicked(payload))
            }
            Outcome::Cancelled => Err(TaskError::cancelled()),
        }
    }

    /// Moves the cell out of its block and frees the block (into this
    /// thread's cache): what is left of the task is the returned value.
    ///
    /// # Safety
    ///
    /// Nobody else can reach the task (the caller held its last
    /// references), and the harness is not used after.
    #[inline]
    unsafe fn into_cell(self) -> Cell<B, X> {
        // SAFETY: forwarded: the cell is live, and read once, here.
        let cell = unsafe { self.cell.read() };
        // SAFETY: `raw::allocate` took this block from `alloc::allocate` for
        // the cell's layout; its content was moved out just above.
        unsafe { alloc::free(self.cell.cast(), Layout::new::<Cell<B, X>>()) };
        cell
    }

    /// Frees the allocation. The stage is normally empty by now (the
    /// handle or the completer consumed the output); whatever is left is
    /// dropped here, with panics in it reported.
    ///
    /// # Safety
    ///
    /// The reference count is zero: nobody else can reach the task.
    unsafe fn dealloc(self) {
        // SAFETY: forwarded.
        let cell = unsafe { self.into_cell() };
        let state = cell.header.state.load();
        let Cell {
            header,
            extra,
            stage,
        } = cell;
        // The common case, a stage that ended empty, skips the unwind door.
        if !(state.is_complete() && state.is_consumed()) {
            let mut stage = stage.into_inner();
            let leftover = unwind::catch(|| {
                if !state.is_complete() {
                    if !(B::CONSUMED_BY_POLL && state.is_started()) {
                        // SAFETY: before completion, a body that no run
                        // consumed is live.
                        unsafe { ManuallyDrop::drop(&mut stage.body) };
                    }
                    return None;
                }
                match state.outcome() {
                    // SAFETY: the outcome says which field is live.
                    Some(Outcome::Value) => unsafe { ManuallyDrop::drop(&mut stage.value) },
                    Some(Outcome::Panicked) => {
                        // SAFETY: as above.
                        let payload = unsafe { ManuallyDrop::take(&mut stage.panic) };
                        // A failure nobody read is dropped, not reported.
                        return (!Failure::is_failure(&payload)).then_some(*payload);
                    }
                    Some(Outcome::Cancelled) | None => {}
                }
                None
            });
            if let Some(payload) = leftover.unwrap_or_else(Some) {
                report_panic_to(header.pool.as_ref(), payload);
            }
        }
        drop_parts(header, extra);
    }
}

/// Hands an output to a `RawTask` through the vtable's `dst` (see
/// `TaskVTable::take_output`).
///
/// # Safety
///
/// `dst` is a `*mut Option<Result<O, TaskError>>` holding `None`, which is
/// overwritten without a drop (it has nothing to drop).
#[inline]
unsafe fn write_output<O>(dst: *mut (), output: Result<O, TaskError>) {
    // SAFETY: forwarded.
    unsafe {
        dst.cast::<Option<Result<O, TaskError>>>()
            .write(Some(output))
    };
}

/// Runs a closure body that was moved out of its task, through the unwind
/// door, to its result.
fn run_moved<B: Body>(body: B) -> Result<B::Output, TaskError> {
    debug_assert!(B::CONSUMED_BY_POLL, "only a closure body runs moved out");
    let mut body = ManuallyDrop::new(body);
    let mut cx = Context::from_waker(Waker::noop());
    // SAFETY: the body is live and ours, and `poll` consumes it
    // (`CONSUMED_BY_POLL`), so it is not used or dropped after; a closure
    // need not stay where it was.
    match unwind::catch(|| unsafe { B::poll(&raw mut *body, &mut cx) }) {
        Ok(Poll::Ready(Ok(value))) => Ok(value),
        Ok(Poll::Ready(Err(Cancelled))) => Err(TaskError::cancelled()),
        Ok(Poll::Pending) => unreachable!("a closure body never returns Pending"),
        Err(payload) => Err(TaskError::panicked(Box::new(payload))),
    }
}

/// Drops what a freed task's header and extra still hold: a waker left in
/// the waiter slot (a panic in its `Drop` reported), the extra, and the
/// reference to the pool.
fn drop_parts<X>(header: Header, extra: X) {
    let waker = header.waiter.into_inner();
    if let Some(payload) = waker.and_then(unwind::drop_caught) {
        report_panic_to(header.pool.as_ref(), payload);
    }
    drop(extra);
    if let Some(pool) = header.pool {
        #[cfg(debug_assertions)]
        // ORDERING: Relaxed: as in `allocate`.
        pool.debug_allocations
            .fetch_sub(1, crate::sync::Ordering::Relaxed);
        pool::drop_registry_ref(pool);
    }
}
