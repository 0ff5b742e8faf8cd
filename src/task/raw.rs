//! The one allocation behind a task, and the code that reaches into it.
//!
//! ```text
//! Cell<B, X>  (#[repr(C)], one heap allocation)
//! +--------------------------------------------+
//! | Header                                     |
//! |   state: State                             |  flags, outcome, reference count
//! |   pool: Option<Arc<Registry>>              |  where to re-queue, report panics
//! |   waiter: UnsafeCell<Option<Waker>>        |  the handle's waker
//! | extra: X                                   |  a cancellation hook, or a live-list slot
//! | stage: UnsafeCell<Stage<B>>                |  the body (closure or future), then
//! |                                            |  the value or the panic payload
//! +--------------------------------------------+
//! ```
//!
//! The stage is a union: which field is live follows from the state word
//! (see `state.rs`): before `COMPLETE`, the body, unless it was consumed
//! while `RUNNING`; after `COMPLETE`, the value (`Outcome::Value`), the boxed
//! payload (`Outcome::Panicked`) or nothing (`Outcome::Cancelled`), until
//! `CONSUMED`.
//!
//! The per-type operations ([`TaskVTable`]) are not in the allocation: every
//! reference carries them. A [`RawTask`] is the header's address and the
//! vtable's; a queue entry's run function, a waker's `RawWakerVTable` and a
//! harness are per type already. On a 64-bit target a task with a `u64`
//! result is then a 40-byte block (a 32-byte header and an 8-byte stage),
//! and 64 bytes once queued from outside, the injector's 24-byte slot
//! included.
//!
//! This file holds the layout, the allocation and the type-erased side
//! ([`RawTask`], one counted reference); `harness.rs` the typed side
//! ([`Harness`], built by one `unsafe` constructor) that runs, completes and
//! frees a task of known body type; `waker.rs` the wakers of async tasks.
//! Those three files are the only ones that reach into the allocation's
//! fields.
//!
//! A task is made by [`new_task`], [`new_listed_task`] or [`new_promise`],
//! each of which hands out exactly the references its initial state counts:
//! the handle's as a `RawTask`, the queue entry's (or the completer's) as a
//! [`TaskRef`] that still knows the types, and for an async task the live
//! list's.
//!
//! Every transition that drops the caller's reference says so with
//! [`Released`]; [`RawTask::release`] and `RawTask`'s `Drop` are the one
//! path that frees.

use super::alloc;
use super::harness::Harness;
use super::state::{Claim, JoinFinished, Outcome, Released, Slot, State, ToCancelled, ToRunning};

use crate::error::{Cancelled, TaskError};
use crate::pool::{self, JobData, JobRef, Ran, Registry, Submit, WorkerThread};
use crate::sync::{Arc, UnsafeCell};
use crate::unwind::{self, Payload, report_panic_here};
use std::alloc::Layout;
use std::future::Future;
use std::marker::PhantomData;
use std::mem::ManuallyDrop;
use std::pin::Pin;
use std::ptr::NonNull;
use std::task::{Context, Poll, Waker};

/// What a task runs: a closure (run once), a future (polled until ready) or
/// nothing (a combinator completes it).
pub(crate) trait Body: Send + 'static {
    type Output: Send + 'static;

    /// Whether `poll` consumes the body when it returns `Ready` or unwinds
    /// (a closure does; a future stays in place until dropped).
    const CONSUMED_BY_POLL: bool;

    /// Whether a joiner on a worker may run a task that has not started
    /// inline (closures may; a future is only polled by the pool, and a
    /// blocking call must not hold a worker).
    const INLINABLE: bool = Self::CONSUMED_BY_POLL;

    /// Runs the closure or polls the future once.
    ///
    /// # Safety
    ///
    /// `body` points to a live body owned by this thread: pinned in the
    /// task's allocation, with the task `RUNNING`, or, for a body that
    /// `poll` consumes, anywhere (a joiner that moved it out of a task only
    /// it can reach). If `CONSUMED_BY_POLL`, it is moved out and must not
    /// be used after this call.
    unsafe fn poll(body: *mut Self, cx: &mut Context<'_>) -> Poll<Result<Self::Output, Cancelled>>;
}

