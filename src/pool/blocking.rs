//! Level 1's blocking threads: an elastic set of extra threads beside a
//! pool's fixed workers, for work that blocks its thread (file systems,
//! synchronous drivers, FFI) and would otherwise hold a worker.
//!
//! ```text
//! BlockingSet (in the Registry)
//!   state: Mutex<State>   queue: VecDeque<JobRef> (FIFO)
//!                         alive, idle, notified, closed
//!   work: Condvar         idle threads wait here, at most `keep_alive`
//!   exited: Condvar       shutdown waits here until alive == 0
//! ```
//!
//! A blocking thread is not a worker: it never runs the pool's queued work,
//! and workers never run blocking work. Its life:
//!
//! | state | how it gets there | what it does next |
//! |---|---|---|
//! | started | a submission found no idle thread and `alive < max` | takes the oldest queued job |
//! | running | it popped a job | runs it, then looks at the queue again |
//! | idle | the queue was empty and the set is open | waits on `work` for a wake-up, at most `keep_alive` |
//! | retired | idle for `keep_alive` with nothing queued, or the set closed with nothing queued | leaves `alive` and exits |
//!
//! A submission (under the lock) pushes its job at the back of the queue,
//! then: wakes an idle thread that no earlier submission woke already
//! (`idle > notified`); else starts a thread if `alive < max`; else leaves
//! the job to wait for a thread to come back, in FIFO order.
//!
//! The invariant that keeps a job from waiting forever: *while the queue is
//! non-empty, `alive > 0`*. A thread leaves `alive` only under the lock, in
//! the same critical section in which it found the queue empty; and a
//! submission whose thread cannot be started while no other thread is alive
//! takes its job back out (it is the only one queued) and is refused with
//! the operating system's error, so the caller can fail its task instead of
//! leaving it queued with nobody to run it. Threads are started under the
//! lock so that this decision and the count it rests on are one step.
//!
//! # Shutdown
//!
//! Every accepted blocking job holds one *submitting* count on the pool's
//! gate (see `sleep.md`) from its acceptance until it has run. So the pool
//! does not terminate while blocking work is queued or running: shutdown
//! waits for it as it waits for queued pool work, what that work submits is
//! accepted meanwhile, and the last job to finish in a closed pool wakes a
//! worker to check for quiescence again. Closing the set wakes its idle
//! threads, which exit at once: they do not delay shutdown.

use super::Submit;
use super::job::JobRef;
use super::registry::Registry;
use super::worker::WorkerThread;
use crate::sync::{Arc, Condvar, Mutex, thread, thread_local};
use crate::unwind::{self, AbortIfPanic};
use std::cell::Cell;
use std::collections::VecDeque;
use std::io;
use std::ptr;
use std::time::{Duration, Instant};

/// The most blocking threads a pool starts unless
/// [`Builder::max_blocking_threads`](crate::Builder::max_blocking_threads)
/// says otherwise: as many as tokio's default, enough for the blocking calls
/// of a busy service, while a runaway program still meets a limit.
pub const DEFAULT_MAX_BLOCKING_THREADS: usize = 512;

/// How long an idle blocking thread waits for more work before it exits,
/// unless [`Builder::blocking_keep_alive`](crate::Builder::blocking_keep_alive)
/// says otherwise (tokio's default too).
pub const DEFAULT_BLOCKING_KEEP_ALIVE: Duration = Duration::from_secs(10);

thread_local! {
    #[allow(clippy::missing_const_for_thread_local)]
    /// On a blocking thread, its pool's registry (the `Arc` lives on the
    /// thread's stack for all the time this is set); null elsewhere.
    static CURRENT: Cell<*const Arc<Registry>> = Cell::new(ptr::null());
}

/// How a pool's blocking threads are started.
#[derive(Debug)]
pub(super) struct BlockingConfig {
    pub(super) max_threads: usize,
    pub(super) keep_alive: Duration,
    pub(super) name: String,
    pub(super) stack_size: Option<usize>,
}

/// Why [`submit`] refused a blocking job; the job is handed back unrun.
#[derive(Debug)]
pub(crate) enum BlockingRefused {
    /// The pool is shutting down and the caller is not running its work.
    ShutDown(JobRef),
    /// No blocking thread is alive and a new one could not be started.
    NoThread(JobRef, io::Error),
}

#[derive(Debug, Default)]
struct State {
    queue: VecDeque<JobRef>,
    /// Threads started (or being started) and not yet retired.
    alive: usize,
    /// Threads waiting on `work`.
    idle: usize,
    /// Wake-ups sent to idle threads and not yet taken; at most `idle`.
    notified: usize,
    /// Shutdown began: idle threads exit instead of waiting.
    closed: bool,
}

/// The blocking threads of one pool.
#[derive(Debug)]
pub(crate) struct BlockingSet {
    state: Mutex<State>,
    work: Condvar,
    exited: Condvar,
    config: BlockingConfig,
}

/// Counts for [`Metrics`](crate::Metrics).
pub(super) struct BlockingCounts {
    pub(super) alive: usize,
    pub(super) idle: usize,
    pub(super) queued: usize,
}

impl BlockingSet {
    pub(super) fn new(config: BlockingConfig) -> Self {
        Self {
            state: Mutex::new(State::default()),
            work: Condvar::new(),
            exited: Condvar::new(),
            config,
        }
    }

    pub(super) fn counts(&self) -> BlockingCounts {
        let state = self.state.lock();
        BlockingCounts {
            alive: state.alive,
            idle: state.idle,
            queued: state.queue.len(),
        }
    }

    /// Shutdown began: wake the idle threads, which exit once the queue is
    /// empty.
    pub(super) fn close(&self) {
        self.state.lock().closed = true;
        self.work.notify_all();
    }

