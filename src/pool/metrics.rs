//! A snapshot of a pool's counters.

use super::registry::Registry;
use crate::sync::Ordering;

/// Counters of a [`ThreadPool`](crate::ThreadPool), read by
/// [`ThreadPool::metrics`](crate::ThreadPool::metrics).
///
/// Each worker counts its own work without any shared write, and a snapshot
/// adds them up, so counters read while the pool runs may be a few jobs
/// behind; after [`shutdown`](crate::ThreadPool::shutdown) they are exact.
///
/// # Examples
///
/// ```
/// let pool = taskpool::ThreadPool::new(2);
/// for _ in 0..10 {
///     pool.execute(|| {});
/// }
/// pool.shutdown();
/// let metrics = pool.metrics();
/// assert_eq!(metrics.executed, 10);
/// assert_eq!(metrics.queued, 0);
/// assert_eq!(metrics.panicked, 0);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct Metrics {
    /// Worker threads in the pool.
    pub threads: usize,
    /// Jobs waiting in every queue right now (the injector, the woken
    /// queue, and each worker's own queues). The queues are read one after
    /// the other, so while work moves between them the sum may be a little
    /// off; with [`max_queued`](crate::Builder::max_queued) set, it is never
    /// above the bound's own count of queued entries, which never exceeds
    /// the bound when only new work is submitted.
    pub queued: usize,
    /// Queue entries the workers have run: level-1 jobs, and task runs and
    /// polls. A task joined before it started runs inline on the joining
    /// thread and is not counted here.
    pub executed: u64,
    /// Jobs taken from another worker's deque (work-stealing).
    pub stolen: u64,
    /// Times a worker went to sleep after finding no work.
    pub parked: u64,
    /// Times a sleeping worker was woken.
    pub woken: u64,
    /// Panics handed to the panic handler (or dropped, when there is none):
    /// level-1 jobs that panicked, and panicked tasks nobody joined.
    pub panicked: u64,
    /// Blocking threads alive right now (see
    /// [`ThreadPool::spawn_blocking`](crate::ThreadPool::spawn_blocking)):
    /// running blocking work, or idle until their keep-alive ends.
    ///
    /// ```
    /// let pool = taskpool::ThreadPool::new(1);
    /// assert_eq!(pool.metrics().blocking_threads, 0); // none until needed
    /// pool.spawn_blocking(|| ()).join().unwrap();
    /// let metrics = pool.metrics();
    /// assert!(metrics.blocking_threads <= 1);
    /// assert!(metrics.blocking_idle <= metrics.blocking_threads);
    /// assert_eq!(metrics.blocking_queued, 0);
    /// pool.shutdown(); // idle blocking threads exit at once
    /// assert_eq!(pool.metrics().blocking_threads, 0);
    /// ```
    pub blocking_threads: usize,
    /// Blocking threads waiting for blocking work right now.
    pub blocking_idle: usize,
    /// Blocking work queued and not started yet: it waits for a blocking
    /// thread when [`max_blocking_threads`](crate::Builder::max_blocking_threads)
    /// are busy.
    pub blocking_queued: usize,
}

impl Metrics {
    pub(super) fn read(registry: &Registry) -> Metrics {
        let (parked, woken) = registry.sleep.counts();
        let blocking = registry.blocking.counts();
        let mut metrics = Metrics {
            blocking_threads: blocking.alive,
            blocking_idle: blocking.idle,
            blocking_queued: blocking.queued,
            threads: registry.threads(),
            queued: registry.queued_bounded(),
            parked,
            woken,
            panicked: registry.panicked(),
            ..Metrics::default()
        };
        // ORDERING: Relaxed: statistics; no other memory is read through them.
        for counters in registry.counters.iter() {
            metrics.executed += counters.executed.load(Ordering::Relaxed);
            metrics.stolen += counters.stolen.load(Ordering::Relaxed);
        }
        metrics
    }
}