/// A closure task. `Err(Cancelled)` ends it cancelled.
pub(crate) struct Closure<F>(pub(crate) F);

impl<F, T> Body for Closure<F>
where
    F: FnOnce() -> Result<T, Cancelled> + Send + 'static,
    T: Send + 'static,
{
    type Output = T;
    const CONSUMED_BY_POLL: bool = true;

    unsafe fn poll(body: *mut Self, _cx: &mut Context<'_>) -> Poll<Result<T, Cancelled>> {
        // SAFETY: by the contract the body is live and ours; it is consumed
        // here, which `CONSUMED_BY_POLL` tells the harness.
        let Closure(closure) = unsafe { body.read() };
        Poll::Ready(closure())
    }
}

/// An async task.
pub(crate) struct Async<Fut>(pub(crate) Fut);

impl<Fut> Body for Async<Fut>
where
    Fut: Future + Send + 'static,
    Fut::Output: Send + 'static,
{
    type Output = Fut::Output;
    const CONSUMED_BY_POLL: bool = false;

    unsafe fn poll(body: *mut Self, cx: &mut Context<'_>) -> Poll<Result<Fut::Output, Cancelled>> {
        // SAFETY: the body lives in the task's allocation, which never moves
        // until it is freed, and is dropped in place: it is pinned. We own it.
        let future = unsafe { Pin::new_unchecked(&mut (*body).0) };
        future.poll(cx).map(Ok)
    }
}

/// An async task whose future may end it cancelled (`Err(Cancelled)`).
pub(crate) struct Cancellable<Fut>(pub(crate) Fut);

impl<Fut, T> Body for Cancellable<Fut>
where
    Fut: Future<Output = Result<T, Cancelled>> + Send + 'static,
    T: Send + 'static,
{
    type Output = T;
    const CONSUMED_BY_POLL: bool = false;

    unsafe fn poll(body: *mut Self, cx: &mut Context<'_>) -> Poll<Result<T, Cancelled>> {
        // SAFETY: pinned and ours, as for `Async`.
        let future = unsafe { Pin::new_unchecked(&mut (*body).0) };
        future.poll(cx)
    }
}

/// A task with no body, completed by a combinator (`when_all`, `when_any`).
pub(crate) struct Promise<T>(PhantomData<fn() -> T>);

impl<T: Send + 'static> Body for Promise<T> {
    type Output = T;
    const CONSUMED_BY_POLL: bool = true;

    unsafe fn poll(_: *mut Self, _: &mut Context<'_>) -> Poll<Result<T, Cancelled>> {
        unreachable!("a promise is never queued");
    }
}

/// Per-kind data beside the stage.
pub(crate) trait Extra: Send + Sync + 'static {
    /// Runs when the task is cancelled (the task's own token, if any).
    fn on_cancel(&self) {}
    /// Runs once, when the task completes (leaving a live list, if any).
    fn on_complete(&self, _task: &Header) {}
}

impl Extra for () {}

/// The stage: the body, then the output. Which field is live is in the state.
#[repr(C)]
pub(crate) union Stage<B: Body> {
    pub(super) body: ManuallyDrop<B>,
    pub(super) value: ManuallyDrop<B::Output>,
    pub(super) panic: ManuallyDrop<Box<Payload>>,
    empty: (),
}

/// The start of every task allocation.
#[repr(C)]
pub(crate) struct Header {
    pub(crate) state: State,
    pub(super) pool: Option<Arc<Registry>>,
    pub(super) waiter: UnsafeCell<Option<Waker>>,
}

impl Header {
    pub(crate) fn pool(&self) -> Option<&Arc<Registry>> {
        self.pool.as_ref()
    }

    /// Hands a panic nobody will observe to the task's pool (or the current
    /// worker's pool; with neither, it is dropped).
    pub(crate) fn report_panic(&self, payload: Payload) {
        report_panic_to(self.pool(), payload);
    }
}

/// `Header::report_panic`, for a header taken apart.
pub(super) fn report_panic_to(pool: Option<&Arc<Registry>>, payload: Payload) {
    match pool {
        Some(pool) => pool.report_panic(payload),
        None => report_panic_here(payload),
    }
}

