//! The work queues: one shared injector and one deque per worker.
//!
//! Normally these are crossbeam-deque's lock-free [`Injector`], [`Worker`] and
//! [`Stealer`]. crossbeam-deque is not loom-aware: its atomics are invisible
//! to loom, which then reports races that are not there. Under `cfg(loom)`
//! the same names are a lock-protected `VecDeque` with the same interface and
//! the same ends (the owner of a LIFO deque pops the newest job, of a FIFO one
//! the oldest; thieves take the oldest), so a model checks our protocols on
//! top of queues whose every step loom sees.

#[cfg(not(loom))]
pub(crate) use crossbeam_deque::{Injector, Steal, Stealer, Worker};

#[cfg(loom)]
pub(crate) use model::{Injector, Steal, Stealer, Worker};

#[cfg(loom)]
mod model {
    use crate::sync::{Arc, Mutex};
    use std::collections::VecDeque;

    /// The outcome of a steal, as in crossbeam-deque. The model never
    /// reports `Retry`, but callers must handle it for the real queues.
    #[derive(Debug)]
    #[allow(dead_code)]
    pub(crate) enum Steal<T> {
        Empty,
        Success(T),
        Retry,
    }

    impl<T> Steal<T> {
        pub(crate) fn is_success(&self) -> bool {
            matches!(self, Steal::Success(_))
        }
    }

    /// A FIFO queue shared by everyone.
    #[derive(Debug)]
    pub(crate) struct Injector<T>(Mutex<VecDeque<T>>);

    impl<T> Injector<T> {
        pub(crate) fn new() -> Self {
            Self(Mutex::new(VecDeque::new()))
        }

        pub(crate) fn push(&self, item: T) {
            self.0.lock().push_back(item);
        }

        pub(crate) fn steal_batch_and_pop(&self, dest: &Worker<T>) -> Steal<T> {
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

        pub(crate) fn is_empty(&self) -> bool {
            self.0.lock().is_empty()
        }

        pub(crate) fn len(&self) -> usize {
            self.0.lock().len()
        }
    }

    /// The owner's end of a deque: pushes, and pops the newest job (LIFO)
    /// or the oldest (FIFO).
    #[derive(Debug)]
    pub(crate) struct Worker<T> {
        jobs: Arc<Mutex<VecDeque<T>>>,
        fifo: bool,
    }

    /// A thief's end of a deque: takes the oldest job.
    #[derive(Debug)]
    pub(crate) struct Stealer<T>(Arc<Mutex<VecDeque<T>>>);

    impl<T> Clone for Stealer<T> {
        fn clone(&self) -> Self {
            Self(self.0.clone())
        }
    }

    impl<T> Worker<T> {
        pub(crate) fn new_lifo() -> Self {
            Self {
                jobs: Arc::new(Mutex::new(VecDeque::new())),
                fifo: false,
            }
        }

        pub(crate) fn new_fifo() -> Self {
            Self {
                jobs: Arc::new(Mutex::new(VecDeque::new())),
                fifo: true,
            }
        }

        pub(crate) fn stealer(&self) -> Stealer<T> {
            Stealer(self.jobs.clone())
        }

        pub(crate) fn push(&self, item: T) {
            self.jobs.lock().push_back(item);
        }

        pub(crate) fn pop(&self) -> Option<T> {
            let mut jobs = self.jobs.lock();
            if self.fifo {
                jobs.pop_front()
            } else {
                jobs.pop_back()
            }
        }

        pub(crate) fn len(&self) -> usize {
            self.jobs.lock().len()
        }
    }

    impl<T> Stealer<T> {
        pub(crate) fn steal(&self) -> Steal<T> {
            match self.0.lock().pop_front() {
                Some(item) => Steal::Success(item),
                None => Steal::Empty,
            }
        }

        pub(crate) fn steal_batch_and_pop(&self, _dest: &Worker<T>) -> Steal<T> {
            self.steal()
        }

        pub(crate) fn is_empty(&self) -> bool {
            self.0.lock().is_empty()
        }

        pub(crate) fn len(&self) -> usize {
            self.0.lock().len()
        }
    }
}
