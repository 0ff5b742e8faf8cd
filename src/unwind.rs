//! The only door through which user panics pass, and the one through which
//! our own broken invariants leave: the process.
//!
//! User code (closures, futures, hooks, `Drop` impls of user values) runs
//! only inside [`catch`]; a payload that nobody wants is dropped through
//! [`drop_payload`], which survives a payload whose own `Drop` panics; one
//! that belongs to the pool's panic handler goes through
//! [`report_panic_here`].
//!
//! A panic in taskpool's own code is a broken invariant, never the user's
//! fault. Where unwinding could free memory another thread still uses (a
//! stack job a thief may hold) or lose bookkeeping (a task's state word, a
//! worker's exit), the stretch is guarded by [`AbortIfPanic`]: such a panic
//! aborts the process with a message naming what broke, instead of reaching
//! a pool's panic handler as if the user had panicked.

use crate::pool::WorkerThread;
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

/// Reports a panic nobody will see returned (a task's, a cancellation
/// callback's) to the current worker's pool's panic handler, or drops it
/// off the pool.
pub(crate) fn report_panic_here(payload: Payload) {
    let unreported = WorkerThread::with_current(|worker| match worker {
        Some(worker) => {
            worker.registry().report_panic(payload);
            None
        }
        None => Some(payload),
    });
    if let Some(payload) = unreported {
        drop_payload(payload);
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

/// Aborts the process if dropped: arm it where unwinding out of taskpool's
/// own code would break an invariant another thread relies on (free memory
/// it still uses, or lose a worker's bookkeeping), and
/// [`disarm`](Self::disarm) it once past that stretch.
///
/// Only a panic in our own code can drop it armed: user code inside the
/// stretch runs under [`catch`]. The message names the invariant that broke;
/// it goes to stderr before the abort (after the panic hook printed the
/// panic itself), so a failed internal assertion never reaches the user's
/// panic handler as if the user had panicked.
///
/// ```ignore
/// let guard = AbortIfPanic("a job on the stack must outlive its thief");
/// run_our_own_code(); // a panic here aborts with that message
/// guard.disarm();
/// ```
///
/// Like rayon-core's `AbortIfPanic`, it aborts on any drop, not only while
/// panicking: a path that forgets to disarm it fails at once in tests, and a
/// guard made inside a `Drop` that runs during unwinding still works.
#[derive(Debug)]
#[must_use = "dropping the guard aborts the process; disarm it at the end of the stretch"]
pub(crate) struct AbortIfPanic(pub(crate) &'static str);

impl AbortIfPanic {
    /// Ends the guarded stretch: nothing panicked.
    #[inline(always)]
    pub(crate) fn disarm(self) {
        std::mem::forget(self);
    }
}

impl Drop for AbortIfPanic {
    fn drop(&mut self) {
        abort(self.0);
    }
}

/// Aborts the process because one of taskpool's own invariants broke,
/// printing `invariant` to stderr first. Never unwinds: no user panic
/// handler or `catch_unwind` sees it.
#[cold]
#[inline(never)]
pub(crate) fn abort(invariant: &str) -> ! {
    use std::io::Write;
    // One write of the whole line: the panic hook of another thread writes
    // to stderr without taking its lock, and must not land inside ours. A
    // failed write (stderr closed) must not keep us from aborting.
    let line = format!("taskpool: internal invariant broken, aborting: {invariant}\n");
    let _ = std::io::stderr().write_all(line.as_bytes());
    std::process::abort()
}

/// A test-only hook (debug builds only): with `TASKPOOL_TEST_TRIP=<site>` in
/// the environment, our own code panics at the guarded `site`, standing in
/// for a failed internal assertion, so that a test in a child process can
/// see the abort and its message. Sites: `join` (inside a fork-join's
/// guarded stretch on a worker), `worker_exit` (a worker's exit
/// bookkeeping, after its main loop).
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
