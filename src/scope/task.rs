//! A scoped task: one heap allocation, queued as a level-1 job, and its
//! handle [`ScopedTask`].
//!
//! ```text
//! ScopedJob<F, T>  (#[repr(C)], one Box)
//! +-------------------------------------------+
//! | Header<T>                                 |  what the handle reaches, F erased
//! |   state: DONE | HANDLE_GONE | WAITER      |
//! |   latch -> the scope's ScopeLatch         |
//! |   free: frees the whole ScopedJob<F, T>   |
//! |   waiter: the joiner's waker              |
//! |   result: the value or the panic          |
//! | closure: F, until a worker takes it       |
//! +-------------------------------------------+
//! ```
//!
//! The closure may borrow anything that outlives the scope: the job's type
//! is not `'static`, and the pool runs it through a type-erased `JobRef`
//! whose word is the box. That is sound because the scope does not return
//! (nor unwind) before every job it counted has run and ended (see
//! `latch.rs`), so nothing the closure borrows dies while it may run.

use super::latch::{ScopeLatch, dispose};
use crate::error::TaskError;
use crate::pool::{self, JobData, JobRef, Ran, Submit};
use crate::sync::{AtomicUsize, Ordering, UnsafeCell};
use crate::unwind::{self, AbortIfPanic, Payload};
use std::fmt;
use std::marker::PhantomData;
use std::ptr::NonNull;
use std::task::Waker;

/// The task ended: its result is in `result`, and the completer will not
/// touch the allocation again.
const DONE: usize = 1 << 0;
/// The handle was dropped unjoined: the completer disposes of the result
/// and frees the allocation.
const HANDLE_GONE: usize = 1 << 1;
/// A joiner put its waker in `waiter` and waits for `DONE`.
const WAITER: usize = 1 << 2;

/// The part of a scoped job that does not depend on the closure's type.
#[repr(C)]
struct Header<T> {
    state: AtomicUsize,
    latch: NonNull<ScopeLatch>,
    /// Frees the whole allocation (`ScopedJob<F, T>`, whose `F` the handle
    /// does not know). Its closure is gone by then.
    free: unsafe fn(NonNull<Header<T>>),
    /// Written by the joiner before it sets `WAITER`; taken by the
    /// completer after it saw `WAITER`, before it sets `DONE`.
    waiter: UnsafeCell<Option<Waker>>,
    /// Written by the completer before `DONE`; read by whoever owns the
    /// allocation after it (the handle, or the completer if `HANDLE_GONE`).
    result: UnsafeCell<Option<Result<T, Payload>>>,
}

/// One scoped task's allocation.
#[repr(C)]
struct ScopedJob<F, T> {
    header: Header<T>,
    /// Taken once, by the worker that runs the job.
    closure: UnsafeCell<Option<F>>,
}

/// Counts, allocates and queues one task of the scope whose latch is
/// `latch`, and returns its handle. If the pool refuses the job (it was shut
/// down and this thread is not one of its workers), the task runs here and
/// now.
pub(super) fn spawn<'scope, F, T>(latch: &'scope ScopeLatch, f: F) -> ScopedTask<'scope, T>
where
    F: FnOnce() -> T + Send + 'scope,
    T: Send + 'scope,
{
    latch.task_spawned();
    let job = Box::new(ScopedJob {
        header: Header {
            state: AtomicUsize::new(0),
            latch: NonNull::from(latch),
            free: free::<F, T>,
            waiter: UnsafeCell::new(None),
            result: UnsafeCell::new(None),
        },
        closure: UnsafeCell::new(Some(f)),
    });
    let job = NonNull::from(Box::leak(job));
    // SAFETY: `run::<F, T>` runs this job once and does not free it while
    // the handle made below lives. `F: Send` and `T: Send` let it run on any
    // thread; what they borrow outlives the scope, which does not end before
    // the job ran (it counted the job above).
    let job_ref = unsafe { JobRef::from_pointer(run::<F, T>, job) };
    if let Err(refused) = pool::submit(latch.registry(), job_ref, Submit::New) {
        let (run, data) = refused.into_parts();
        // SAFETY: the pool refused the job and gave its one right to run
        // back: we use it here, once.
        unsafe { run(data) };
    }
    ScopedTask {
        header: job.cast(),
        _scope: PhantomData,
    }
}

