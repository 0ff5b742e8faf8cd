//! The one import point for everything that synchronises threads.
//!
//! Atomics, `Arc`, locks, condition variables, threads, thread-locals and
//! `UnsafeCell` all come from here, never from `std` or `parking_lot` directly.
//! Normally they are `std`'s and `parking_lot`'s; under `RUSTFLAGS="--cfg loom"`
//! they are [loom]'s, so the model checker sees every interleaving of the code
//! that uses them. The wrappers below give both worlds the same small API:
//! locks that do not poison (`lock()` returns the guard), and an `UnsafeCell`
//! reached only through `with` / `with_mut`, as loom requires.
//!
//! [loom]: https://docs.rs/loom

pub(crate) use imp::*;

/// For `static`s only, which loom cannot model (its types are not
/// `const`-constructible, and a static outlives a model's iterations): the
/// global pool's one-time set-up. Code that a model runs never touches them.
pub(crate) use std::sync::{Mutex as StaticMutex, OnceLock};

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

#[cfg(not(loom))]
mod imp {
    pub(crate) use parking_lot::{Condvar, Mutex, MutexGuard};
    pub(crate) use std::sync::Arc;
    pub(crate) use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering, fence};
    pub(crate) use std::thread;
    pub(crate) use std::thread_local;

    /// `std::cell::UnsafeCell` behind loom's closure-based accessors.
    #[derive(Debug, Default)]
    pub(crate) struct UnsafeCell<T: ?Sized>(std::cell::UnsafeCell<T>);

    impl<T> UnsafeCell<T> {
        pub(crate) const fn new(value: T) -> Self {
            Self(std::cell::UnsafeCell::new(value))
        }

        pub(crate) fn into_inner(self) -> T {
            self.0.into_inner()
        }
    }

    impl<T: ?Sized> UnsafeCell<T> {
        #[inline(always)]
        pub(crate) fn with<R>(&self, f: impl FnOnce(*const T) -> R) -> R {
            f(self.0.get())
        }

        #[inline(always)]
        pub(crate) fn with_mut<R>(&self, f: impl FnOnce(*mut T) -> R) -> R {
            f(self.0.get())
        }
    }
}

#[cfg(loom)]
mod imp {
    pub(crate) use loom::cell::UnsafeCell;
    pub(crate) use loom::sync::Arc;
    pub(crate) use loom::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering, fence};
    pub(crate) use loom::thread;
    pub(crate) use loom::thread_local;

    use std::ops::{Deref, DerefMut};

    /// loom's mutex with `parking_lot`'s non-poisoning API.
    #[derive(Debug, Default)]
    pub(crate) struct Mutex<T>(loom::sync::Mutex<T>);

    /// Guard of [`Mutex`]; the `Option` lets [`Condvar::wait`] hand the inner
    /// guard to loom and take it back.
    #[derive(Debug)]
    pub(crate) struct MutexGuard<'a, T>(Option<loom::sync::MutexGuard<'a, T>>);

    impl<T> Mutex<T> {
        pub(crate) fn new(value: T) -> Self {
            Self(loom::sync::Mutex::new(value))
        }

        pub(crate) fn lock(&self) -> MutexGuard<'_, T> {
            MutexGuard(Some(self.0.lock().unwrap_or_else(|e| e.into_inner())))
        }
    }

    impl<T> Deref for MutexGuard<'_, T> {
        type Target = T;
        fn deref(&self) -> &T {
            self.0
                .as_ref()
                .expect("guard present outside Condvar::wait")
        }
    }

    impl<T> DerefMut for MutexGuard<'_, T> {
        fn deref_mut(&mut self) -> &mut T {
            self.0
                .as_mut()
                .expect("guard present outside Condvar::wait")
        }
    }

    /// loom's condition variable with `parking_lot`'s API. loom never times
    /// out, so `wait_for` behaves like `wait` in a model.
    #[derive(Debug, Default)]
    pub(crate) struct Condvar(loom::sync::Condvar);

    impl Condvar {
        pub(crate) fn new() -> Self {
            Self(loom::sync::Condvar::new())
        }

        pub(crate) fn wait<T>(&self, guard: &mut MutexGuard<'_, T>) {
            let inner = guard.0.take().expect("guard present");
            guard.0 = Some(self.0.wait(inner).unwrap_or_else(|e| e.into_inner()));
        }

        /// Unlike `parking_lot`'s, returns nothing: no caller asks whether
        /// the wait timed out.
        pub(crate) fn wait_for<T>(
            &self,
            guard: &mut MutexGuard<'_, T>,
            _timeout: std::time::Duration,
        ) {
            self.wait(guard);
        }

        pub(crate) fn notify_one(&self) -> bool {
            self.0.notify_one();
            true
        }

        pub(crate) fn notify_all(&self) -> usize {
            self.0.notify_all();
            0
        }
    }
}
