//! Hand-made wakers: [`CountingWaker`] counts its wake-ups, and may panic
//! in them.

use super::drops::Tracked;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::Wake;

/// A waker that counts its wake-ups; a panicking one then panics with its
/// message, and it may hold a [`Tracked`] value to show when it is dropped.
#[derive(Default)]
pub struct CountingWaker {
    wakes: AtomicUsize,
    panic_with: Option<&'static str>,
    _held: Option<Tracked>,
}

impl CountingWaker {
    pub fn new() -> Arc<Self> {
        Arc::default()
    }

    /// A waker whose every wake-up is counted and then panics with
    /// `message`; `held` is dropped with the waker.
    pub fn panicking(message: &'static str, held: Option<Tracked>) -> Arc<Self> {
        Arc::new(CountingWaker {
            wakes: AtomicUsize::new(0),
            panic_with: Some(message),
            _held: held,
        })
    }

    /// How many times it was woken.
    pub fn wakes(&self) -> usize {
        self.wakes.load(Ordering::SeqCst)
    }
}

impl Wake for CountingWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.wakes.fetch_add(1, Ordering::SeqCst);
        if let Some(message) = self.panic_with {
            panic!("{message}");
        }
    }
}