    /// Waits until every blocking thread has exited, or `deadline` passes.
    /// Only meaningful once the pool terminated (no more blocking work can
    /// be accepted then).
    pub(super) fn wait_for_exit(&self, deadline: Option<Instant>) -> bool {
        let mut state = self.state.lock();
        while state.alive > 0 {
            match deadline {
                None => self.exited.wait(&mut state),
                Some(deadline) => {
                    let now = Instant::now();
                    if now >= deadline {
                        return false;
                    }
                    self.exited.wait_for(&mut state, deadline - now);
                }
            }
        }
        true
    }

    /// Starts one more blocking thread for `registry`'s pool; called under
    /// the lock, with `alive` already counting it.
    fn start_thread(&self, registry: &Arc<Registry>) -> io::Result<()> {
        let mut builder = thread::Builder::new().name(self.config.name.clone());
        if let Some(bytes) = self.config.stack_size {
            builder = builder.stack_size(bytes);
        }
        let registry = registry.clone();
        // The handle is dropped: the thread retires on its own, and shutdown
        // waits for `alive` to reach zero instead of joining it.
        builder
            .spawn(move || run_blocking_thread(registry))
            .map(drop)
    }

    /// The body of a blocking thread, until it retires; `registry` owns
    /// this set.
    fn serve(&self, registry: &Registry) {
        let mut state = self.state.lock();
        let mut retire = false;
        loop {
            if let Some(job) = state.queue.pop_front() {
                drop(state);
                run_job(registry, job);
                state = self.state.lock();
                retire = false;
                continue;
            }
            if state.closed || retire {
                break;
            }
            state.idle += 1;
            let deadline = Instant::now().checked_add(self.config.keep_alive);
            let mut timed_out = false;
            // One wait, or several after spurious wake-ups, until a wake-up
            // or the deadline.
            loop {
                match deadline {
                    None => self.work.wait(&mut state),
                    Some(deadline) => {
                        let now = Instant::now();
                        if now >= deadline {
                            timed_out = true;
                            break;
                        }
                        self.work.wait_for(&mut state, deadline - now);
                    }
                }
                if state.notified > 0 || state.closed {
                    break;
                }
            }
            state.idle -= 1;
            if state.notified > 0 {
                // A wake-up was sent to some idle thread: this one takes it
                // (another woken thread then finds nothing and waits again).
                state.notified -= 1;
            } else {
                retire = timed_out;
            }
        }
        // In the critical section that found the queue empty: see the
        // module doc for why.
        state.alive -= 1;
        if state.alive == 0 {
            self.exited.notify_all();
        }
    }
}

/// Runs one blocking job, then gives back the gate count it held.
fn run_job(registry: &Registry, job: JobRef) {
    if let Err(payload) = unwind::catch(|| job.run()) {
        registry.report_panic(payload);
    }
    registry.sleep.leave_submit(false);
}

/// The body of every blocking thread.
fn run_blocking_thread(registry: Arc<Registry>) {
    let guard = AbortIfPanic(
        "a blocking thread panicked in its own bookkeeping; shutdown would wait for it forever",
    );
    CURRENT.with(|current| current.set(&registry));
    registry.blocking.serve(&registry);
    CURRENT.with(|current| current.set(ptr::null()));
    guard.disarm();
}

/// Calls `f` with the pool of the blocking thread this is, if it is one.
pub(super) fn with_current<R>(f: impl FnOnce(Option<&Arc<Registry>>) -> R) -> R {
    let current = CURRENT.with(Cell::get);
    // SAFETY: CURRENT is non-null only while `run_blocking_thread` runs on
    // this thread, whose stack holds the pointee all that time; `f` cannot
    // keep the reference past this call.
    f(unsafe { current.as_ref() })
}

/// Is this thread one of `registry`'s blocking threads?
pub(super) fn is_thread_of(registry: &Registry) -> bool {
    with_current(|current| current.is_some_and(|current| ptr::eq(&**current, registry)))
}

/// Queues `job` to run on one of `registry`'s blocking threads, starting
/// one if none is idle and fewer than the maximum are alive.
///
/// Refused once shutdown began, unless called from work the pool is running
/// (one of its workers or blocking threads), which the pool's drain accepts;
/// and refused with the operating system's error when no blocking thread is
/// alive and none can be started.
pub(crate) fn submit(registry: &Arc<Registry>, job: JobRef) -> Result<(), BlockingRefused> {
    let how = if WorkerThread::is_worker_of(registry) || is_thread_of(registry) {
        Submit::Wake
    } else {
        Submit::New
    };
    // Held until the job has run (`run_job`), or given back below.
    if registry.sleep.enter_submit(how).is_err() {
        return Err(BlockingRefused::ShutDown(job));
    }
    let set = &registry.blocking;
    let mut state = set.state.lock();
    state.queue.push_back(job);
    if state.idle > state.notified {
        state.notified += 1;
        set.work.notify_one();
        return Ok(());
    }
    if state.alive >= set.config.max_threads {
        // Waits, in order, for a thread to come back for it.
        return Ok(());
    }
    state.alive += 1;
    let Err(error) = set.start_thread(registry) else {
        return Ok(());
    };
    state.alive -= 1;
    if state.alive > 0 {
        // A live thread comes back to the queue; the job waits for it.
        return Ok(());
    }
    // No thread is alive, so (by the invariant) this job is the only one
    // queued: take it back.
    let job = state.queue.pop_back().expect("the job pushed above");
    drop(state);
    registry.sleep.leave_submit(false);
    Err(BlockingRefused::NoThread(job, error))
}
