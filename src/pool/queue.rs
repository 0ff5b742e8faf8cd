//! The work queues: two shared ones (the injector, for new outside work, and
//! the woken queue, for tasks woken from outside) and three per worker (its
//! deque, its inbox and its later queue; see `worker.rs` for their order).
//!
//! Normally these are crossbeam-deque's lock-free [`Injector`], [`Worker`] and
//! [`Stealer`]. crossbeam-deque is not loom-aware: its atomics are invisible
//! to loom, which then reports races that are not there. Under `cfg(loom)`
//! the same names are stand-ins with the same interface and the same ends
//! (the owner of a LIFO deque pops the newest job, of a FIFO one the oldest;
//! thieves take the oldest), so a model checks our protocols on top of
//! queues whose every step loom sees:
//!
//! * the injector and the woken queue are a lock-protected `VecDeque`;
//! * a worker's deque is a Chase-Lev deque whose two indices are loom
//!   atomics read and written with crossbeam-deque's orderings and fences
//!   (0.8: `push`, `pop`, `steal`, `is_empty`, `len`). A lock would
//!   synchronise a pusher with every later reader and so hide a missing
//!   fence in the sleep protocol (issue 10: removing the fence of
//!   `SleepState::notify_pushed_locally` survived every model while this was a
//!   mutex). The jobs themselves sit in a `std` mutex that loom does not
//!   see, indexed by those atomics, so which thread gets which job, and
//!   what it may see of it, is decided by the atomics alone, as in
//!   crossbeam.

#[cfg(not(loom))]
pub(super) use crossbeam_deque::{Injector, Steal, Stealer, Worker};

#[cfg(loom)]
pub(super) use model::{Injector, Steal, Stealer, Worker};

#[cfg(loom)]
mod model {
    use crate::sync::{Arc, Mutex, Ordering, fence};
    use loom::sync::atomic::AtomicIsize;
    use std::collections::VecDeque;

    /// The outcome of a steal, as in crossbeam-deque: a deque's thief
    /// reports `Retry` when it loses the race for a job.
    #[derive(Debug)]
    pub(in crate::pool) enum Steal<T> {
        Empty,
        Success(T),
        Retry,
    }

    impl<T> Steal<T> {
        pub(in crate::pool) fn is_success(&self) -> bool {
            matches!(self, Steal::Success(_))
        }
    }

    /// A FIFO queue shared by everyone.
    #[derive(Debug)]
    pub(in crate::pool) struct Injector<T>(Mutex<VecDeque<T>>);

    impl<T> Injector<T> {
        pub(in crate::pool) fn new() -> Self {
            Self(Mutex::new(VecDeque::new()))
        }

        pub(in crate::pool) fn push(&self, item: T) {
            self.0.lock().push_back(item);
        }

        pub(in crate::pool) fn steal(&self) -> Steal<T> {
            match self.0.lock().pop_front() {
                Some(item) => Steal::Success(item),
                None => Steal::Empty,
            }
        }

        pub(in crate::pool) fn steal_batch_and_pop(&self, dest: &Worker<T>) -> Steal<T> {
            let mut source = self.0.lock();
            let Some(first) = source.pop_front() else {
                return Steal::Empty;
            };
            // Move one more job, so batching is exercised in models too.
            if let Some(second) = source.pop_front() {
                dest.push(second);
            }
            Steal::Success(first)
        }

        pub(in crate::pool) fn is_empty(&self) -> bool {
            self.0.lock().is_empty()
        }

        pub(in crate::pool) fn len(&self) -> usize {
            self.0.lock().len()
        }
    }

    /// The slots of a deque: a job per index, in a `std` mutex that loom
    /// does not model (loom runs one thread at a time, and no loom
    /// operation happens while it is held, so it never blocks). Only the
    /// atomic indices order anything.
    #[derive(Debug)]
    struct Deque<T> {
        front: AtomicIsize,
        back: AtomicIsize,
        slots: std::sync::Mutex<std::collections::BTreeMap<isize, T>>,
    }

    impl<T> Deque<T> {
        fn put(&self, index: isize, job: T) {
            let old = self.slots.lock().unwrap().insert(index, job);
            assert!(old.is_none(), "deque slot {index} written twice");
        }

        /// The job at `index`, which the caller has claimed.
        fn take(&self, index: isize) -> T {
            self.slots
                .lock()
                .unwrap()
                .remove(&index)
                .unwrap_or_else(|| panic!("deque slot {index} claimed but empty"))
        }

        /// crossbeam-deque's `Stealer::is_empty` and `len`.
        fn stolen_len(&self) -> isize {
            // ORDERING: crossbeam's: Acquire, a SeqCst fence, Acquire. The
            // fence pairs with the one of a sleeper's recheck or a pusher.
            let front = self.front.load(Ordering::Acquire);
            fence(Ordering::SeqCst);
            let back = self.back.load(Ordering::Acquire);
            back.wrapping_sub(front)
        }
    }

