//! The typed side of a task: running, polling, completing, cancelling and
//! freeing a task whose body and extra types are known. Each `Typed<B, X>`
//! is one [`TaskVTable`]; `raw.rs` reaches this code only through it.

use super::raw::{Body, Cell, Extra, Header, Promise, RawTask, TaskVTable};
use super::state::{Completed, Outcome, ToIdle, ToRunning};
use super::waker::waker_ref;
use crate::error::{Cancelled, Failure, TaskError};
use crate::pool::{JobData, Ran, Submit};
use crate::unwind::{self, report_panic_here};
use std::marker::PhantomData;
use std::mem::ManuallyDrop;
use std::ptr::NonNull;
use std::task::{Context, Poll};

/// Completes a promise (see `raw::new_promise`) with `result`.
///
/// # Safety
///
/// `promise` is the completer's reference from `new_promise::<T>`, used once.
pub(crate) unsafe fn fulfil<T: Send + 'static>(promise: RawTask, result: Result<T, TaskError>) {
    let cell = Typed::<Promise<T>, ()>::cell(&promise);
    let outcome = match result {
        Ok(value) => {
            // SAFETY: a promise is RUNNING from birth and the completer owns
            // its stage; nothing is in it yet.
            cell.stage
                .with_mut(|stage| unsafe { (*stage).value = ManuallyDrop::new(value) });
            Outcome::Value
        }
        // A failure is stored where a panic payload goes, and told apart
        // when it is read (`TaskError::panicked`).
        Err(error) => match error.into_stored() {
            Some(payload) => {
                // SAFETY: as above.
                cell.stage.with_mut(|stage| unsafe {
                    (*stage).panic = ManuallyDrop::new(Box::new(payload));
                });
                Outcome::Panicked
            }
            None => Outcome::Cancelled,
        },
    };
    Typed::<Promise<T>, ()>::complete(&promise, outcome);
}

/// The operations of a task with body `B` and extra `X`.
pub(super) struct Typed<B, X>(PhantomData<(B, X)>);

impl<B: Body, X: Extra> Typed<B, X> {
    pub(super) const VTABLE: TaskVTable = TaskVTable {
        run_from_queue: Self::run_from_queue,
        inlinable: B::INLINABLE,
        run_claimed: Self::run_claimed,
        take_output: Self::take_output,
        cancel_claimed: Self::cancel_claimed,
        on_cancel: Self::on_cancel,
        dealloc: Self::dealloc,
    };

    pub(super) fn cell(task: &RawTask) -> &Cell<B, X> {
        // SAFETY: the vtable is `Typed<B, X>`'s only if the allocation is a
        // `Cell<B, X>`, whose first field is the header.
        unsafe { task.header_ptr().cast::<Cell<B, X>>().as_ref() }
    }

    /// `run_from_queue`: a queue entry (one reference) runs the task.
    unsafe fn run_from_queue(data: JobData) -> Ran {
        // SAFETY: the pool runs each `JobRef` once; this one came from
        // `RawTask::into_job` and carries one reference.
        let task = unsafe { RawTask::from_data(data) };
        match task.state().transition_to_running() {
            ToRunning::Skip { last } => {
                // The transition released the entry's reference already.
                let header = task.into_raw();
                if last {
                    // SAFETY: that was the last reference.
                    unsafe { Self::dealloc(header) };
                }
                return Ran::Nothing;
            }
            ToRunning::Run { cancelled: true } => Self::cancel_owned(&task),
            ToRunning::Run { cancelled: false } => Self::poll_owned(task),
        }
        Ran::Work
    }

    /// `run_claimed`: a joiner claimed the task; it holds the handle's
    /// reference, so no reference is consumed here.
    unsafe fn run_claimed(task: &RawTask) {
        let poll = Self::poll_body(task);
        match poll {
            Poll::Ready(outcome) => Self::complete(task, outcome),
            Poll::Pending => unreachable!("only closure tasks are run inline"),
        }
    }

    /// Polls (or runs) the body once; the stage is ours.
    fn poll_owned(task: RawTask) {
        match Self::poll_body(&task) {
            Poll::Ready(outcome) => Self::complete_owned(task, outcome),
            Poll::Pending => match task.state().transition_to_idle() {
                ToIdle::Idle { last } => {
                    let header = task.into_raw();
                    if last {
                        // SAFETY: that was the last reference.
                        unsafe { Self::dealloc(header) };
                    }
                }
                ToIdle::Requeue => task.schedule(Submit::Yield),
                ToIdle::Cancel => Self::cancel_owned(&task),
            },
        }
    }

