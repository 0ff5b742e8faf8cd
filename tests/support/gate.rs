//! Holding jobs back: a [`Gate`] they wait at, and a [`WorkerGate`] that
//! keeps every worker of a pool busy.

use super::hang::{HANG_GUARD, recv_guarded};
use std::sync::mpsc;
use std::sync::{Condvar, Mutex};
use std::time::Instant;
use taskpool::ThreadPool;

/// A gate that jobs wait at until the test opens it.
#[derive(Default)]
pub struct Gate {
    open: Mutex<bool>,
    changed: Condvar,
}

impl Gate {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn open(&self) {
        *self.open.lock().unwrap() = true;
        self.changed.notify_all();
    }

    pub fn is_open(&self) -> bool {
        *self.open.lock().unwrap()
    }

    /// Waits until the gate opens; panics after [`HANG_GUARD`] (inside a job,
    /// that panic reaches the pool, and the test then sees a missing run).
    pub fn wait(&self) {
        let deadline = Instant::now() + HANG_GUARD;
        let mut open = self.open.lock().unwrap();
        while !*open {
            let now = Instant::now();
            assert!(now < deadline, "hang guard: gate never opened");
            open = self.changed.wait_timeout(open, deadline - now).unwrap().0;
        }
    }
}

/// Keeps every worker of a pool busy until [`WorkerGate::open`] (or drop),
/// so that what is spawned meanwhile stays queued, not started.
pub struct WorkerGate {
    releases: Vec<mpsc::Sender<()>>,
}

impl WorkerGate {
    /// Occupies all `threads` workers of `pool`; returns once each of them
    /// is blocked in a gate job.
    pub fn close(pool: &ThreadPool, threads: usize) -> WorkerGate {
        let (started, all_started) = mpsc::channel();
        let mut releases = Vec::with_capacity(threads);
        for _ in 0..threads {
            let (release, wait) = mpsc::channel::<()>();
            releases.push(release);
            let started = started.clone();
            pool.execute(move || {
                started.send(()).unwrap();
                // An error means the gate was dropped: open as well.
                let _ = wait.recv();
            });
        }
        for _ in 0..threads {
            recv_guarded("a gate job starts on every worker", &all_started);
        }
        WorkerGate { releases }
    }

    /// Lets the workers go.
    pub fn open(self) {
        drop(self);
    }
}

impl Drop for WorkerGate {
    fn drop(&mut self) {
        for release in self.releases.drain(..) {
            let _ = release.send(());
        }
    }
}
