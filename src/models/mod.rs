//! loom models of the crate's protocols, run with
//! `RUSTFLAGS="--cfg loom" cargo test --lib --release`
//! (see `.ci/run` for the exact command and bounds).
//!
//! Each model drives the real code: under `cfg(loom)` every atomic, lock and
//! thread comes from loom (`crate::sync`) and the deques are the lock-based
//! stand-ins of `pool/queue.rs`, so loom explores every interleaving of the
//! protocol up to the preemption bound. A lost wake-up shows up as a
//! deadlock (every thread blocked), a double run or a lost result as a
//! failed assertion. Each model notes the bug planted to see it fail.

mod sleep;

use crate::sync::{AtomicBool, Ordering, Parker};

/// A one-shot signal a model's main thread waits on.
#[derive(Debug, Default)]
pub(crate) struct Signal {
    set: AtomicBool,
    parker: Parker,
}

impl Signal {
    pub(crate) fn set(&self) {
        self.set.store(true, Ordering::Release);
        self.parker.unpark();
    }

    pub(crate) fn is_set(&self) -> bool {
        self.set.load(Ordering::Acquire)
    }

    /// Only one thread may wait.
    pub(crate) fn wait(&self) {
        while !self.is_set() {
            self.parker.park();
        }
    }
}
