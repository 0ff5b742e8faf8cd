//! The scope's latch: how many pieces of the scope are still running, the
//! first panic nobody observed, and how the last piece wakes the owner.
//!
//! See the state machine in the module doc of `scope/mod.rs`.

use crate::pool::Registry;
use crate::sync::{AtomicBool, AtomicUsize, Mutex, Ordering, UnsafeCell, thread_local};
use crate::unwind::{self, Payload};
use crossbeam_utils::CachePadded;
use std::cell::Cell;
use std::ptr::{self, NonNull};
use std::task::Waker;

/// What `pending` holds for the body while it runs: far more than the tasks
/// that can ever exist at once, so that tasks ending before the body folded
/// its own count in (see [`ScopeLatch::body_ended`]) never take `pending` to
/// zero.
const BODY: usize = 1 << (usize::BITS - 2);

thread_local! {
    // loom's `thread_local!` takes no `const` initializer.
    #[allow(clippy::missing_const_for_thread_local)]
    /// Its address tells the threads apart: the owner's is kept in the
    /// latch, so that `spawn` knows when it runs on the body's thread.
    static THREAD_MARKER: Cell<u8> = Cell::new(0);
}

/// This thread's marker address, or null while its thread-locals are being
/// destroyed (then it never counts as a scope's owner).
fn thread_marker() -> *const Cell<u8> {
    THREAD_MARKER
        .try_with(|marker| marker as *const Cell<u8>)
        .unwrap_or(ptr::null())
}

/// Counts the scope's body and its unfinished tasks, and wakes the owner
/// once the count reaches zero.
///
/// Lives on the owner's stack, inside the [`Scope`](super::Scope). Every
/// task holds a pointer to it until it calls [`task_ended`](Self::task_ended);
/// the owner does not leave its frame before [`is_done`](Self::is_done)
/// holds, so the latch outlives every such pointer.
pub(crate) struct ScopeLatch {
    /// The body ([`BODY`], until it returned) plus the tasks spawned from
    /// other threads, less the tasks that ended; once the body folded in the
    /// tasks it spawned itself, the number of tasks that have not ended.
    /// Padded: completers decrement it, and the owner's stack around it is
    /// busy.
    pending: CachePadded<AtomicUsize>,
    /// The owner's thread marker (see [`thread_marker`]).
    owner_thread: *const Cell<u8>,
    /// Tasks spawned on the owner's thread while the body runs: counted
    /// here, with no atomic step, and folded into `pending` when the body
    /// ends. Only the owner's thread touches it (loom's cell, so that a model
    /// sees any other access).
    body_spawned: UnsafeCell<usize>,
    /// Whether the body still runs (owner's thread only).
    body_running: UnsafeCell<bool>,
    /// Set by whoever takes `pending` to zero, after it read `owner`: once
    /// set, the owner may return and this latch is gone.
    done: AtomicBool,
    /// Wakes the owner's wait (a worker of the scope's pool, a worker of
    /// another pool, or a thread outside every pool).
    owner: Waker,
    /// The first panic of a task that nobody joined; re-raised by the scope.
    panic: Mutex<Option<Payload>>,
    /// The pool: its panic handler receives every unobserved panic after the
    /// first (the one the scope re-raises).
    registry: NonNull<Registry>,
}

// SAFETY: `registry` points to a `Registry` (which is `Sync`) that outlives
// the latch (the scope's caller holds a reference to it for the whole
// scope); `owner_thread` is only compared, never dereferenced; the body's cells
// are touched only on the owner's thread (checked against `owner_thread`);
// the rest is atomics, a lock and a `Waker`, all `Send + Sync`.
unsafe impl Send for ScopeLatch {}
// SAFETY: as above.
unsafe impl Sync for ScopeLatch {}

impl ScopeLatch {
    /// A latch counting the body, which wakes `owner` when the last task of
    /// the scope ends after the body released its count.
    pub(super) fn new(registry: &Registry, owner: Waker) -> Self {
        ScopeLatch {
            pending: CachePadded::new(AtomicUsize::new(BODY)),
            owner_thread: thread_marker(),
            body_spawned: UnsafeCell::new(0),
            body_running: UnsafeCell::new(true),
            done: AtomicBool::new(false),
            owner,
            panic: Mutex::new(None),
            registry: NonNull::from(registry),
        }
    }

    /// The scope's pool.
    pub(super) fn registry(&self) -> &Registry {
        // SAFETY: the registry outlives the latch (see the `Sync` impl).
        unsafe { self.registry.as_ref() }
    }

