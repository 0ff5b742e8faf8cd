//! The order in which a worker starts outside submissions (oldest first,
//! whatever batch it took them in) and its own spawns (newest first).

mod support;

use std::sync::{Arc, Mutex};
use support::{Gate, WorkerGate};
use taskpool::ThreadPool;

/// Records the order in which jobs run.
#[derive(Clone, Default)]
struct Log(Arc<Mutex<Vec<String>>>);

impl Log {
    fn push(&self, entry: impl Into<String>) {
        self.0.lock().unwrap().push(entry.into());
    }

    fn take(&self) -> Vec<String> {
        std::mem::take(&mut *self.0.lock().unwrap())
    }
}

fn names(prefix: &str, range: impl Iterator<Item = usize>) -> Vec<String> {
    range.map(|i| format!("{prefix}{i}")).collect()
}

/// Queues `count` outside jobs on `pool` while its one worker is blocked,
/// then lets it go and returns the order they ran in.
fn run_behind_a_blocked_worker(count: usize) -> Vec<String> {
    let pool = ThreadPool::new(1);
    let log = Log::default();
    let gate = WorkerGate::close(&pool, 1);
    for i in 0..count {
        let log = log.clone();
        pool.execute(move || log.push(format!("job{i}")));
    }
    gate.open();
    pool.shutdown();
    log.take()
}

#[test]
fn sixty_four_jobs_behind_a_busy_worker_start_in_submission_order() {
    assert_eq!(run_behind_a_blocked_worker(64), names("job", 0..64));
}

#[test]
fn many_batches_behind_a_busy_worker_start_in_submission_order() {
    // Several injector batches, and many periodic looks at the shared
    // queues in between.
    let count = support::size(1000, 100);
    assert_eq!(run_behind_a_blocked_worker(count), names("job", 0..count));
}

#[test]
fn a_workers_own_spawns_run_newest_first() {
    // Job 0 spawns three children on its own worker; outside jobs 1..=20
    // wait behind. The children run newest first (LIFO), and normally
    // ahead of the outside jobs; the worker's periodic look at the shared
    // queues (every 17 jobs, `worker.rs`), which lands at a time that
    // depends on how long it spun while idle, may run the outside batch it
    // holds first. Either way each kind keeps its order.
    let pool = ThreadPool::new(1);
    let log = Log::default();
    let gate = WorkerGate::close(&pool, 1);
    {
        let log = log.clone();
        pool.execute(move || {
            log.push("job0");
            for child in 0..3 {
                let log = log.clone();
                taskpool::execute(move || log.push(format!("child{child}")));
            }
        });
    }
    for i in 1..=20 {
        let log = log.clone();
        pool.execute(move || log.push(format!("job{i}")));
    }
    gate.open();
    pool.shutdown();
    let order = log.take();
    assert_eq!(order.len(), 24, "{order:?}");
    let of_kind = |prefix: &str| -> Vec<String> {
        order
            .iter()
            .filter(|e| e.starts_with(prefix))
            .cloned()
            .collect()
    };
    assert_eq!(
        of_kind("job"),
        names("job", 0..=20),
        "outside jobs in order"
    );
    assert_eq!(
        of_kind("child"),
        ["child2", "child1", "child0"],
        "own spawns LIFO"
    );
}

#[test]
fn outside_work_gets_its_turn_while_a_worker_keeps_feeding_its_deque() {
    // A job on the one worker re-spawns itself until every outside job ran;
    // the outside jobs run in submission order, a batch per periodic look.
    let pool = Arc::new(ThreadPool::new(1));
    let log = Log::default();
    let outside = support::size(200, 40);
    let remaining = Arc::new(std::sync::atomic::AtomicUsize::new(outside));
    fn feed(remaining: Arc<std::sync::atomic::AtomicUsize>) {
        if remaining.load(std::sync::atomic::Ordering::SeqCst) > 0 {
            taskpool::execute(move || feed(remaining));
        }
    }
    let gate = WorkerGate::close(&pool, 1);
    {
        let remaining = remaining.clone();
        pool.execute(move || feed(remaining));
    }
    for i in 0..outside {
        let (log, remaining) = (log.clone(), remaining.clone());
        pool.execute(move || {
            log.push(format!("job{i}"));
            remaining.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
        });
    }
    gate.open();
    support::wait_until("every outside job ran", || {
        remaining.load(std::sync::atomic::Ordering::SeqCst) == 0
    });
    pool.shutdown();
    assert_eq!(log.take(), names("job", 0..outside));
}

#[test]
fn outside_jobs_keep_their_order_around_local_fan_outs() {
    // Every outside job fans out locally; the outside jobs still start in
    // the order they were submitted.
    let pool = ThreadPool::new(1);
    let log = Log::default();
    let gate = WorkerGate::close(&pool, 1);
    let count = support::size(100, 20);
    for i in 0..count {
        let log = log.clone();
        pool.execute(move || {
            log.push(format!("job{i}"));
            for _ in 0..5 {
                taskpool::execute(|| {});
            }
        });
    }
    gate.open();
    pool.shutdown();
    assert_eq!(log.take(), names("job", 0..count));
    assert_eq!(pool.metrics().executed, 1 + 6 * count as u64);
}

#[test]
fn queued_counts_jobs_a_worker_took_into_its_inbox() {
    // The worker takes a batch of outside jobs into its own queue, then
    // blocks in the first of them: every other job is still counted.
    let pool = ThreadPool::new(1);
    let gate = WorkerGate::close(&pool, 1);
    let inner = Arc::new(Gate::new());
    let (started, first_started) = std::sync::mpsc::channel();
    {
        let inner = inner.clone();
        pool.execute(move || {
            started.send(()).unwrap();
            inner.wait();
        });
    }
    for _ in 0..63 {
        pool.execute(|| {});
    }
    assert_eq!(pool.metrics().queued, 64);
    gate.open();
    support::recv_guarded("the first outside job starts", &first_started);
    assert_eq!(pool.metrics().queued, 63);
    inner.open();
    pool.shutdown();
    assert_eq!(pool.metrics().queued, 0);
    assert_eq!(pool.metrics().executed, 65);
}

#[test]
fn outside_work_runs_while_a_job_of_a_turn_keeps_spawning() {
    // The feeding chain starts inside outside work (so during a turn of
    // the worker's look at the shared queues, when there is one): the
    // later outside job must still get its turn.
    let pool = Arc::new(ThreadPool::new(1));
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    fn feed(stop: Arc<std::sync::atomic::AtomicBool>) {
        if !stop.load(std::sync::atomic::Ordering::SeqCst) {
            taskpool::execute(move || feed(stop));
        }
    }
    let gate = WorkerGate::close(&pool, 1);
    for _ in 0..40 {
        pool.execute(|| {});
    }
    {
        let stop = stop.clone();
        pool.execute(move || feed(stop));
    }
    let (sender, receiver) = std::sync::mpsc::channel();
    for _ in 0..40 {
        pool.execute(|| {});
    }
    pool.execute(move || sender.send(()).unwrap());
    gate.open();
    let ran = receiver.recv_timeout(support::HANG_GUARD);
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    assert!(ran.is_ok(), "the outside job starved behind the chain");
    pool.shutdown();
}
