//! The only door through which user panics pass.
//!
//! User code (closures, futures, hooks, `Drop` impls of user values) runs
//! only inside [`catch`]; a payload that nobody wants is dropped through
//! [`drop_payload`], which survives a payload whose own `Drop` panics.

use std::any::Any;
use std::panic::{self, AssertUnwindSafe};

/// A caught panic.
pub(crate) type Payload = Box<dyn Any + Send + 'static>;

/// Runs `f`, turning a panic into `Err(payload)`.
///
/// Callers assert unwind safety: after a panic they only drop or report what
/// `f` touched, never use it as if `f` had finished.
#[inline(always)]
pub(crate) fn catch<R>(f: impl FnOnce() -> R) -> Result<R, Payload> {
    panic::catch_unwind(AssertUnwindSafe(f))
}

/// Drops a value whose `Drop` is user code, containing a panic in it.
/// Returns the panic's payload, if there was one.
pub(crate) fn drop_caught<T>(value: T) -> Option<Payload> {
    catch(move || drop(value)).err()
}

/// Drops a panic payload nobody will look at. A payload is user data: its
/// `Drop` may panic too, and so on; past the second level it is leaked
/// rather than risk unwinding out of a worker.
pub(crate) fn drop_payload(payload: Payload) {
    if let Some(second) = drop_caught(payload) {
        if let Some(third) = drop_caught(second) {
            std::mem::forget(third);
        }
    }
}

/// The text of a panic payload, for `&str` and `String` payloads.
pub(crate) fn payload_message(payload: &(dyn Any + Send)) -> Option<&str> {
    if let Some(text) = payload.downcast_ref::<&'static str>() {
        Some(text)
    } else {
        payload.downcast_ref::<String>().map(String::as_str)
    }
}
