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
//! The one-token [`Parker`] that blocking waits sleep on is built from these
//! same types, in `parker.rs`.
//!
//! [loom]: https://docs.rs/loom

mod parker;

pub(crate) use imp::*;
pub(crate) use parker::Parker;

/// For `static`s only, which loom cannot model (its types are not
/// `const`-constructible, and a static outlives a model's iterations): the
/// global pool's one-time set-up. Code that a model runs never touches them.
pub(crate) use std::sync::{Mutex as StaticMutex, OnceLock};

#[cfg(not(loom))]
mod imp {
    pub(crate) use parking_lot::{Condvar, Mutex, MutexGuard};
    pub(crate) use std::sync::Arc;
    pub(crate) use std::sync::atomic::{
        AtomicBool, AtomicPtr, AtomicU64, AtomicUsize, Ordering, fence,
    };
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
    pub(crate) use loom::sync::atomic::{
        AtomicBool, AtomicPtr, AtomicU64, AtomicUsize, Ordering, fence,
    };
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
