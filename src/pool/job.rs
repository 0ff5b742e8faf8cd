//! The pool's one type-erased job: a function and one word of data.
//!
//! Every queue holds [`JobRef`]s, two words each: `run`, and the word it
//! runs on. What the word is depends on who made the job:
//!
//! * a level-1 closure of at most one word (one `Arc`, one reference, one
//!   integer: the common case) is stored *in* the word, so queueing it
//!   allocates nothing;
//! * a bigger closure is boxed, and the word is the box;
//! * a level-2 task's word is its allocation, so queueing a task allocates
//!   nothing either; a fork-join half's word points into the joining
//!   thread's stack.
//!
//! This file is the only place that turns a level-1 job back into its
//! concrete type.

use std::mem::{self, MaybeUninit};
use std::ptr::NonNull;

/// The word a job runs on. `MaybeUninit` so that it can hold any bytes of a
/// small closure, pointers (with their provenance) included.
pub(crate) type JobData = MaybeUninit<*mut ()>;

/// An owned, type-erased, queued job.
///
/// Whoever holds a `JobRef` must eventually [`run`](JobRef::run) it exactly
/// once; dropping one without running it leaks the job (the pool never does:
/// shutdown runs everything queued).
#[derive(Debug)]
pub(crate) struct JobRef {
    run: unsafe fn(JobData) -> Ran,
    data: JobData,
}

/// Whether running a job did any work. A queue entry of a level-2 task that
/// was already run inline by a joiner, or cancelled, runs as a no-op; the
/// pool's `executed` counter does not count it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ran {
    /// The job did its work.
    Work,
    /// The entry was left over: someone else had done (or cancelled) it.
    Nothing,
}

// SAFETY: a `JobRef` is created only from jobs whose content is `Send` (see
// `JobRef::new`'s contract), and it is a unique handle to run that job once,
// so moving it to another thread is moving the job.
unsafe impl Send for JobRef {}

impl JobRef {
    /// A job that runs `run(data)`.
    ///
    /// # Safety
    ///
    /// `run(data)` may be called once, from any thread, and the caller hands
    /// over its right to do so: what `data` owns or points to must be `Send`
    /// and live until then.
    pub(super) unsafe fn new(run: unsafe fn(JobData) -> Ran, data: JobData) -> Self {
        Self { run, data }
    }

    /// A job that runs `run(pointer)`; see [`JobRef::new`].
    ///
    /// # Safety
    ///
    /// As for [`JobRef::new`].
    pub(crate) unsafe fn from_pointer<T>(
        run: unsafe fn(JobData) -> Ran,
        pointer: NonNull<T>,
    ) -> Self {
        // SAFETY: forwarded to the caller.
        unsafe { Self::new(run, MaybeUninit::new(pointer.as_ptr().cast())) }
    }

    /// Runs the job, consuming it.
    #[inline]
    pub(super) fn run(self) -> Ran {
        // SAFETY: by `new`'s contract this `JobRef` is the one right to call
        // `run(data)`, which we consume here.
        unsafe { (self.run)(self.data) }
    }

    /// Whether this is the job `from_pointer(run, pointer)` made (a
    /// fork-join finding its half on its deque).
    pub(super) fn is<T>(&self, run: unsafe fn(JobData) -> Ran, pointer: NonNull<T>) -> bool {
        // Only a job with this very `run` can have a pointer as its word; a
        // small closure's word may hold uninitialised bytes, so the word is
        // read only after the functions match.
        std::ptr::fn_addr_eq(self.run, run)
            // SAFETY: a job whose `run` is `run` was made by `from_pointer`,
            // whose word is an initialised pointer.
            && unsafe { self.data.assume_init() } == pointer.as_ptr().cast::<()>()
    }

    /// Gives up the job without running it, for a submission the pool
    /// refused: its run function and word, to take it apart.
    pub(crate) fn into_parts(self) -> (unsafe fn(JobData) -> Ran, JobData) {
        (self.run, self.data)
    }
}

/// A level-1 closure, queued as a [`JobRef`]: in the job's word when it
/// fits, boxed otherwise (rayon's `HeapJob`, which always boxes).
pub(super) struct ClosureJob<F>(F);

impl<F: FnOnce() + Send + 'static> ClosureJob<F> {
    /// Whether `F` fits in the job's word (then it is not boxed).
    const INLINE: bool = mem::size_of::<F>() <= mem::size_of::<JobData>()
        && mem::align_of::<F>() <= mem::align_of::<JobData>();

    /// The queued form of `closure`: in the job's word if it fits, boxed
    /// otherwise.
    #[inline]
    pub(super) fn into_job_ref(closure: F) -> JobRef {
        if Self::INLINE {
            let mut data = JobData::uninit();
            // SAFETY: `INLINE` says `F` fits in the word, size and alignment.
            unsafe { data.as_mut_ptr().cast::<F>().write(closure) };
            // SAFETY: `run_inline` reads this `F` back once; `F: Send`.
            unsafe { JobRef::new(Self::run_inline, data) }
        } else {
            let boxed = NonNull::from(Box::leak(Box::new(closure)));
            // SAFETY: `run_boxed` frees this box once; `F: Send`.
            unsafe { JobRef::from_pointer(Self::run_boxed, boxed) }
        }
    }

    /// Takes the closure back out of a `JobRef` the pool refused.
    ///
    /// # Safety
    ///
    /// `job` must have come from `ClosureJob::<F>::into_job_ref`.
    pub(super) unsafe fn into_closure(job: JobRef) -> F {
        let (_, data) = job.into_parts();
        // SAFETY: forwarded: `into_job_ref` made the word, used once here.
        unsafe { Self::take(data) }
    }

    /// Moves the closure out of a job's word.
    ///
    /// # Safety
    ///
    /// `data` is the word of a job made by `into_job_ref`, and is taken
    /// once.
    unsafe fn take(data: JobData) -> F {
        if Self::INLINE {
            // SAFETY: the word holds an `F`, written by `into_job_ref`, and
            // this is its one read.
            unsafe { data.as_ptr().cast::<F>().read() }
        } else {
            // SAFETY: the word is the leaked box of `into_job_ref`, freed
            // here once.
            *unsafe { Box::from_raw(data.assume_init().cast::<F>()) }
        }
    }

    /// # Safety
    ///
    /// Called once, on a word made by `into_job_ref` with `INLINE`.
    unsafe fn run_inline(data: JobData) -> Ran {
        // SAFETY: forwarded.
        let closure = unsafe { Self::take(data) };
        closure();
        Ran::Work
    }

    /// # Safety
    ///
    /// Called once, on a word made by `into_job_ref` without `INLINE`.
    unsafe fn run_boxed(data: JobData) -> Ran {
        // The box is freed by `take`, before the closure runs.
        // SAFETY: forwarded.
        let closure = unsafe { Self::take(data) };
        closure();
        Ran::Work
    }
}
