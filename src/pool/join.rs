//! Fork-join: `join(a, b)` runs two closures, in parallel when a worker is
//! free, and returns both results (like `rayon::join`).
//!
//! On a worker, `b` becomes a job *on the caller's stack*, pushed on the
//! worker's own deque; the worker runs `a`, then pops `b` back and runs it
//! too, unless a sibling stole it meanwhile, in which case it helps with
//! other work until the thief is done (see `WorkerThread::wait_until`). No
//! allocation, and no wake-up unless a worker sleeps. Both closures may
//! borrow from the caller: `join` does not return, or unwind, before both
//! have finished. From outside the pool, `join` sends itself to a worker and
//! blocks until it is done.

use super::park::with_thread_waker;
use super::{JobData, JobRef, Ran, Registry, Submit, WorkerThread};
use crate::sync::{AtomicBool, Ordering, UnsafeCell};
use crate::unwind::{self, AbortIfPanic, Payload};
use std::ptr::NonNull;
use std::task::Waker;

/// Who waits for a stack job, and how to wake them once it is done.
#[derive(Clone)]
pub(super) enum Owner {
    /// A worker of the pool the job was pushed on, by index.
    Worker(usize),
    /// A thread outside the pool.
    Thread(Waker),
}

/// A closure and its result slot, on the stack of the thread that waits
/// for it; the queued `JobRef`'s word points at it.
pub(super) struct StackJob<F, R> {
    closure: UnsafeCell<Option<F>>,
    result: UnsafeCell<Option<Result<R, Payload>>>,
    done: AtomicBool,
    owner: Owner,
}

impl<F, R> StackJob<F, R>
where
    F: FnOnce() -> R + Send,
    R: Send,
{
    pub(super) fn new(closure: F, owner: Owner) -> Self {
        StackJob {
            closure: UnsafeCell::new(Some(closure)),
            result: UnsafeCell::new(None),
            done: AtomicBool::new(false),
            owner,
        }
    }

    /// The queued form of this job.
    ///
    /// # Safety
    ///
    /// The job must stay where it is, and the caller must not return (or
    /// unwind) before `is_done()` holds or it popped the `JobRef` back.
    pub(super) unsafe fn as_job_ref(&self) -> JobRef {
        // SAFETY: `run` runs this job once; the caller keeps it alive until
        // then, and `F: Send, R: Send` let it run anywhere.
        unsafe { JobRef::from_pointer(Self::run, NonNull::from(self)) }
    }

    fn is(&self, job: &JobRef) -> bool {
        job.is(Self::run, NonNull::from(self))
    }

    pub(super) fn is_done(&self) -> bool {
        // ORDERING: Acquire pairs with the Release store in `run`: the
        // result written before it is visible.
        self.done.load(Ordering::Acquire)
    }

    /// Runs the closure here (it was never queued, or we popped it back).
    fn run_here(&self) -> Result<R, Payload> {
        // SAFETY: only the owner calls this, and only when no thief can run
        // the job (not queued, or popped back): the closure is ours.
        let closure = self.closure.with_mut(|slot| unsafe { (*slot).take() });
        unwind::catch(closure.expect("a stack job runs once"))
    }

    /// The queued job's `run`, on the thief's thread.
    ///
    /// # Safety
    ///
    /// `data` points to a live `StackJob<F, R>` whose owner waits for it.
    unsafe fn run(data: JobData) -> Ran {
        // SAFETY: by the contract the job is live until `done` is set.
        let job = unsafe { &*data.assume_init().cast::<Self>() };
        // SAFETY: the pool runs a queued job once, and the owner does not
        // touch the closure or result while the job is queued and not done.
        let closure = job.closure.with_mut(|slot| unsafe { (*slot).take() });
        let result = unwind::catch(closure.expect("a stack job runs once"));
        // SAFETY: as above.
        job.result.with_mut(|slot| unsafe { *slot = Some(result) });
        // Read how to wake the owner before setting `done`: once it is set,
        // the owner may return and its stack, with this job, is gone.
        let owner = job.owner.clone();
        // ORDERING: Release pairs with the Acquire load in `is_done`.
        job.done.store(true, Ordering::Release);
        match owner {
            Owner::Worker(index) => WorkerThread::with_current(|worker| {
                let worker = worker.expect("a worker's job runs on a worker of its pool");
                worker.registry().sleep.wake_worker(index);
            }),
            Owner::Thread(waker) => waker.wake(),
        }
        Ran::Work
    }

    /// The thief's result, once `is_done()`.
    pub(super) fn take_result(&self) -> Result<R, Payload> {
        debug_assert!(self.is_done());
        // SAFETY: `done` is set: the thief wrote the result and will not
        // touch the job again.
        let result = self.result.with_mut(|slot| unsafe { (*slot).take() });
        result.expect("a done stack job holds its result")
    }
}