// The sizes the module doc promises, on 64-bit targets (loom's atomics and
// cells are bigger).
#[cfg(all(not(loom), target_pointer_width = "64"))]
const _: () = {
    assert!(size_of::<Header>() == 32);
    assert!(size_of::<Cell<Promise<u64>, ()>>() == 40);
};

#[repr(C)]
pub(super) struct Cell<B: Body, X> {
    pub(super) header: Header,
    pub(super) extra: X,
    pub(super) stage: UnsafeCell<Stage<B>>,
}

/// What a joiner on a worker found when it looked for a task's queue entry
/// on its own deque (`RawTask::take_back`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TakeBack {
    /// The entry is not the newest there: stolen, run, or buried.
    NotNewest,
    /// The entry ran here, as the pool would have run it.
    Ran,
    /// The joiner is the task's only user: `RawTask::join_exclusive` next.
    Owned,
}

/// The per-type operations on a task, carried by every [`RawTask`]; one per
/// body and extra type (`Harness::VTABLE`). Each function's contract is that
/// of the `Harness` method of the same name, for the task at `header`.
pub(super) struct TaskVTable {
    /// What a queued task runs: the pool's `JobRef` is this function and the
    /// task's address, carrying the queue entry's reference.
    pub(super) run_from_queue: unsafe fn(JobData) -> Ran,
    /// Whether a joiner may run the task inline (closures; a future is only
    /// ever polled by the pool).
    pub(super) inlinable: bool,
    /// Runs a closure task that a joiner claimed with `claim_unstarted`.
    pub(super) run_claimed: unsafe fn(NonNull<Header>),
    /// Moves the output into `*dst`, a `*mut Option<Result<T, TaskError>>`
    /// holding `None` (overwritten, not dropped).
    pub(super) take_output: unsafe fn(NonNull<Header>, *mut ()),
    /// Runs a closure task whose only user is the caller, frees it, and
    /// moves the output into `*dst`, as `take_output` does
    /// (`State::is_owned_by_joiner`).
    pub(super) join_exclusive: unsafe fn(NonNull<Header>, *mut ()),
    /// Drops the body of a task whose stage the caller claimed, then
    /// completes it as cancelled.
    pub(super) cancel_claimed: unsafe fn(NonNull<Header>),
    /// Runs the extra's cancel hook.
    pub(super) on_cancel: unsafe fn(NonNull<Header>),
    /// Frees the allocation (reference count zero).
    pub(super) dealloc: unsafe fn(NonNull<Header>),
}

/// A counted reference to a task whose body and extra types are known: the
/// queue entry of a new task, or a promise's completer.
pub(crate) struct TaskRef<B: Body, X: Extra> {
    raw: RawTask,
    harness: Harness<B, X>,
}

// SAFETY: the harness is a typed view of the allocation that `raw` refers
// to, which `RawTask` is `Send` and `Sync` for; the extra is `Send + Sync`.
unsafe impl<B: Body, X: Extra> Send for TaskRef<B, X> {}
// SAFETY: as above.
unsafe impl<B: Body, X: Extra> Sync for TaskRef<B, X> {}

impl<B: Body, X: Extra> TaskRef<B, X> {
    pub(crate) fn extra(&self) -> &X {
        self.harness.extra()
    }

    pub(super) fn harness(&self) -> Harness<B, X> {
        self.harness
    }

    /// Forgets the types.
    pub(crate) fn into_raw_task(self) -> RawTask {
        self.raw
    }
}

/// Allocates a task in state `state` and hands out the `N` references it
/// counts.
fn allocate<B: Body, X: Extra, const N: usize>(
    body: B,
    extra: X,
    state: State,
    pool: Option<Arc<Registry>>,
) -> [RawTask; N] {
    debug_assert_eq!(state.load().ref_count(), N);
    let cell = alloc::allocate(Layout::new::<Cell<B, X>>()).cast::<Cell<B, X>>();
    // SAFETY: fresh memory with (at least) the cell's size and alignment.
    unsafe {
        cell.write(Cell {
            header: Header {
                state,
                pool,
                waiter: UnsafeCell::new(None),
            },
            extra,
            stage: UnsafeCell::new(Stage {
                body: ManuallyDrop::new(body),
            }),
        });
    }
    #[cfg(debug_assertions)]
    // SAFETY: just written; nobody else has it yet.
    if let Some(pool) = unsafe { &cell.as_ref().header.pool } {
        // ORDERING: Relaxed: a counter for tests, read after the pool stopped.
        pool.debug_allocations
            .fetch_add(1, crate::sync::Ordering::Relaxed);
    }
    let header = cell.cast::<Header>();
    std::array::from_fn(|_| RawTask {
        header,
        vtable: Harness::<B, X>::vtable(),
    })
}

