//! A one-token parker, built from the types of [`crate::sync`] so that loom
//! sees it sleep and wake.

use super::{AtomicUsize, Ordering};
#[cfg(loom)]
use super::{Condvar, Mutex};
#[cfg(not(loom))]
use super::{OnceLock, thread};

/// A one-token parker: [`Parker::park`] returns once [`Parker::unpark`] has
/// been called at least once since the last `park` returned.
///
/// Several `unpark`s before one `park` collapse into one token; a `park`
/// without a token blocks. Only one thread, the parker's owner, parks on it,
/// and for one wait at a time: a token goes to whichever `park` takes it, so
/// two waits nested on one thread need a parker each (`pool/park.rs`).
/// A new parker also works in a `thread_local!` destructor: it keeps its
/// owner's handle itself, from `std::thread::current`, which works in every
/// `thread_local!` destructor since Rust 1.84 (this crate needs 1.85).
/// Normally it sleeps in `std::thread::park` (a futex: the cheapest wake-up
/// there is); under loom, on a mutex and condition variable the model sees.
#[derive(Debug, Default)]
pub(crate) struct Parker {
    state: AtomicUsize,
    #[cfg(not(loom))]
    owner: OnceLock<thread::Thread>,
    #[cfg(loom)]
    lock: Mutex<()>,
    #[cfg(loom)]
    condvar: Condvar,
}

const EMPTY: usize = 0;
const PARKED: usize = 1;
const NOTIFIED: usize = 2;

impl Parker {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// Consumes the token if there is one.
    fn take_token(&self) -> bool {
        // ORDERING: Acquire pairs with the Release swap in `unpark`, so what
        // the unparker wrote before unparking is visible after we return.
        self.state
            .compare_exchange(NOTIFIED, EMPTY, Ordering::Acquire, Ordering::Relaxed)
            .is_ok()
    }

    /// Blocks until a token is available, then consumes it.
    pub(crate) fn park(&self) {
        self.park_until(None);
    }

    /// Blocks until a token is available or `timeout` passed; consumes the
    /// token if there is one. Returns `true` if it did.
    pub(crate) fn park_timeout(&self, timeout: std::time::Duration) -> bool {
        self.park_until(std::time::Instant::now().checked_add(timeout))
    }

    #[cfg(not(loom))]
    fn park_until(&self, deadline: Option<std::time::Instant>) -> bool {
        if self.take_token() {
            return true;
        }
        self.owner.get_or_init(thread::current);
        // ORDERING: AcqRel: publishes the owner's handle to the unparker
        // that reads PARKED; acquires a token that arrived meanwhile.
        if let Err(NOTIFIED) =
            self.state
                .compare_exchange(EMPTY, PARKED, Ordering::AcqRel, Ordering::Acquire)
        {
            self.state.store(EMPTY, Ordering::Relaxed);
            return true;
        }
        loop {
            match deadline {
                None => thread::park(),
                Some(deadline) => {
                    let now = std::time::Instant::now();
                    if now >= deadline {
                        // Give up, unless the token arrived at the last moment.
                        // ORDERING: as in `take_token`.
                        return self.state.swap(EMPTY, Ordering::Acquire) == NOTIFIED;
                    }
                    thread::park_timeout(deadline - now);
                }
            }
            // `thread::park` also returns spuriously, or for someone else's
            // `unpark` of this thread: only our token counts.
            if self.take_token() {
                return true;
            }
        }
    }

    /// Makes the token available, waking the parked owner if there is one.
    #[cfg(not(loom))]
    pub(crate) fn unpark(&self) {
        // ORDERING: Release pairs with the Acquire in `take_token`; Acquire
        // reads the owner's handle published with PARKED.
        if self.state.swap(NOTIFIED, Ordering::AcqRel) == PARKED {
            if let Some(owner) = self.owner.get() {
                owner.unpark();
            }
        }
    }

    #[cfg(loom)]
    fn park_until(&self, _deadline: Option<std::time::Instant>) -> bool {
        // loom's condition variable never times out: a model never relies
        // on a timeout.
        if self.take_token() {
            return true;
        }
        let mut guard = self.lock.lock();
        // ORDERING: Relaxed: under the lock that `unpark` also takes before
        // it notifies; the token's own Acquire is the swap below.
        match self
            .state
            .compare_exchange(EMPTY, PARKED, Ordering::Relaxed, Ordering::Relaxed)
        {
            Ok(_) => {}
            Err(NOTIFIED) => {
                // ORDERING: as in `take_token`.
                self.state.swap(EMPTY, Ordering::Acquire);
                return true;
            }
            Err(other) => unreachable!("parker in state {other} while its owner parks"),
        }
        loop {
            self.condvar.wait(&mut guard);
            if self.take_token() {
                return true;
            }
        }
    }

    #[cfg(loom)]
    pub(crate) fn unpark(&self) {
        // ORDERING: Release pairs with the Acquire in `take_token`.
        if self.state.swap(NOTIFIED, Ordering::Release) == PARKED {
            // Taking the lock orders this notify after the owner's `wait`
            // began: the owner set PARKED while holding it.
            drop(self.lock.lock());
            self.condvar.notify_one();
        }
    }
}
