//! The pool's one type-erased job: a thin pointer to a header that knows how
//! to run itself.
//!
//! Every queue holds [`JobRef`]s: one pointer each. The pointee starts with a
//! [`JobHeader`], whose vtable's `run` consumes the job. Level 1 wraps a
//! closure in a [`HeapJob`] (one allocation: the header and the closure);
//! level 2 puts a `JobHeader` at the start of its task allocation and queues
//! the task itself, so queueing a task allocates nothing more. This file is
//! the only place that turns a job back into its concrete type.

use std::ptr::NonNull;

/// How to run a job, given a pointer to its header.
#[derive(Debug)]
pub(crate) struct JobVTable {
    /// Runs the job and releases what the `JobRef` owned.
    ///
    /// The pool calls it exactly once per queued `JobRef`. It may unwind (a
    /// level-1 closure that panics); the worker catches that.
    pub(crate) run: unsafe fn(NonNull<JobHeader>),
}

/// The first field of every queued allocation (`#[repr(C)]`, so a pointer to
/// the allocation is a pointer to its header).
///
/// The vtable is held as a raw pointer, not a reference: level 2 points it at
/// the first field of a larger `#[repr(C)]` vtable and casts it back, and a
/// raw pointer keeps the provenance of the whole vtable where a reference
/// would narrow it to this field.
#[derive(Debug)]
#[repr(C)]
pub(crate) struct JobHeader {
    vtable: *const JobVTable,
}

// SAFETY: the vtable pointer is to immutable `'static` data.
unsafe impl Send for JobHeader {}
// SAFETY: as above; a `JobHeader` is never written after creation.
unsafe impl Sync for JobHeader {}

impl JobHeader {
    /// A header whose `run` is `vtable.run`.
    ///
    /// `vtable` must point to a `JobVTable` that lives forever (a promoted
    /// constant): it is read from any thread, any time the job runs.
    pub(crate) const fn new(vtable: *const JobVTable) -> Self {
        Self { vtable }
    }

    /// The vtable pointer this header was created with.
    pub(crate) fn vtable(&self) -> *const JobVTable {
        self.vtable
    }
}

/// An owned, type-erased, queued job.
///
/// Whoever holds a `JobRef` must eventually [`run`](JobRef::run) it exactly
/// once; dropping one without running it leaks the job (the pool never does:
/// shutdown runs everything queued).
#[derive(Debug)]
pub(crate) struct JobRef(NonNull<JobHeader>);

// SAFETY: a `JobRef` is created only from jobs whose content is `Send` (see
// `HeapJob::into_job_ref` and level 2's tasks), and it is a unique handle to
// run that job once, so moving it to another thread is moving the job.
unsafe impl Send for JobRef {}

impl JobRef {
    /// Wraps a pointer to a header.
    ///
    /// # Safety
    ///
    /// `header` must point to a live `JobHeader` at the start of an allocation
    /// whose `run` may be called once, from any thread, and the caller hands
    /// over its right to do so.
    pub(crate) unsafe fn from_raw(header: NonNull<JobHeader>) -> Self {
        Self(header)
    }

    /// Runs the job, consuming it.
    #[inline]
    pub(crate) fn run(self) {
        let header = self.0;
        // SAFETY: by `from_raw`'s contract the header is live and this
        // `JobRef` is the one right to run it, which we consume here.
        // The vtable is a `'static` constant, by `JobHeader::new`'s contract.
        unsafe {
            let run = (*header.as_ref().vtable).run;
            run(header)
        }
    }

    /// Whether this is the job whose header is `header`.
    pub(crate) fn points_to(&self, header: &JobHeader) -> bool {
        std::ptr::eq(self.0.as_ptr(), header)
    }

    /// Gives up the job without running it; `from_raw` takes it back.
    pub(crate) fn into_raw(self) -> NonNull<JobHeader> {
        self.0
    }
}

/// A level-1 closure on the heap, behind a header.
#[repr(C)]
pub(crate) struct HeapJob<F> {
    header: JobHeader,
    closure: F,
}

impl<F: FnOnce() + Send + 'static> HeapJob<F> {
    const VTABLE: JobVTable = JobVTable { run: Self::run };

    /// Boxes `closure` and returns the queued form of it.
    #[inline]
    pub(crate) fn into_job_ref(closure: F) -> JobRef {
        let job = Box::new(HeapJob {
            header: JobHeader::new(&Self::VTABLE),
            closure,
        });
        let header = NonNull::from(Box::leak(job)).cast::<JobHeader>();
        // SAFETY: the header starts a `HeapJob<F>` we just leaked, `run` below
        // frees it exactly once, and `F: Send` makes running it anywhere sound.
        unsafe { JobRef::from_raw(header) }
    }

    /// Takes the closure back out of a `JobRef` without running it, for a
    /// submission the pool refused.
    ///
    /// # Safety
    ///
    /// `job` must have come from `HeapJob::<F>::into_job_ref` with this `F`.
    pub(crate) unsafe fn into_closure(job: JobRef) -> F {
        // SAFETY: by the contract, the pointer is a leaked `Box<HeapJob<F>>`.
        let job = unsafe { Box::from_raw(job.0.cast::<HeapJob<F>>().as_ptr()) };
        let HeapJob { closure, .. } = *job;
        closure
    }

    /// # Safety
    ///
    /// Called once, through the vtable, on a header made by `into_job_ref`.
    unsafe fn run(header: NonNull<JobHeader>) {
        // SAFETY: the vtable is only ever paired with a leaked
        // `Box<HeapJob<F>>`, and `run` is called once.
        let job = unsafe { Box::from_raw(header.cast::<HeapJob<F>>().as_ptr()) };
        // Free the allocation before running, not after.
        let HeapJob { closure, .. } = *job;
        closure();
    }
}