/// Types one of the references `allocate` handed out.
fn typed<B: Body, X: Extra>(raw: RawTask) -> TaskRef<B, X> {
    // SAFETY: `raw` comes from `allocate::<B, X, _>`: its allocation is a
    // `Cell<B, X>`, and `raw` keeps it alive as long as the `TaskRef`.
    let harness = unsafe { Harness::from_raw(raw.header) };
    TaskRef { raw, harness }
}

/// A new task on `pool`, queued but not yet submitted: the handle's
/// reference and the queue entry's.
pub(crate) fn new_task<B: Body, X: Extra>(
    body: B,
    extra: X,
    pool: &Arc<Registry>,
) -> (RawTask, TaskRef<B, X>) {
    let pool = Some(pool::registry_ref(pool));
    let [handle, entry] = allocate::<B, X, 2>(body, extra, State::new_scheduled(0), pool);
    (handle, typed(entry))
}

/// As `new_task`, with a third reference for the pool's list of live async
/// tasks.
pub(crate) fn new_listed_task<B: Body, X: Extra>(
    body: B,
    extra: X,
    pool: &Arc<Registry>,
) -> (RawTask, TaskRef<B, X>, RawTask) {
    let pool = Some(pool::registry_ref(pool));
    let [handle, entry, listed] = allocate::<B, X, 3>(body, extra, State::new_scheduled(1), pool);
    (handle, typed(entry), listed)
}

/// One counted reference to a task, and the task's per-type operations;
/// dropping it releases the reference.
pub(crate) struct RawTask {
    header: NonNull<Header>,
    vtable: &'static TaskVTable,
}

// SAFETY: every access to the shared allocation goes through the atomic
// state word, which hands the stage and the waiter slot to one thread at a
// time; the body and output are `Send`.
unsafe impl Send for RawTask {}
// SAFETY: as above; `&RawTask` only allows the state-mediated operations.
unsafe impl Sync for RawTask {}

impl RawTask {
    /// Takes over one reference counted in the task's state.
    ///
    /// # Safety
    ///
    /// `header` is a live task whose operations are `vtable`, and the caller
    /// gives up one reference it held.
    pub(super) unsafe fn from_raw(header: NonNull<Header>, vtable: &'static TaskVTable) -> RawTask {
        RawTask { header, vtable }
    }

    /// Gives up this `RawTask` without releasing its reference.
    pub(crate) fn into_raw(self) -> NonNull<Header> {
        let header = self.header;
        std::mem::forget(self);
        header
    }

    /// The header's address, for the harness and wakers.
    pub(super) fn header_ptr(&self) -> NonNull<Header> {
        self.header
    }

    pub(crate) fn header(&self) -> &Header {
        // SAFETY: we hold a reference, so the allocation is live.
        unsafe { self.header.as_ref() }
    }

    pub(crate) fn state(&self) -> &State {
        &self.header().state
    }

    pub(crate) fn pool(&self) -> Option<&Arc<Registry>> {
        self.header().pool()
    }

