//! Threads that run, for the timer thread, what it must not run itself: the
//! user callbacks of a token whose `cancel_after` deadline came (see
//! [`CancellationToken::cancel_after`](crate::CancellationToken::cancel_after)).
//!
//! Every job gets a thread that runs nothing else until the job returns, so
//! a callback may block until another job's callback has run without the
//! two deadlocking. A job goes to an idle runner if one waits, and to a new
//! thread otherwise: a steady trickle of deadlines reuses one thread instead
//! of starting one per deadline, and a burst starts as many as it needs.
//!
//! ```text
//! IDLE: [(id, slot), ...]    runners waiting for a job, newest last
//! slot: Mutex<Option<Job>>   where `run` puts a runner's next job
//!       Condvar              and wakes it
//!
//! run(job):    pop an idle runner, put the job in its slot, wake it;
//!              none idle: start a thread for the job
//! a runner:    run the job; push (id, slot) on IDLE; wait for a job in the
//!              slot, at most KEEP_ALIVE; on timeout, take itself off IDLE
//!              and exit, unless `run` popped it already: then its job is
//!              on the way, and it waits for that one without a timeout
//! ```
//!
//! A runner is on `IDLE` only while it waits, and leaves it (by itself, or
//! popped by `run`) under IDLE's lock: so a popped runner is alive and
//! takes what is put in its slot, and no job waits for a runner that
//! exited. A runner at its deadline takes IDLE's lock inside its slot's;
//! `run` never holds both, so the two cannot deadlock.

use crate::sync::{Arc, Condvar, Mutex, OnceLock, thread};
use std::io;
use std::time::{Duration, Instant};

type Job = Box<dyn FnOnce() + Send>;

/// How long a runner waits for another job before its thread exits.
const KEEP_ALIVE: Duration = Duration::from_secs(10);

/// Where an idle runner gets its next job.
#[derive(Default)]
struct Slot {
    job: Mutex<Option<Job>>,
    ready: Condvar,
}

#[derive(Default)]
struct Idle {
    /// The runners waiting for a job, newest last.
    runners: Vec<(u64, Arc<Slot>)>,
    /// The next runner's name, so that a timed-out one finds itself here.
    next_id: u64,
}

fn idle() -> &'static Mutex<Idle> {
    static IDLE: OnceLock<Mutex<Idle>> = OnceLock::new();
    IDLE.get_or_init(Mutex::default)
}

/// Runs `job` on a thread of its own: an idle runner, or a new one.
///
/// # Errors
///
/// If no runner waits and the system refuses a new thread; `job` is then
/// dropped unrun, and the caller does its work some other way.
pub(crate) fn run(job: impl FnOnce() + Send + 'static) -> io::Result<()> {
    let job: Job = Box::new(job);
    let mut idle = idle().lock();
    if let Some((_, slot)) = idle.runners.pop() {
        drop(idle);
        *slot.job.lock() = Some(job);
        slot.ready.notify_one();
        return Ok(());
    }
    let id = idle.next_id;
    idle.next_id += 1;
    drop(idle);
    thread::Builder::new()
        .name("taskpool-cancel-after".into())
        .spawn(move || serve(id, job))
        .map(drop)
}

/// A runner's life: `job`, then each job it is given while it waits.
fn serve(id: u64, mut job: Job) {
    let slot = Arc::new(Slot::default());
    loop {
        job();
        idle().lock().runners.push((id, Arc::clone(&slot)));
        match next_job(id, &slot) {
            Some(next) => job = next,
            None => return,
        }
    }
}

/// Waits for the next job in `slot`; `None` when this runner should exit.
fn next_job(id: u64, slot: &Slot) -> Option<Job> {
    let mut deadline = Some(Instant::now() + KEEP_ALIVE);
    let mut job = slot.job.lock();
    loop {
        if let Some(job) = job.take() {
            return Some(job);
        }
        match deadline {
            Some(at) if Instant::now() < at => {
                slot.ready
                    .wait_for(&mut job, at.saturating_duration_since(Instant::now()));
            }
            Some(_) => {
                let mut idle = idle().lock();
                if let Some(position) = idle.runners.iter().position(|(runner, _)| *runner == id) {
                    idle.runners.swap_remove(position);
                    return None;
                }
                // `run` popped this runner as its wait ended: the job is
                // on its way, however long it takes.
                deadline = None;
            }
            None => slot.ready.wait(&mut job),
        }
    }
}

#[cfg(all(test, not(loom), not(miri)))]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::mpsc::channel;

    /// The tests here share `IDLE`: one at a time.
    static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

    fn serial() -> std::sync::MutexGuard<'static, ()> {
        SERIAL
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn started() -> u64 {
        idle().lock().next_id
    }

    #[test]
    fn a_job_after_another_has_ended_starts_no_thread() {
        let _serial = serial();
        let (done, finished) = channel();
        let first = done.clone();
        run(move || first.send(()).unwrap()).unwrap();
        finished.recv().unwrap();
        // The runner goes back on IDLE just after its job returns.
        while idle().lock().runners.is_empty() {
            thread::yield_now();
        }
        let before = started();
        run(move || done.send(()).unwrap()).unwrap();
        finished.recv().unwrap();
        assert_eq!(started(), before, "an idle runner was there");
    }

    #[test]
    fn a_job_that_waits_for_a_later_job_gets_a_thread_of_its_own() {
        let _serial = serial();
        let (release, released) = channel::<()>();
        let (done, finished) = channel();
        let waiter_done = done.clone();
        run(move || {
            released.recv().unwrap();
            waiter_done.send("waiter").unwrap();
        })
        .unwrap();
        run(move || {
            release.send(()).unwrap();
            done.send("releaser").unwrap();
        })
        .unwrap();
        let mut order = vec![finished.recv().unwrap(), finished.recv().unwrap()];
        order.sort_unstable();
        assert_eq!(order, ["releaser", "waiter"]);
    }

    #[test]
    fn many_jobs_at_once_all_run() {
        let _serial = serial();
        let count = Arc::new(AtomicU64::new(0));
        let (done, finished) = channel();
        for _ in 0..64 {
            let (count, done) = (Arc::clone(&count), done.clone());
            run(move || {
                count.fetch_add(1, Ordering::Relaxed);
                done.send(()).unwrap();
            })
            .unwrap();
        }
        for _ in 0..64 {
            finished.recv().unwrap();
        }
        assert_eq!(count.load(Ordering::Relaxed), 64);
    }
}