    /// Counts a task about to be spawned.
    #[inline]
    pub(super) fn task_spawned(&self) {
        // The body's own spawns (the common case: a loop in the body) cost
        // no atomic step, and keep off the line completers write.
        // (A null marker, from a thread whose thread-locals are being
        // destroyed, is nobody's: such an owner counts in `pending`.)
        if !self.owner_thread.is_null()
            && ptr::eq(self.owner_thread, thread_marker())
            // SAFETY: on the owner's thread, the only one that touches it.
            && self.body_running.with(|running| unsafe { *running })
        {
            // SAFETY: as above.
            self.body_spawned
                .with_mut(|spawned| unsafe { *spawned += 1 });
            return;
        }
        // ORDERING: Relaxed: only a holder of a count (the body, or a running
        // task of this scope) spawns, so `pending` cannot reach zero under
        // this increment (as with `Arc::clone`). The decrement that releases
        // the new task's count orders everything after it.
        self.pending.fetch_add(1, Ordering::Relaxed);
    }

    /// A task ended (its closure dropped, its result handed over or
    /// disposed of). The caller must not touch the latch afterwards.
    ///
    /// A pointer, not `&self`: once the count reaches zero the owner may
    /// return and pop the latch off its stack while this call is still in
    /// progress, and a reference argument would have to stay valid for the
    /// whole call (Miri's tree borrows caught exactly that).
    ///
    /// # Safety
    ///
    /// `this` is the latch of a scope whose count includes this task's.
    #[inline]
    pub(super) unsafe fn task_ended(this: NonNull<ScopeLatch>) {
        // SAFETY: forwarded.
        unsafe { Self::release(this) }
    }

    /// The body returned (or unwound), on the owner's thread: folds in the
    /// tasks it spawned and releases its own count. Returns `true` if every
    /// task had already ended, so there is nothing to wait for.
    pub(super) fn body_ended(&self) -> bool {
        debug_assert!(ptr::eq(self.owner_thread, thread_marker()));
        // SAFETY: `scope_on` calls this on the owner's thread, the only one
        // that touches these.
        let spawned = self.body_spawned.with(|spawned| unsafe { *spawned });
        // SAFETY: as above.
        self.body_running
            .with_mut(|running| unsafe { *running = false });
        // Tasks already ended may have taken `pending` below `BODY`, never
        // to zero: `pending` becomes exactly the tasks not ended yet.
        let release = BODY - spawned;
        // ORDERING: AcqRel, as in `release`: Acquire so that, when this is
        // the last count, the tasks' writes (results, panics) are visible.
        self.pending.fetch_sub(release, Ordering::AcqRel) == release
    }

    /// Releases one count. Every access goes through `this` and lasts one
    /// expression: no reference to the latch outlives the `done` store.
    ///
    /// # Safety
    ///
    /// As for `task_ended`.
    unsafe fn release(this: NonNull<ScopeLatch>) {
        let this = this.as_ptr();
        // ORDERING: Release publishes this task's writes (its result, a
        // deposited panic) to whoever takes the count to zero; Acquire,
        // because that may be us, and then we pass everyone's writes on
        // through the Release store of `done`.
        // SAFETY: our count keeps the latch alive until this decrement.
        if unsafe { (*this).pending.fetch_sub(1, Ordering::AcqRel) } == 1 {
            // The body's count went first (else it would be the last), so
            // the owner waits or is about to. Read the waker before setting
            // `done`: once it is set the owner may return, and this latch is
            // gone.
            // SAFETY: the owner does not return before `done` is set.
            let owner = unsafe { (*this).owner.clone() };
            // ORDERING: Release pairs with the Acquire load in `is_done`.
            // SAFETY: as above; the latch is not touched after this store.
            unsafe { (*this).done.store(true, Ordering::Release) };
            owner.wake();
        }
    }

    /// Whether the last task ended after the body did.
    pub(super) fn is_done(&self) -> bool {
        // ORDERING: Acquire pairs with the Release store in `release`: every
        // task's writes are visible once this holds.
        self.done.load(Ordering::Acquire)
    }

    /// Keeps the panic of a task that nobody joined: the first is re-raised
    /// by the scope, later ones go to the pool's panic handler.
    pub(super) fn unobserved_panic(&self, payload: Payload) {
        let mut slot = self.panic.lock();
        if slot.is_none() {
            *slot = Some(payload);
            return;
        }
        drop(slot);
        self.registry().report_panic(payload);
    }

    /// The first unobserved panic, once every task ended.
    pub(super) fn take_panic(&self) -> Option<Payload> {
        self.panic.lock().take()
    }

    /// The body panicked with `body`: that panic is re-raised; a task's
    /// unobserved panic goes to the pool's panic handler instead.
    pub(super) fn prefer_body_panic(&self, body: Payload) -> Payload {
        if let Some(task) = self.take_panic() {
            self.registry().report_panic(task);
        }
        body
    }
}

/// Drops a task's value that nobody will read, handing a panic in its `Drop`
/// to the scope like a task's own panic.
pub(super) fn dispose<T>(latch: &ScopeLatch, result: Result<T, Payload>) {
    let panic = match result {
        Ok(value) => unwind::drop_caught(value),
        Err(payload) => Some(payload),
    };
    if let Some(payload) = panic {
        latch.unobserved_panic(payload);
    }
}