    pub(super) fn vtable(&self) -> &'static TaskVTable {
        self.vtable
    }

    /// Gives up this reference, which the transition that returned
    /// `released` took out of the count already, and frees the task if that
    /// was the last one. With `Drop`, the one path that frees a task.
    pub(crate) fn release(self, released: Released) {
        let vtable = self.vtable;
        let header = self.into_raw();
        // SAFETY: `released` describes this very reference's release.
        unsafe { free_if_last(header, vtable, released) }
    }

    /// The reference that a transition just counted for the caller (a
    /// wake-up's queue entry), as a `RawTask`.
    ///
    /// # Safety
    ///
    /// The count already includes the returned reference, which nobody
    /// else holds.
    pub(super) unsafe fn clone_counted(&self) -> RawTask {
        RawTask {
            header: self.header,
            vtable: self.vtable,
        }
    }

    /// Another counted reference to the same task.
    pub(crate) fn clone_ref(&self) -> RawTask {
        self.state().ref_inc();
        // SAFETY: just counted, for the result.
        unsafe { self.clone_counted() }
    }

    /// The queued form of this reference.
    pub(crate) fn into_job(self) -> JobRef {
        let run = self.vtable().run_from_queue;
        // SAFETY: `run_from_queue` consumes exactly this one reference, and
        // runs anywhere: the task's content is `Send`.
        unsafe { JobRef::from_pointer(run, self.into_raw()) }
    }

    /// Queues the task (its `SCHEDULED` reference is `self`) on its pool.
    /// If the pool refuses it, cancels it here instead, so it still ends
    /// exactly once.
    pub(crate) fn schedule(self, how: Submit) {
        let pool = self.pool().expect("only pool tasks are scheduled");
        let on_own_worker = WorkerThread::with_current(|worker| {
            worker.is_some_and(|worker| worker.belongs_to(pool))
        });
        if on_own_worker {
            // The worker's own reference keeps the pool alive.
            let pool: *const Registry = &**pool;
            // SAFETY: this thread is one of the pool's workers, whose
            // `WorkerThread` holds an `Arc` of it for the thread's life.
            self.submit_to(unsafe { &*pool }, how);
        } else {
            // Once queued, the task (and the `Arc` in it) may run and be
            // freed at once; keep the pool alive until we are done with it.
            let pool = pool.clone();
            self.submit_to(&pool, how);
        }
    }

    /// Queues the task on `pool`, which the caller keeps alive for the
    /// whole call (it holds the `ThreadPool`, or is one of its workers).
    pub(crate) fn submit_to(self, pool: &Registry, how: Submit) {
        let vtable = self.vtable;
        let refused = pool::submit(pool, self.into_job(), how);
        if let Err(job) = refused {
            // SAFETY: the job was made by `into_job` just above, from a
            // reference with these operations.
            let task = unsafe { RawTask::from_job(job, vtable) };
            match task.state().transition_to_running() {
                ToRunning::Skip(released) => task.release(released),
                ToRunning::Run | ToRunning::Cancel => {
                    task.cancel_if_claimed(Claim::Claimed);
                }
            }
        }
    }

    /// # Safety
    ///
    /// `job` came from `into_job` of a reference whose operations are
    /// `vtable`.
    unsafe fn from_job(job: JobRef, vtable: &'static TaskVTable) -> RawTask {
        let (_, data) = job.into_parts();
        // SAFETY: `into_job` made the word from a task's header pointer.
        unsafe { RawTask::from_data(data, vtable) }
    }

    /// # Safety
    ///
    /// `data` is the header pointer of a task whose operations are
    /// `vtable`, carrying one reference.
    pub(super) unsafe fn from_data(data: JobData, vtable: &'static TaskVTable) -> RawTask {
        // SAFETY: forwarded: an initialised, non-null header pointer.
        let header = unsafe { NonNull::new_unchecked(data.assume_init().cast::<Header>()) };
        RawTask { header, vtable }
    }

    /// Takes the task's queue entry back from `worker`, one of the task's
    /// pool's, if it is the newest job on the worker's own deque (a joiner
    /// waiting for the task it spawned last), so that no stale entry stays
    /// behind. Then, if the joiner is the task's only user, the task is its
    /// to run with no transition (`Owned`, see `join_exclusive`); otherwise
    /// the entry runs here as the pool would run it (`Ran`).
    pub(crate) fn take_back(&self, worker: &WorkerThread) -> TakeBack {
        let run = self.vtable.run_from_queue;
        if !worker.take_back_newest(run, self.header) {
            return TakeBack::NotNewest;
        }
        if self.vtable.inlinable && self.state().is_owned_by_joiner() {
            return TakeBack::Owned;
        }
        // SAFETY: taken back just above, and not run since.
        unsafe { worker.run_taken_back(run, self.header) };
        TakeBack::Ran
    }

    /// `Task::join` of a task that `take_back` found `Owned`: runs it, frees
    /// it and returns its output, giving up the handle's reference (`self`)
    /// and the entry's, which the joiner holds.
    ///
    /// # Safety
    ///
    /// `take_back` returned `Owned` for the entry of this task, `self` is its
    /// handle's reference, and `T` is its output type.
    pub(crate) unsafe fn join_exclusive<T>(self) -> Result<T, TaskError> {
        // Both references end in the vtable function: `self` is not dropped.
        let this = ManuallyDrop::new(self);
        // SAFETY: forwarded from the caller.
        unsafe { output_from(this.vtable.join_exclusive, this.header) }
    }

    /// Runs the task here, now, if it is a closure task that has not
    /// started (a joiner's inlining); returns whether it did.
    pub(crate) fn try_run_inline(&self) -> bool {
        let vtable = self.vtable();
        if !vtable.inlinable || self.state().claim_unstarted() == Claim::Refused {
            return false;
        }
        // SAFETY: `claim_unstarted` gave us the stage; we hold a reference.
        unsafe { (vtable.run_claimed)(self.header) };
        true
    }

    /// Panics if the handle already moved the output of this task out:
    /// a `Task` polled to `Ready` (by a `select`-style combinator, say) and
    /// then joined, polled again or passed to `when_all`. Reading the stage
    /// a second time would hand out the same value twice. A cancelled task
    /// has no output, so it reads as cancelled every time.
    ///
    /// Only the handle's owner sets `CONSUMED` while the handle lives, so a
    /// check by that owner cannot race with another reader.
    pub(crate) fn assert_output_unread(&self) {
        let state = self.state().load();
        if state.is_consumed() && state.outcome() != Some(Outcome::Cancelled) {
            panic!("a Task's result was already taken: the Task was polled to `Ready` before");
        }
    }

    /// Moves the output out of a complete task.
    ///
    /// # Panics
    ///
    /// If the output was taken before (see `assert_output_unread`).
    ///
    /// # Safety
    ///
    /// The caller holds the join interest, `T` is the task's output type and
    /// the task is complete.
    pub(crate) unsafe fn take_output<T>(&self) -> Result<T, TaskError> {
        // SAFETY: forwarded from the caller.
        let output = unsafe { self.read_output() };
        self.state().set_consumed();
        output
    }

    /// `take_output` without marking the stage consumed (the caller does,
    /// in a transition of its own).
    ///
    /// # Safety
    ///
    /// As for `take_output`.
    unsafe fn read_output<T>(&self) -> Result<T, TaskError> {
        self.assert_output_unread();
        // SAFETY: forwarded from the caller.
        unsafe { output_from(self.vtable().take_output, self.header) }
    }

    /// `Task::join`'s last step: moves the output out of a complete task and
    /// ends the handle (`self` is the handle's reference), in one transition
    /// when the handle holds no waker.
    ///
    /// # Safety
    ///
    /// As for `take_output`, and `self` is the handle's reference, which the
    /// handle gives up.
    pub(crate) unsafe fn join_output<T>(self) -> Result<T, TaskError> {
        // SAFETY: forwarded from the caller.
        let output = unsafe { self.read_output::<T>() };
        let slot = self.slot();
        match self.state().finish_join(slot) {
            JoinFinished::Released(released) => self.release(released),
            JoinFinished::DropWaker => {
                // SAFETY: `finish_join` kept our reference because the slot
                // is ours and holds our waker.
                let waker = self.waiter().with_mut(|slot| unsafe { (*slot).take() });
                if let Some(payload) = waker.and_then(unwind::drop_caught) {
                    self.report_panic(payload);
                }
            }
        }
        output
    }

    /// Whether the waiter slot holds a waker, as the handle (the caller)
    /// left it.
    pub(crate) fn slot(&self) -> Slot {
        // With JOIN_WAKER unset only the handle writes the slot; with it
        // set, the completer only reads it: reading it here is safe either
        // way.
        // SAFETY: as above.
        if self.waiter().with(|slot| unsafe { (*slot).is_some() }) {
            Slot::HoldsWaker
        } else {
            Slot::Empty
        }
    }

    /// Requests cancellation; see `Task::cancel`. Returns `true` if this
    /// call claimed the task and ended it cancelled (it had not started, or
    /// it was a future waiting between polls).
    pub(crate) fn cancel(&self) -> bool {
        self.request_cancel() == ToCancelled::Claimed
    }

    /// Cancels an async task that waits for a wake-up (idle, and not
    /// queued: a queued task will run); returns `true` if it did (the task
    /// completed as cancelled here).
    pub(crate) fn cancel_if_idle(&self) -> bool {
        let claim = self.state().cancel_if_idle();
        self.cancel_if_claimed(claim)
    }

    /// Cancels the task if it has not started (queued, or never queued);
    /// returns whether it did (the task completed as cancelled here). A
    /// started task is left alone: this is what a token's cancellation does
    /// to a `spawn_with_token` task in the queue.
    pub(crate) fn cancel_unstarted(&self) -> bool {
        let claim = self.state().cancel_unstarted();
        self.cancel_if_claimed(claim)
    }

    /// Drops the body and completes the task as cancelled if `claim`, the
    /// result of this caller's transition, gave it the stage.
    fn cancel_if_claimed(&self, claim: Claim) -> bool {
        if claim == Claim::Refused {
            return false;
        }
        // SAFETY: the claim gave us the stage; we hold a reference.
        unsafe { (self.vtable().cancel_claimed)(self.header) };
        true
    }

    /// The transition first, then the hook: the hook cancels the task's own
    /// token, whose callback would otherwise complete an unstarted task
    /// first and make this call report that it cancelled nothing.
    fn request_cancel(&self) -> ToCancelled {
        let transition = self.state().transition_to_cancelled();
        if transition == ToCancelled::Claimed {
            self.cancel_if_claimed(Claim::Claimed);
        }
        // SAFETY: the hook only reads `extra`, which is immutable and `Sync`;
        // our reference keeps it alive after completion too.
        unsafe { (self.vtable().on_cancel)(self.header) };
        transition
    }

    /// The waiter slot. Callers follow the slot rules of `state.rs`.
    pub(crate) fn waiter(&self) -> &UnsafeCell<Option<Waker>> {
        &self.header().waiter
    }

    /// Hands a panic nobody will observe to the task's pool (or the current
    /// worker's pool; with neither, it is dropped).
    pub(crate) fn report_panic(&self, payload: Payload) {
        self.header().report_panic(payload);
    }
}