    /// The owner's end of a deque: pushes, and pops the newest job (LIFO)
    /// or the oldest (FIFO).
    #[derive(Debug)]
    pub(in crate::pool) struct Worker<T> {
        deque: Arc<Deque<T>>,
        fifo: bool,
    }

    /// A thief's end of a deque: takes the oldest job.
    #[derive(Debug)]
    pub(in crate::pool) struct Stealer<T>(Arc<Deque<T>>);

    impl<T> Clone for Stealer<T> {
        fn clone(&self) -> Self {
            Self(self.0.clone())
        }
    }

    impl<T> Worker<T> {
        fn with_flavor(fifo: bool) -> Self {
            Self {
                deque: Arc::new(Deque {
                    front: AtomicIsize::new(0),
                    back: AtomicIsize::new(0),
                    slots: Default::default(),
                }),
                fifo,
            }
        }

        pub(in crate::pool) fn new_lifo() -> Self {
            Self::with_flavor(false)
        }

        pub(in crate::pool) fn new_fifo() -> Self {
            Self::with_flavor(true)
        }

        pub(in crate::pool) fn stealer(&self) -> Stealer<T> {
            Stealer(self.deque.clone())
        }

        /// crossbeam-deque's `Worker::push` (without the resize).
        pub(in crate::pool) fn push(&self, item: T) {
            let deque = &*self.deque;
            // ORDERING: crossbeam's. Relaxed: only the owner writes `back`.
            let back = deque.back.load(Ordering::Relaxed);
            // ORDERING: crossbeam's Acquire (for its capacity check).
            let _front = deque.front.load(Ordering::Acquire);
            deque.put(back, item);
            // ORDERING: crossbeam's: a Release fence and a Release store
            // publish the job to a thief that reads the new `back`. There is
            // no SeqCst fence: a pusher that must not miss a sleeper fences
            // itself (`SleepState::notify_pushed_locally`).
            fence(Ordering::Release);
            deque.back.store(back.wrapping_add(1), Ordering::Release);
        }

        /// crossbeam-deque's `Worker::pop`, both flavors.
        pub(in crate::pool) fn pop(&self) -> Option<T> {
            let deque = &*self.deque;
            // ORDERING: crossbeam's, here and below.
            let back = deque.back.load(Ordering::Relaxed);
            let front = deque.front.load(Ordering::Relaxed);
            if back.wrapping_sub(front) <= 0 {
                return None;
            }
            if self.fifo {
                let front = deque.front.fetch_add(1, Ordering::SeqCst);
                if back.wrapping_sub(front.wrapping_add(1)) < 0 {
                    deque.front.store(front, Ordering::Relaxed);
                    return None;
                }
                return Some(deque.take(front));
            }
            let back = back.wrapping_sub(1);
            deque.back.store(back, Ordering::Relaxed);
            fence(Ordering::SeqCst);
            let front = deque.front.load(Ordering::Relaxed);
            let len = back.wrapping_sub(front);
            if len < 0 {
                deque.back.store(back.wrapping_add(1), Ordering::Relaxed);
                return None;
            }
            if len > 0 {
                return Some(deque.take(back));
            }
            // The last job: race the thieves for it.
            let won = deque
                .front
                .compare_exchange(
                    front,
                    front.wrapping_add(1),
                    Ordering::SeqCst,
                    Ordering::Relaxed,
                )
                .is_ok();
            deque.back.store(back.wrapping_add(1), Ordering::Relaxed);
            won.then(|| deque.take(back))
        }

        /// crossbeam-deque's `Worker::len`.
        pub(in crate::pool) fn len(&self) -> usize {
            // ORDERING: crossbeam's.
            let back = self.deque.back.load(Ordering::Relaxed);
            let front = self.deque.front.load(Ordering::SeqCst);
            back.wrapping_sub(front).max(0) as usize
        }
    }

    impl<T> Stealer<T> {
        /// crossbeam-deque's `Stealer::steal` (the epoch pin's fence made
        /// explicit).
        pub(in crate::pool) fn steal(&self) -> Steal<T> {
            let deque = &*self.0;
            // ORDERING: crossbeam's, as in `Deque::stolen_len`, then a
            // SeqCst compare-exchange that claims the job.
            let front = deque.front.load(Ordering::Acquire);
            fence(Ordering::SeqCst);
            let back = deque.back.load(Ordering::Acquire);
            if back.wrapping_sub(front) <= 0 {
                return Steal::Empty;
            }
            match deque.front.compare_exchange(
                front,
                front.wrapping_add(1),
                Ordering::SeqCst,
                Ordering::Relaxed,
            ) {
                Ok(_) => Steal::Success(deque.take(front)),
                Err(_) => Steal::Retry,
            }
        }

        pub(in crate::pool) fn steal_batch_and_pop(&self, _dest: &Worker<T>) -> Steal<T> {
            self.steal()
        }

        pub(in crate::pool) fn is_empty(&self) -> bool {
            self.0.stolen_len() <= 0
        }

        pub(in crate::pool) fn len(&self) -> usize {
            self.0.stolen_len().max(0) as usize
        }
    }
}
