//! Helpers shared by the level-2 test files (`tests/task_*.rs`,
//! `tests/async_*.rs`, `tests/cancel_*.rs`, `tests/join_*.rs`).
//!
//! Every wait here is bounded by [`HANG_GUARD`]. That is not a timing
//! assertion: it only turns a hang (a lost wake-up, a deadlock, a task that
//! never ends) into a failure with a message instead of a stuck suite.

// Each test file uses only some of these helpers.
#![allow(dead_code)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, Once};
use std::time::{Duration, Instant};
use taskpool::{Task, TaskError, ThreadPool};

/// How long any wait in these tests may take before it counts as a hang.
pub const HANG_GUARD: Duration = Duration::from_secs(if cfg!(miri) { 600 } else { 60 });

/// Marks the panics the tests raise on purpose; the panic hook installed by
/// [`quiet_expected_panics`] does not print them.
pub const EXPECTED: &str = "expected panic";

/// `big` normally, `small` under Miri.
pub const fn size(big: usize, small: usize) -> usize {
    if cfg!(miri) { small } else { big }
}

/// Hides the message of every panic whose text starts with [`EXPECTED`];
/// every other panic is printed as usual. Installed once per test binary.
pub fn quiet_expected_panics() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let payload = info.payload();
            let text = payload
                .downcast_ref::<&str>()
                .copied()
                .or_else(|| payload.downcast_ref::<String>().map(String::as_str));
            if !text.is_some_and(|text| text.starts_with(EXPECTED)) {
                default(info);
            }
        }));
    });
}

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
            panic_on_drop: false,
        }
    }

    /// A new value that counts its drop here and then panics in its `Drop`.
    pub fn track_panicking(&self) -> Tracked {
        self.made.fetch_add(1, Ordering::SeqCst);
        Tracked {
            drops: self.drops.clone(),
            panic_on_drop: true,
        }
    }

    pub fn made(&self) -> usize {
        self.made.load(Ordering::SeqCst)
    }

    pub fn drops(&self) -> usize {
        self.drops.load(Ordering::SeqCst)
    }
}

/// A value that counts its drop in a [`DropCounter`].
#[derive(Debug)]
pub struct Tracked {
    drops: Arc<AtomicUsize>,
    panic_on_drop: bool,
}

impl Tracked {
    /// Uses the value, so a closure must capture it.
    pub fn touch(&self) {}
}

impl Drop for Tracked {
    fn drop(&mut self) {
        self.drops.fetch_add(1, Ordering::SeqCst);
        if self.panic_on_drop && !std::thread::panicking() {
            panic!("{EXPECTED}: in Tracked::drop");
        }
    }
}

/// What a pool's panic handler received.
#[derive(Clone, Default)]
pub struct PanicLog {
    messages: Arc<Mutex<Vec<Option<String>>>>,
}

impl PanicLog {
    pub fn count(&self) -> usize {
        self.messages.lock().unwrap().len()
    }

    /// The text of each payload, in arrival order (`None` for a payload
    /// that is not a string).
    pub fn messages(&self) -> Vec<Option<String>> {
        self.messages.lock().unwrap().clone()
    }

    /// Waits until the handler received `count` payloads.
    pub fn wait_for(&self, count: usize) {
        wait_until(&format!("{count} panics reach the handler"), || {
            self.count() >= count
        });
    }

    fn record(&self, payload: Box<dyn std::any::Any + Send>) {
        let text = payload
            .downcast_ref::<&str>()
            .map(|text| text.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned());
        self.messages.lock().unwrap().push(text);
    }
}

/// A pool of `threads` whose panic handler records into the returned log.
pub fn pool_with_panic_log(threads: usize) -> (ThreadPool, PanicLog) {
    quiet_expected_panics();
    let log = PanicLog::default();
    let handler_log = log.clone();
    let pool = ThreadPool::builder()
        .num_threads(threads)
        .panic_handler(move |payload| handler_log.record(payload))
        .build()
        .expect("build a test pool");
    (pool, log)
}

/// Runs `f` on a new thread and returns its result, failing the test if it
/// takes longer than [`HANG_GUARD`] (the thread is then left behind).
pub fn within<R: Send + 'static>(what: &str, f: impl FnOnce() -> R + Send + 'static) -> R {
    let (sender, receiver) = mpsc::channel();
    let thread = std::thread::Builder::new()
        .name(format!("hang-guard: {what}"))
        .spawn(move || {
            let _ = sender.send(f());
        })
        .expect("spawn a hang-guard thread");
    match receiver.recv_timeout(HANG_GUARD) {
        Ok(result) => {
            thread.join().expect("the guarded thread ended");
            result
        }
        Err(mpsc::RecvTimeoutError::Timeout) => {
            panic!("hang: `{what}` did not finish within {HANG_GUARD:?}")
        }
        Err(mpsc::RecvTimeoutError::Disconnected) => match thread.join() {
            Err(payload) => std::panic::resume_unwind(payload),
            Ok(()) => unreachable!("the thread sends before it ends"),
        },
    }
}

/// Polls `condition` until it holds, failing after [`HANG_GUARD`].
pub fn wait_until(what: &str, condition: impl Fn() -> bool) {
    let start = Instant::now();
    while !condition() {
        assert!(
            start.elapsed() < HANG_GUARD,
            "hang: waited {HANG_GUARD:?} for: {what}"
        );
        std::thread::sleep(Duration::from_micros(200));
    }
}

/// Joins `task` from a thread outside its pool, failing the test if it does
/// not finish within [`HANG_GUARD`].
pub fn join_guarded<T: Send + 'static>(what: &str, mut task: Task<T>) -> Result<T, TaskError> {
    assert!(
        task.wait_timeout(HANG_GUARD),
        "hang: task `{what}` did not finish within {HANG_GUARD:?}"
    );
    task.join()
}

/// Receives from `receiver`, failing the test after [`HANG_GUARD`].
pub fn recv_guarded<T>(what: &str, receiver: &mpsc::Receiver<T>) -> T {
    receiver
        .recv_timeout(HANG_GUARD)
        .unwrap_or_else(|error| panic!("hang: waiting for `{what}`: {error}"))
}

/// Keeps every worker of a pool busy until [`Gate::open`] (or drop), so
/// that what is spawned meanwhile stays queued, not started.
pub struct Gate {
    releases: Vec<mpsc::Sender<()>>,
}

impl Gate {
    /// Occupies all `threads` workers of `pool`; returns once each of them
    /// is blocked in a gate job.
    pub fn close(pool: &ThreadPool, threads: usize) -> Gate {
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
        Gate { releases }
    }

    /// Lets the workers go.
    pub fn open(self) {
        drop(self);
    }
}

impl Drop for Gate {
    fn drop(&mut self) {
        for release in self.releases.drain(..) {
            let _ = release.send(());
        }
    }
}

/// A small deterministic pseudo-random sequence (xorshift64*).
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed | 1)
    }

    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A value in `low..high`.
    pub fn range(&mut self, low: u64, high: u64) -> u64 {
        low + self.next_u64() % (high - low)
    }
}
