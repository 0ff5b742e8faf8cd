//! Values that count their drops: [`DropCounter`] and [`Tracked`].

use super::panics::EXPECTED;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Counts how many [`Tracked`] values made from it were dropped (and how
/// many were made).
#[derive(Clone, Default)]
pub struct DropCounter {
    made: Arc<AtomicUsize>,
    drops: Arc<AtomicUsize>,
}

impl DropCounter {
    pub fn new() -> Self {
        Self::default()
    }

    /// A new value that counts its drop here.
    pub fn track(&self) -> Tracked {
        self.made.fetch_add(1, Ordering::SeqCst);
        Tracked {
            drops: self.drops.clone(),
            panic_with: None,
        }
    }

    /// A new value that counts its drop here and then panics in its `Drop`
    /// with a message starting with [`EXPECTED`].
    pub fn track_panicking(&self) -> Tracked {
        self.track_panicking_with(DROP_PANIC)
    }

    /// A new value that counts its drop here and then panics in its `Drop`
    /// with `message` (unless the thread is already unwinding).
    pub fn track_panicking_with(&self, message: &'static str) -> Tracked {
        self.made.fetch_add(1, Ordering::SeqCst);
        Tracked {
            drops: self.drops.clone(),
            panic_with: Some(message),
        }
    }

    pub fn made(&self) -> usize {
        self.made.load(Ordering::SeqCst)
    }

    pub fn drops(&self) -> usize {
        self.drops.load(Ordering::SeqCst)
    }

    /// Panics unless every value made was dropped, exactly once each in
    /// total; `when` names the moment in the message.
    pub fn assert_all_dropped(&self, when: &str) {
        let (made, drops) = (self.made(), self.drops());
        assert_eq!(made, drops, "{when}: {made} values made, {drops} dropped");
    }
}

/// The message of [`DropCounter::track_panicking`]: [`EXPECTED`], then
/// where the panic comes from.
const DROP_PANIC: &str = "expected panic: in Tracked::drop";

/// A value that counts its drop in a [`DropCounter`].
#[derive(Debug)]
pub struct Tracked {
    drops: Arc<AtomicUsize>,
    panic_with: Option<&'static str>,
}

impl Tracked {
    /// Uses the value, so a closure must capture it.
    pub fn touch(&self) {}
}

impl Drop for Tracked {
    fn drop(&mut self) {
        self.drops.fetch_add(1, Ordering::SeqCst);
        if let Some(message) = self.panic_with.filter(|_| !std::thread::panicking()) {
            panic!("{message}");
        }
    }
}