/// Calls a vtable function that hands an output back through `dst`
/// (`take_output`, `join_exclusive`) and returns that output.
///
/// # Safety
///
/// `header`'s task has output type `T`, and the call meets `function`'s
/// contract.
#[inline]
unsafe fn output_from<T>(
    function: unsafe fn(NonNull<Header>, *mut ()),
    header: NonNull<Header>,
) -> Result<T, TaskError> {
    let mut slot: Option<Result<T, TaskError>> = None;
    // SAFETY: forwarded; `slot` has the type the vtable functions write.
    unsafe { function(header, (&raw mut slot).cast()) };
    slot.expect("the vtable function wrote the output")
}

impl Drop for RawTask {
    fn drop(&mut self) {
        let released = self.state().ref_dec();
        // SAFETY: `released` describes the release of this reference.
        unsafe { free_if_last(self.header, self.vtable, released) }
    }
}

/// Frees the task if `released` says its last reference went.
///
/// # Safety
///
/// `released` came from the transition that released the caller's
/// reference to the task at `header`, whose operations are `vtable`; the
/// caller no longer uses that reference.
unsafe fn free_if_last(header: NonNull<Header>, vtable: &TaskVTable, released: Released) {
    if released == Released::Dealloc {
        // SAFETY: the count is zero: nobody else can reach the task.
        unsafe { (vtable.dealloc)(header) }
    }
}

/// A new promise: a task with no body that `TaskRef::fulfil` completes.
/// Returns the handle's reference and the completer's.
pub(crate) fn new_promise<T: Send + 'static>(
    pool: Option<Arc<Registry>>,
) -> (RawTask, TaskRef<Promise<T>, ()>) {
    let [handle, completer] =
        allocate::<Promise<T>, (), 2>(Promise(PhantomData), (), State::new_running(), pool);
    (handle, typed(completer))
}