/// The queued job's `run`, on the worker that took it.
///
/// # Safety
///
/// `data` is the word of a job made by `spawn::<F, T>`, run once.
unsafe fn run<F, T>(data: JobData) -> Ran
where
    F: FnOnce() -> T,
{
    // SAFETY: by the contract the word is the job's box, alive until this
    // job ends (the handle may hold it longer, never shorter).
    let job = unsafe { NonNull::new_unchecked(data.assume_init().cast::<ScopedJob<F, T>>()) };
    // SAFETY: as above; only this run touches the closure.
    let closure = unsafe { job.as_ref() }
        .closure
        .with_mut(|slot| unsafe { (*slot).take() });
    // The closure and what it captured are dropped inside: a panic in their
    // `Drop` counts as the task's.
    let result = unwind::catch(closure.expect("a scoped job runs once"));
    let guard = AbortIfPanic("scope: a task's completion panicked; its scope would wait forever");
    // SAFETY: the job is alive (as above); read before `complete`, which
    // may free it.
    let latch = unsafe { job.as_ref().header.latch };
    // SAFETY: the header is the first field of the `#[repr(C)]` job; the
    // latch outlives every task that has not ended, and this one ends below.
    unsafe { complete(job.cast::<Header<T>>(), latch.as_ref(), result) };
    // SAFETY: this task's count is still in the latch, released here.
    unsafe { ScopeLatch::task_ended(latch) };
    guard.disarm();
    Ran::Work
}

/// Ends the task with `result`: hands it to the handle, or disposes of it
/// when the handle is gone (then frees the job).
///
/// # Safety
///
/// Called once, by the job's runner, with the job alive.
unsafe fn complete<T>(header: NonNull<Header<T>>, latch: &ScopeLatch, result: Result<T, Payload>) {
    // SAFETY: alive by the contract, until we set `DONE` or free it.
    let job = unsafe { header.as_ref() };
    // ORDERING: Acquire: after `HANDLE_GONE` we own the allocation, and the
    // handle's last use of it must be over.
    let mut state = job.state.load(Ordering::Acquire);
    if state & HANDLE_GONE != 0 {
        dispose(latch, result);
        // SAFETY: the handle is gone and we are done with the job.
        unsafe { (job.free)(header) };
        return;
    }
    // SAFETY: before `DONE` only the completer touches `result`.
    job.result.with_mut(|slot| unsafe { *slot = Some(result) });
    loop {
        if state & HANDLE_GONE != 0 {
            // Dropped after all: the result is ours to dispose of.
            // SAFETY: as above, and `HANDLE_GONE` gave the job back to us.
            let result = job.result.with_mut(|slot| unsafe { (*slot).take() });
            dispose(latch, result.expect("written above"));
            // SAFETY: the handle is gone and we are done with the job.
            unsafe { (job.free)(header) };
            return;
        }
        if state & WAITER != 0 {
            // A joiner waits: nothing but us changes the state now. Take its
            // waker before `DONE`, after which the joiner may free the job.
            // SAFETY: with `WAITER` set and `DONE` unset the joiner leaves
            // the slot to us.
            let waker = job.waiter.with_mut(|slot| unsafe { (*slot).take() });
            // ORDERING: Release pairs with the Acquire loads of `is_done`:
            // the result written above is visible to the joiner.
            job.state.store(state | DONE, Ordering::Release);
            if let Some(waker) = waker {
                waker.wake();
            }
            return;
        }
        // ORDERING: Release publishes the result (as above); Acquire on
        // failure, for the `HANDLE_GONE` branch.
        match job.state.compare_exchange_weak(
            state,
            state | DONE,
            Ordering::Release,
            Ordering::Acquire,
        ) {
            Ok(_) => return,
            Err(actual) => state = actual,
        }
    }
}

/// Frees a job whose closure was taken.
///
/// # Safety
///
/// `header` is the header of a live `ScopedJob<F, T>` that nobody uses any
/// more.
unsafe fn free<F, T>(header: NonNull<Header<T>>) {
    // SAFETY: the header is the first field of the `#[repr(C)]` job, made by
    // `Box::leak` in `spawn`, freed here once.
    drop(unsafe { Box::from_raw(header.cast::<ScopedJob<F, T>>().as_ptr()) });
}

/// A handle to a task spawned in a [`Scope`](crate::Scope): its result, or
/// the panic that prevented it.
///
/// Dropping the handle leaves the task to the scope: the scope still waits
/// for it, and a panic in it that no [`join`](Self::join) observed is
/// re-raised by the scope once all its tasks have ended. The handle cannot
/// outlive its scope (`'scope`), and [`join`](Self::join) does not need a
/// `Mutex` around the result: it is std's `ScopedJoinHandle` for pool tasks.
///
/// # Examples
///
/// ```
/// let pool = taskpool::ThreadPool::new(2);
/// let numbers = [1, 2, 3, 4, 5, 6];
/// let (low, high) = numbers.split_at(3);
/// let total = pool.scope(|s| {
///     let low = s.spawn(|| low.iter().sum::<i32>());
///     let high = s.spawn(|| high.iter().sum::<i32>());
///     low.join().unwrap() + high.join().unwrap()
/// });
/// assert_eq!(total, 21);
/// ```
pub struct ScopedTask<'scope, T> {
    header: NonNull<Header<T>>,
    _scope: PhantomData<&'scope ()>,
}