/// Runs `a` and `b`, in parallel when a worker is free, on the current
/// worker's pool (or the global pool), and returns both results; see
/// [`ThreadPool::join`](crate::ThreadPool::join).
///
/// Inside [`ThreadPool::install`](crate::ThreadPool::install) the current
/// worker's pool is the installed one; off every pool's workers it is the
/// global pool, built on first use.
///
/// # Panics
///
/// If `a` or `b` panics, after both have finished, with the panic of `a` if
/// both did.
///
/// # Examples
///
/// ```
/// fn fib(n: u32) -> u64 {
///     if n < 2 {
///         return n as u64;
///     }
///     let (a, b) = taskpool::join(|| fib(n - 1), || fib(n - 2));
///     a + b
/// }
/// assert_eq!(fib(20), 6765);
/// ```
pub fn join<A, B, RA, RB>(a: A, b: B) -> (RA, RB)
where
    A: FnOnce() -> RA + Send,
    B: FnOnce() -> RB + Send,
    RA: Send,
    RB: Send,
{
    let mut closures = Some((a, b));
    let on_worker = WorkerThread::with_current(|worker| {
        worker.map(|worker| {
            let (a, b) = closures.take().expect("taken once");
            join_on_worker(worker, a, b)
        })
    });
    match on_worker {
        Some(results) => results,
        None => {
            let (a, b) = closures.take().expect("taken once");
            super::current_or_global(|registry| join_on(registry, a, b))
        }
    }
}

pub(super) fn join_on<A, B, RA, RB>(registry: &Registry, a: A, b: B) -> (RA, RB)
where
    A: FnOnce() -> RA + Send,
    B: FnOnce() -> RB + Send,
    RA: Send,
    RB: Send,
{
    let mut closures = Some((a, b));
    let on_worker = WorkerThread::with_current(|worker| match worker {
        Some(worker) if worker.belongs_to(registry) => {
            let (a, b) = closures.take().expect("taken once");
            Some(join_on_worker(worker, a, b))
        }
        _ => None,
    });
    match on_worker {
        Some(results) => results,
        None => {
            let (a, b) = closures.take().expect("taken once");
            join_from_outside(registry, a, b)
        }
    }
}

fn join_on_worker<A, B, RA, RB>(worker: &WorkerThread, a: A, b: B) -> (RA, RB)
where
    A: FnOnce() -> RA + Send,
    B: FnOnce() -> RB + Send,
    RA: Send,
    RB: Send,
{
    let job_b = StackJob::new(b, Owner::Worker(worker.index()));
    // From the push until `job_b` is done or popped back, a thief may run
    // it from this frame: a panic of ours here (user panics are caught)
    // must not unwind the frame away under it.
    let guard = AbortIfPanic("join: a stack job left its frame while a thief could hold it");
    worker.registry().job_queued();
    // SAFETY: `job_b` stays on this frame, which does not return or unwind
    // (user panics below are caught, ours abort) before `job_b` is done or
    // popped back.
    worker.push_for_join(unsafe { job_b.as_job_ref() });
    let result_a = unwind::catch(a);
    unwind::test_trip("join");
    let result_b = loop {
        if job_b.is_done() {
            break job_b.take_result();
        }
        match worker.pop_local() {
            Some(job) if job_b.is(&job) => {
                worker.registry().job_taken();
                break job_b.run_here();
            }
            // Left on the deque by `a` (fire-and-forget children): newer
            // than `b`, so they come off first.
            Some(job) => worker.execute(job),
            None => {
                worker.wait_until(|| job_b.is_done());
                break job_b.take_result();
            }
        }
    };
    guard.disarm();
    finish(result_a, result_b)
}

fn join_from_outside<A, B, RA, RB>(registry: &Registry, a: A, b: B) -> (RA, RB)
where
    A: FnOnce() -> RA + Send,
    B: FnOnce() -> RB + Send,
    RA: Send,
    RB: Send,
{
    with_thread_waker(|parker, waker| {
        let both = || {
            WorkerThread::with_current(|worker| match worker {
                Some(worker) => join_on_worker(worker, a, b),
                // Refused by a pool that shut down: run here, one by one.
                None => finish(unwind::catch(a), unwind::catch(b)),
            })
        };
        let job = StackJob::new(both, Owner::Thread(waker.clone()));
        let guard = AbortIfPanic("join: a stack job left its frame while a worker could hold it");
        // SAFETY: `job` stays on this frame, which waits below until it is
        // done (a panic of ours meanwhile aborts), or gets it back refused
        // and never queued.
        let job_ref = unsafe { job.as_job_ref() };
        // Counted past any bound on queued work: the caller waits for it.
        registry.job_queued();
        if registry.inject(job_ref, Submit::New).is_err() {
            registry.job_taken();
            guard.disarm();
            return finish_one(job.run_here());
        }
        while !job.is_done() {
            parker.park();
        }
        guard.disarm();
        finish_one(job.take_result())
    })
}

fn finish<RA, RB>(a: Result<RA, Payload>, b: Result<RB, Payload>) -> (RA, RB) {
    match (a, b) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(payload), _) | (_, Err(payload)) => std::panic::resume_unwind(payload),
    }
}

pub(super) fn finish_one<R>(result: Result<R, Payload>) -> R {
    result.unwrap_or_else(|payload| std::panic::resume_unwind(payload))
}

/// The probe of the parallel loops' adaptive splitting (`src/parallel/`).
impl Registry {
    /// Is any worker of this pool looking for work, or asleep (idle, or
    /// blocked in a join where it still runs queued work)? Then work split
    /// off now would be taken soon; when every worker is busy, splitting
    /// would only add jobs that the splitter pops back itself.
    #[inline]
    pub(crate) fn has_idle_workers(&self) -> bool {
        let word = self.sleep.snapshot();
        word.sleeping() + word.searching() > 0
    }
}
