//! Wakers of async tasks: the data pointer is the task's header, the
//! `RawWakerVTable` is one per task type (so a waker knows the task's
//! operations, which the header does not hold), and each `Waker` holds one
//! counted reference. A wake-up queues the same task allocation again:
//! nothing is allocated per wake-up.

use super::harness::Harness;
use super::raw::{Body, Extra, Header, RawTask};
use super::state::Notified;
use crate::pool::Submit;
use std::marker::PhantomData;
use std::mem::ManuallyDrop;
use std::ptr::NonNull;
use std::task::{RawWaker, RawWakerVTable, Waker};

/// A waker borrowing the caller's reference to the task at `header`, a
/// `Cell<B, X>` (no count change); valid while that reference is.
pub(super) fn waker_ref<B: Body, X: Extra>(header: NonNull<Header>) -> ManuallyDrop<Waker> {
    let raw = RawWaker::new(
        header.as_ptr().cast_const().cast(),
        WakerOps::<B, X>::vtable(),
    );
    // SAFETY: the vtable's functions uphold the `RawWaker` contract for the
    // header of a `Cell<B, X>`; wrapping in `ManuallyDrop` keeps this
    // borrowed waker from releasing a reference it never took.
    ManuallyDrop::new(unsafe { Waker::from_raw(raw) })
}

/// The waker functions of a `Cell<B, X>` task. Each is called on a data
/// pointer made by `waker_ref::<B, X>` (or cloned from one): the header of
/// a live `Cell<B, X>`.
struct WakerOps<B, X>(PhantomData<fn() -> (B, X)>);

impl<B: Body, X: Extra> WakerOps<B, X> {
    const VTABLE: RawWakerVTable =
        RawWakerVTable::new(Self::clone, Self::wake, Self::wake_by_ref, Self::drop);

    fn vtable() -> &'static RawWakerVTable {
        &Self::VTABLE
    }

    /// # Safety
    ///
    /// `data` is the header of a `Cell<B, X>`, and the caller gives up one
    /// reference it held (or lends it, wrapping the result in
    /// `ManuallyDrop`).
    unsafe fn task(data: *const ()) -> RawTask {
        // SAFETY: forwarded: a non-null header of a task of this type.
        unsafe {
            RawTask::from_raw(
                NonNull::new_unchecked(data.cast_mut().cast()),
                Harness::<B, X>::vtable(),
            )
        }
    }

    unsafe fn clone(data: *const ()) -> RawWaker {
        // SAFETY: the waker being cloned holds a reference, lent here.
        let task = ManuallyDrop::new(unsafe { Self::task(data) });
        task.state().ref_inc();
        RawWaker::new(data, Self::vtable())
    }

    unsafe fn wake(data: *const ()) {
        // SAFETY: waking by value consumes the waker's reference.
        let task = unsafe { Self::task(data) };
        notify(&task);
    }

    unsafe fn wake_by_ref(data: *const ()) {
        // SAFETY: the waker holds a reference for the duration of the call.
        let task = ManuallyDrop::new(unsafe { Self::task(data) });
        notify(&task);
    }

    unsafe fn drop(data: *const ()) {
        // SAFETY: dropping the waker releases its reference.
        drop(unsafe { Self::task(data) });
    }
}

/// A wake-up: queue the task if it is idle.
fn notify(task: &RawTask) {
    match task.state().transition_to_notified() {
        Notified::Submit => {
            // SAFETY: `transition_to_notified` counted a reference for the
            // queue entry; this `RawTask` is it.
            unsafe { task.clone_counted() }.schedule(Submit::Wake);
        }
        Notified::Nothing => {}
    }
}