// SAFETY: the handle owns its task's result (a `T: Send`) once the task is
// done; moving the handle moves that right. The state word and the waker
// slot are synchronised as the module doc describes.
unsafe impl<T: Send> Send for ScopedTask<'_, T> {}
// SAFETY: through `&ScopedTask` one can only read the state word
// (`is_finished`); the result is reached only by value (`join`).
unsafe impl<T: Send> Sync for ScopedTask<'_, T> {}

impl<T> ScopedTask<'_, T> {
    fn header(&self) -> &Header<T> {
        // SAFETY: the job is alive while the handle is: only the handle frees
        // it, unless it set `HANDLE_GONE` (in `drop`, its last use).
        unsafe { self.header.as_ref() }
    }

    /// `true` once the task has ended, with a value or a panic: then
    /// [`join`](Self::join) returns at once.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = taskpool::ThreadPool::new(1);
    /// pool.scope(|s| {
    ///     let task = s.spawn(|| 6 * 7);
    ///     while !task.is_finished() {
    ///         std::thread::yield_now();
    ///     }
    ///     assert_eq!(task.join().unwrap(), 42);
    /// });
    /// ```
    pub fn is_finished(&self) -> bool {
        // ORDERING: Acquire pairs with the completer's Release: a `true`
        // here means `join` finds the result.
        self.header().state.load(Ordering::Acquire) & DONE != 0
    }

    /// Waits for the task to end and returns its value, or a [`TaskError`]
    /// holding its panic.
    ///
    /// A panic returned here is observed: the scope does not re-raise it.
    /// While it waits, a worker of the scope's pool runs the pool's queued
    /// work (this task, if nobody took it yet, among it); a worker of
    /// another pool serves its own pool; any other thread blocks.
    ///
    /// # Errors
    ///
    /// A [`TaskError`] for which [`is_panic`](TaskError::is_panic) holds, if
    /// the task panicked.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = taskpool::ThreadPool::new(2);
    /// let outcome = pool.scope(|s| {
    ///     let failing = s.spawn(|| -> u32 { panic!("no luck") });
    ///     failing.join()
    /// });
    /// // Joined, hence not re-raised by the scope.
    /// assert_eq!(outcome.unwrap_err().panic_message(), Some("no luck"));
    /// ```
    pub fn join(self) -> Result<T, TaskError> {
        let header = self.header;
        std::mem::forget(self);
        // SAFETY: the handle's reference, now ours (the handle is forgotten).
        let job = unsafe { header.as_ref() };
        // SAFETY: the scope this task belongs to is alive while its handle is.
        let latch = unsafe { job.latch.as_ref() };
        if !is_done(job) {
            super::with_waiter(latch.registry(), |waker, wait_until| {
                // SAFETY: before `WAITER` only the handle touches the slot.
                job.waiter
                    .with_mut(|slot| unsafe { *slot = Some(waker.clone()) });
                // ORDERING: AcqRel: Release hands the waker to the
                // completer, Acquire sees its result if it was done already.
                let before = job.state.fetch_or(WAITER, Ordering::AcqRel);
                if before & DONE != 0 {
                    // Done before it saw our waker: take it back.
                    // SAFETY: the completer is done with the job.
                    let waker = job.waiter.with_mut(|slot| unsafe { (*slot).take() });
                    drop(waker);
                    return;
                }
                wait_until(&|| is_done(job));
            });
        }
        // SAFETY: `DONE`: the completer wrote the result and left the job to
        // the handle, which is us.
        let result = job.result.with_mut(|slot| unsafe { (*slot).take() });
        // SAFETY: nobody else uses the job any more.
        unsafe { (job.free)(header) };
        match result.expect("a done scoped task holds its result") {
            Ok(value) => Ok(value),
            Err(payload) => Err(TaskError::panicked(Box::new(payload))),
        }
    }
}

fn is_done<T>(job: &Header<T>) -> bool {
    // ORDERING: Acquire pairs with the completer's Release store of `DONE`.
    job.state.load(Ordering::Acquire) & DONE != 0
}

impl<T> Drop for ScopedTask<'_, T> {
    /// Leaves the task to the scope. If it has ended already, its value is
    /// dropped here, and a panic goes to the scope.
    fn drop(&mut self) {
        let job = self.header();
        // SAFETY: the scope is alive while the handle is.
        let latch = unsafe { job.latch.as_ref() };
        // ORDERING: AcqRel: Release hands the job to the completer (our
        // last use of it is before this); Acquire sees the result if it was
        // done already.
        let before = job.state.fetch_or(HANDLE_GONE, Ordering::AcqRel);
        if before & DONE != 0 {
            // SAFETY: `DONE`: the completer left the job to the handle.
            let result = job.result.with_mut(|slot| unsafe { (*slot).take() });
            if let Some(result) = result {
                dispose(latch, result);
            }
            // SAFETY: nobody else uses the job any more.
            unsafe { (job.free)(self.header) };
        }
    }
}

impl<T> fmt::Debug for ScopedTask<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ScopedTask")
            .field("finished", &self.is_finished())
            .finish()
    }
}