    /// Runs the body through the unwind door; on `Ready` or a panic the
    /// body is gone and the output is in the stage.
    fn poll_body(task: &RawTask) -> Poll<Outcome> {
        let cell = Self::cell(task);
        let waker = waker_ref(task);
        let mut cx = Context::from_waker(&waker);
        let polled = cell.stage.with_mut(|stage| {
            // SAFETY: RUNNING gives us the stage; before completion the body
            // is live.
            let body = unsafe { &raw mut (*stage).body }.cast::<B>();
            // SAFETY: as above.
            unwind::catch(|| unsafe { B::poll(body, &mut cx) })
        });
        let outcome = match polled {
            Ok(Poll::Pending) => return Poll::Pending,
            Ok(Poll::Ready(Ok(value))) => {
                Self::drop_body_after_poll(task);
                // SAFETY: the body is gone; the stage is ours to fill.
                cell.stage.with_mut(|stage| unsafe {
                    (*stage).value = ManuallyDrop::new(value);
                });
                Outcome::Value
            }
            Ok(Poll::Ready(Err(Cancelled))) => {
                Self::drop_body_after_poll(task);
                Outcome::Cancelled
            }
            Err(payload) => {
                Self::drop_body_after_poll(task);
                // SAFETY: as above.
                cell.stage.with_mut(|stage| unsafe {
                    (*stage).panic = ManuallyDrop::new(Box::new(payload));
                });
                Outcome::Panicked
            }
        };
        Poll::Ready(outcome)
    }

    /// After `Ready` or a panic, drops a body that polling left in place.
    fn drop_body_after_poll(task: &RawTask) {
        if !B::CONSUMED_BY_POLL {
            Self::drop_body(task);
        }
    }

    /// Drops the body in place, containing a panic in its `Drop`.
    fn drop_body(task: &RawTask) {
        let cell = Self::cell(task);
        let dropped = cell.stage.with_mut(|stage| {
            // SAFETY: the caller owns the stage and the body is live.
            unwind::catch(|| unsafe { ManuallyDrop::drop(&mut (*stage).body) })
        });
        if let Err(payload) = dropped {
            task.report_panic(payload);
        }
    }

    /// `cancel_claimed`: the caller owns the stage of a task that has not
    /// completed; drop its body and complete it as cancelled.
    unsafe fn cancel_claimed(task: &RawTask) {
        Self::cancel_owned(task)
    }

    /// Every path here owns a stage whose body was never consumed: a task
    /// cancelled before it ran, or a future between polls.
    fn cancel_owned(task: &RawTask) {
        Self::drop_body(task);
        Self::complete(task, Outcome::Cancelled);
    }

    /// Publishes the outcome in the stage and does what completion asks.
    /// Publishes the outcome in the stage, does what completion asks, and
    /// releases `task`, the completer's own reference, in the same step
    /// when it can.
    fn complete_owned(task: RawTask, outcome: Outcome) {
        Self::cell(&task).extra.on_complete(&task);
        let completed =
            task.state()
                .transition_to_complete(outcome, true, std::mem::needs_drop::<B::Output>());
        if completed.released {
            let header = task.into_raw();
            if completed.last {
                // SAFETY: that was the last reference.
                unsafe { Self::dealloc(header) };
            }
            return;
        }
        Self::finish_completion(&task, outcome, completed);
    }

    /// Publishes the outcome in the stage and does what completion asks;
    /// the caller's reference is borrowed (a joiner running the task inline,
    /// a canceller).
    fn complete(task: &RawTask, outcome: Outcome) {
        Self::cell(task).extra.on_complete(task);
        let completed = task.state().transition_to_complete(
            outcome,
            false,
            std::mem::needs_drop::<B::Output>(),
        );
        Self::finish_completion(task, outcome, completed);
    }

    fn finish_completion(task: &RawTask, outcome: Outcome, completed: Completed) {
        let Completed {
            drop_output,
            wake_join_waker,
            ..
        } = completed;
        if drop_output {
            Self::drop_output(task, outcome);
        }
        if wake_join_waker {
            let woken = task.waiter().with(|slot| {
                // SAFETY: COMPLETE with JOIN_WAKER gives the slot to us.
                let waker = unsafe { (*slot).as_ref() }.expect("JOIN_WAKER with an empty slot");
                unwind::catch(|| waker.wake_by_ref())
            });
            if let Err(payload) = woken {
                task.report_panic(payload);
            }
            if task.state().unset_waker_after_complete() {
                // SAFETY: the handle is gone and we still own the slot.
                let waker = task.waiter().with_mut(|slot| unsafe { (*slot).take() });
                if let Some(payload) = waker.and_then(unwind::drop_caught) {
                    task.report_panic(payload);
                }
            }
        }
    }

