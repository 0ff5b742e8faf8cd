//! Wakers of async tasks: the data pointer is the task's header, and each
//! `Waker` holds one counted reference. A wake-up queues the same task
//! allocation again: nothing is allocated per wake-up.

use super::raw::{Header, RawTask};
use super::state::Notified;
use crate::pool::Submit;
use std::mem::ManuallyDrop;
use std::ptr::NonNull;
use std::task::{RawWaker, RawWakerVTable, Waker};

/// A waker for `task` that borrows the caller's reference (no count change);
/// valid while `task` is.
/// A waker borrowing the caller's reference to the task at `header`.
pub(super) fn waker_ref(header: NonNull<Header>) -> ManuallyDrop<Waker> {
    let raw = RawWaker::new(header.as_ptr().cast_const().cast(), waker_vtable());
    // SAFETY: the vtable's functions uphold the `RawWaker` contract for a
    // header pointer; wrapping in `ManuallyDrop` keeps this borrowed waker
    // from releasing a reference it never took.
    ManuallyDrop::new(unsafe { Waker::from_raw(raw) })
}

fn waker_vtable() -> &'static RawWakerVTable {
    &WAKER_VTABLE
}

static WAKER_VTABLE: RawWakerVTable =
    RawWakerVTable::new(waker_clone, waker_wake, waker_wake_by_ref, waker_drop);

/// # Safety
///
/// `data` is a task header; the caller lends one reference.
unsafe fn borrowed(data: *const ()) -> ManuallyDrop<RawTask> {
    // SAFETY: forwarded; `ManuallyDrop` keeps us from releasing it.
    ManuallyDrop::new(unsafe { RawTask::from_raw(NonNull::new_unchecked(data.cast_mut().cast())) })
}

unsafe fn waker_clone(data: *const ()) -> RawWaker {
    // SAFETY: the waker being cloned holds a reference.
    let task = unsafe { borrowed(data) };
    task.state().ref_inc();
    RawWaker::new(data, waker_vtable())
}

unsafe fn waker_wake(data: *const ()) {
    // SAFETY: waking by value consumes the waker's reference.
    let task = unsafe { RawTask::from_raw(NonNull::new_unchecked(data.cast_mut().cast())) };
    notify(&task);
}

unsafe fn waker_wake_by_ref(data: *const ()) {
    // SAFETY: the waker holds a reference for the duration of the call.
    let task = unsafe { borrowed(data) };
    notify(&task);
}

unsafe fn waker_drop(data: *const ()) {
    // SAFETY: dropping the waker releases its reference.
    drop(unsafe { RawTask::from_raw(NonNull::new_unchecked(data.cast_mut().cast())) });
}

/// A wake-up: queue the task if it is idle.
fn notify(task: &RawTask) {
    match task.state().transition_to_notified() {
        Notified::Submit => {
            // SAFETY: `transition_to_notified` added a reference for the
            // queue entry; this `RawTask` is it.
            let entry = unsafe { RawTask::from_raw(task.header_ptr()) };
            entry.schedule(Submit::Wake);
        }
        Notified::Nothing => {}
    }
}
