//! Panics a test raises on purpose: keeping them off the output, and a
//! [`PanicLog`] of what a pool's panic handler received.

use super::hang::wait_until;
use std::any::Any;
use std::panic::PanicHookInfo;
use std::sync::{Arc, Mutex, OnceLock};
use taskpool::ThreadPool;

/// Marks the panics the tests raise on purpose; the panic hook installed by
/// [`quiet_expected_panics`] does not print them.
pub const EXPECTED: &str = "expected panic";

/// The text of a panic payload, when it is a string.
pub fn panic_text(payload: &(dyn Any + Send)) -> Option<&str> {
    payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
}

/// Hides the message of every panic whose text starts with [`EXPECTED`];
/// every other panic is printed as usual.
pub fn quiet_expected_panics() {
    quiet_panics("starts with EXPECTED", |info| {
        panic_text(info.payload()).is_some_and(|text| text.starts_with(EXPECTED))
    });
}

/// Installs, once per test binary, a panic hook that hides the panics for
/// which `is_planned` holds and prints every other panic as usual.
///
/// A binary has one panic hook, so it has one filter: `name` says which,
/// and calling this again with another name is a bug in the test file
/// (the second filter would silently not apply), so it panics.
pub fn quiet_panics(
    name: &'static str,
    is_planned: impl Fn(&PanicHookInfo<'_>) -> bool + Send + Sync + 'static,
) {
    static INSTALLED: OnceLock<&'static str> = OnceLock::new();
    let installed = INSTALLED.get_or_init(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !is_planned(info) {
                default(info);
            }
        }));
        name
    });
    assert_eq!(
        *installed, name,
        "one test binary installs two different panic filters"
    );
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

    /// Like [`PanicLog::messages`], with `"<not text>"` for a payload that
    /// is not a string.
    pub fn texts(&self) -> Vec<String> {
        let messages = self.messages.lock().unwrap();
        let text = |message: &Option<String>| message.as_deref().unwrap_or("<not text>").to_owned();
        messages.iter().map(text).collect()
    }

    /// Waits until the handler received `count` payloads.
    pub fn wait_for(&self, count: usize) {
        wait_until(&format!("{count} panics reach the handler"), || {
            self.count() >= count
        });
    }

    /// A panic handler that records into this log.
    pub fn handler(&self) -> impl Fn(Box<dyn Any + Send>) + Send + Sync + 'static {
        let log = self.clone();
        move |payload| log.record(payload)
    }

    fn record(&self, payload: Box<dyn Any + Send>) {
        let text = panic_text(&*payload).map(str::to_owned);
        self.messages.lock().unwrap().push(text);
    }
}

/// A pool of `threads` whose panic handler records into the returned log.
pub fn pool_with_panic_log(threads: usize) -> (ThreadPool, PanicLog) {
    quiet_expected_panics();
    let log = PanicLog::default();
    let pool = ThreadPool::builder()
        .num_threads(threads)
        .panic_handler(log.handler())
        .build()
        .expect("build a test pool");
    (pool, log)
}