    /// Drops an output that no handle will read: a value (containing a
    /// panic in its `Drop`), or a panic payload, which goes to the panic
    /// handler as unobserved.
    fn drop_output(task: &RawTask, outcome: Outcome) {
        let cell = Self::cell(task);
        match outcome {
            Outcome::Value => {
                let dropped = cell.stage.with_mut(|stage| {
                    // SAFETY: a complete `Value` stage holds the value, and
                    // the caller is the one party that may drop it.
                    unwind::catch(|| unsafe { ManuallyDrop::drop(&mut (*stage).value) })
                });
                if let Err(payload) = dropped {
                    task.report_panic(payload);
                }
            }
            Outcome::Panicked => {
                // SAFETY: a complete `Panicked` stage holds the payload.
                let payload = cell
                    .stage
                    .with_mut(|stage| unsafe { ManuallyDrop::take(&mut (*stage).panic) });
                if !Failure::is_failure(&payload) {
                    task.report_panic(*payload);
                }
            }
            Outcome::Cancelled => {}
        }
    }

    /// `take_output`: the handle moves the output of a complete task out;
    /// the caller then marks the stage consumed.
    unsafe fn take_output(task: &RawTask, dst: *mut ()) {
        let cell = Self::cell(task);
        let state = task.state().load();
        debug_assert!(state.is_complete());
        let output = match state.outcome() {
            Some(Outcome::Value) => {
                debug_assert!(!state.is_consumed());
                // SAFETY: a complete `Value` stage holds the value; the
                // handle (our caller) is its one reader.
                Ok(cell
                    .stage
                    .with_mut(|stage| unsafe { ManuallyDrop::take(&mut (*stage).value) }))
            }
            Some(Outcome::Panicked) => {
                debug_assert!(!state.is_consumed());
                // SAFETY: as above, for the payload.
                let payload = cell
                    .stage
                    .with_mut(|stage| unsafe { ManuallyDrop::take(&mut (*stage).panic) });
                Err(TaskError::panicked(payload))
            }
            Some(Outcome::Cancelled) | None => Err(TaskError::cancelled()),
        };
        // SAFETY: the caller passes a `*mut Option<Result<B::Output, TaskError>>`.
        unsafe { *dst.cast::<Option<Result<B::Output, TaskError>>>() = Some(output) };
    }

    unsafe fn on_cancel(task: &RawTask) {
        Self::cell(task).extra.on_cancel();
    }

    /// Frees the allocation. The stage is normally empty by now (the
    /// handle or the completer consumed the output); whatever is left is
    /// dropped here, with panics in it reported.
    unsafe fn dealloc(header: NonNull<Header>) {
        // SAFETY: the reference count is zero: nobody else can reach it.
        let cell = unsafe { Box::from_raw(header.cast::<Cell<B, X>>().as_ptr()) };
        let state = cell.header.state.load();
        let Cell {
            header,
            extra,
            stage,
        } = *cell;
        let mut stage = stage.into_inner();
        let leftover = unwind::catch(|| {
            if !state.is_complete() {
                if !(B::CONSUMED_BY_POLL && state.is_started()) {
                    // SAFETY: before completion, a body that no run consumed
                    // is live.
                    unsafe { ManuallyDrop::drop(&mut stage.body) };
                }
                return None;
            }
            if state.is_consumed() {
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
        let waker = header.waiter.into_inner();
        let payloads = [
            leftover.unwrap_or_else(Some),
            waker.and_then(unwind::drop_caught),
        ];
        for payload in payloads.into_iter().flatten() {
            match &header.pool {
                Some(pool) => pool.report_panic(payload),
                None => report_panic_here(payload),
            }
        }
        drop(extra);
        #[cfg(debug_assertions)]
        if let Some(pool) = &header.pool {
            // ORDERING: Relaxed: as in `allocate`.
            pool.debug_allocations
                .fetch_sub(1, crate::sync::Ordering::Relaxed);
        }
    }
}
