//! The sleep/wake protocol of `pool/sleep.rs`: two workers, one submitter.

use super::Signal;
use crate::ThreadPool;
use crate::sync::Arc;

/// A job submitted from outside to a pool whose workers may be asleep, or
/// on their way to sleep, is run: no wake-up is lost.
///
/// Planted bug seen caught: dropping the `has_work()` recheck after a
/// sleeper registers in `Sleep::sleep` (a worker that registers just after
/// the submitter read the word sleeps through the job: loom reports a
/// deadlock).
#[test]
fn outside_submit_wakes_a_sleeping_worker() {
    super::model(|| {
        let pool = ThreadPool::new(2);
        let done = Arc::new(Signal::default());
        let signal = done.clone();
        pool.execute(move || signal.set());
        done.wait();
        drop(pool);
    });
}
