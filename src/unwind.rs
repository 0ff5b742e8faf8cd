//! The only door through which user panics pass, and the one through which
//! our own broken invariants leave: the process.
//!
//! User code (closures, futures, hooks, `Drop` impls of user values) runs
//! only inside [`catch`]; a payload that nobody wants is dropped through
//! [`drop_payload`], which survives a payload whose own `Drop` panics.
//!
//! A panic in taskpool's own code is a broken invariant, never the user's
//! fault. Where unwinding could free memory another thread still uses (a
//! stack job a thief may hold) or lose bookkeeping (a task's state word, a
//! worker's exit), the stretch is guarded by [`AbortIfPanic`]: such a panic
//! aborts the process with a message naming what broke, instead of reaching
//! a pool's panic handler as if the user had panicked.

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

/// Aborts the process if dropped while armed, that is, if our own code
/// panics between arming and [`disarm`](Self::disarm). The message names the
/// invariant the guarded stretch keeps.
///
/// Disarming is a `mem::forget`: on the path that does not panic the guard
/// costs nothing.
#[must_use = "a guard disarmed at once guards nothing"]
pub(crate) struct AbortIfPanic(pub(crate) &'static str);

impl AbortIfPanic {
    /// The guarded stretch ended without a panic.
    #[inline(always)]
    pub(crate) fn disarm(self) {
        std::mem::forget(self);
    }
}

impl Drop for AbortIfPanic {
    fn drop(&mut self) {
        abort_broken(self.0);
    }
}

/// Prints which invariant of taskpool broke and aborts the process.
#[cold]
pub(crate) fn abort_broken(what: &str) -> ! {
    use std::io::Write;
    // A failed write cannot be reported anywhere: abort all the same.
    let _ = writeln!(
        std::io::stderr(),
        "taskpool: internal invariant broken, aborting: {what}"
    );
    std::process::abort();
}

/// A test-only hook (debug builds only): with `TASKPOOL_TEST_TRIP=<site>` in
/// the environment, our own code panics at the guarded `site`, standing in
/// for a failed internal assertion, so that a test in a child process can
/// see the abort and its message. Sites: `join` (inside a fork-join's
/// guarded stretch on a worker).
#[inline(always)]
pub(crate) fn test_trip(site: &str) {
    #[cfg(debug_assertions)]
    {
        static TRIP: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();
        let trip = TRIP.get_or_init(|| std::env::var("TASKPOOL_TEST_TRIP").ok());
        if trip.as_deref() == Some(site) {
            panic!("TASKPOOL_TEST_TRIP={site}: an internal assertion fails here");
        }
    }
    #[cfg(not(debug_assertions))]
    let _ = site;
}
