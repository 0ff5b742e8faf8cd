//! Futures on the pool: `spawn_async`, `block_on`, `yield_now`, and the list
//! of live async tasks that shutdown cancels.
//!
//! An async task is a level-2 task whose body is a future (see `raw.rs`):
//! a worker polls it when it is queued, and its waker queues the same
//! allocation again. Between polls the task is in no queue: only its wakers,
//! its handle and the pool's *live list* refer to it. At shutdown, when the
//! queues have run dry and every worker sleeps, the pool asks its extension
//! (this module's [`LiveTasks`]) to cancel every async task still waiting,
//! so that shutdown never waits for a timer or an outside event.

use super::Task;
use super::raw::{self, Async, Body, Extra, Header, RawTask, TaskRef};
use crate::pool::{Extension, Registry, Submit, WorkerThread, with_thread_waker};
use crate::sync::{Arc, AtomicUsize, Mutex, Ordering};
use crossbeam_utils::CachePadded;
use std::future::Future;
use std::pin::{Pin, pin};
use std::task::{Context, Poll};

/// Where an async task sits in its pool's live list: its shard and its
/// index there, kept apart (packing both in one word left too few index
/// bits on 32-bit targets, where keys then aliased).
#[derive(Default)]
pub(crate) struct LiveSlot {
    shard: AtomicUsize,
    index: AtomicUsize,
}

/// A task's place in the live list.
#[derive(Clone, Copy, Debug)]
struct LiveKey {
    shard: usize,
    index: usize,
}

impl Extra for LiveSlot {
    fn on_complete(&self, task: &Header) {
        let pool = task.pool().expect("async tasks belong to a pool");
        // ORDERING: Relaxed: written before the task was first queued, and
        // queueing publishes it.
        live_tasks(pool).remove(LiveKey {
            shard: self.shard.load(Ordering::Relaxed),
            index: self.index.load(Ordering::Relaxed),
        });
    }
}

/// The async tasks of one pool that have not completed, each holding one
/// reference. Sharded by the spawning worker, to keep spawners apart.
pub(crate) struct LiveTasks {
    shards: Box<[CachePadded<Mutex<Slab>>]>,
}

#[derive(Default)]
struct Slab {
    entries: Vec<Option<RawTask>>,
    free: Vec<usize>,
}

impl LiveTasks {
    fn new(threads: usize) -> Self {
        // One shard per worker, and one for threads outside the pool.
        Self {
            shards: (0..=threads).map(|_| CachePadded::default()).collect(),
        }
    }

    /// Adds `task`; returns its key.
    fn insert(&self, task: RawTask) -> LiveKey {
        let outside = self.shards.len() - 1;
        let shard =
            WorkerThread::with_current(|worker| worker.map_or(outside, |w| w.index())).min(outside);
        let mut slab = self.shards[shard].lock();
        let index = match slab.free.pop() {
            Some(index) => {
                slab.entries[index] = Some(task);
                index
            }
            None => {
                slab.entries.push(Some(task));
                slab.entries.len() - 1
            }
        };
        LiveKey { shard, index }
    }

    fn remove(&self, LiveKey { shard, index }: LiveKey) {
        let task = {
            let mut slab = self.shards[shard].lock();
            slab.free.push(index);
            slab.entries[index].take()
        };
        // Dropped outside the lock; never the last reference (the completer
        // holds one).
        drop(task);
    }
}

impl Extension for LiveTasks {
    /// Cancels every async task still waiting for a wake-up.
    fn on_quiescent(&self) -> bool {
        let mut cancelled_any = false;
        for shard in self.shards.iter() {
            let tasks: Vec<RawTask> = shard
                .lock()
                .entries
                .iter()
                .flatten()
                .map(RawTask::clone_ref)
                .collect();
            for task in tasks {
                cancelled_any |= task.cancel_if_idle();
            }
        }
        cancelled_any
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

/// The live list of `registry`'s pool, made on first use.
fn live_tasks(registry: &Registry) -> &LiveTasks {
    registry
        .extension(|| Box::new(LiveTasks::new(registry.threads())))
        .as_any()
        .downcast_ref()
        .expect("level 2 is the only user of the pool's extension")
}

/// The extra of an async task: its place in the live list, and whatever
/// else the kind of task needs beside it.
pub(crate) trait AsyncExtra: Extra {
    fn live_slot(&self) -> &LiveSlot;
}

impl AsyncExtra for LiveSlot {
    fn live_slot(&self) -> &LiveSlot {
        self
    }
}

/// `ThreadPool::spawn_async` and `taskpool::spawn_async`.
pub(crate) fn spawn_async<F>(registry: &Arc<Registry>, future: F) -> Task<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let (task, entry) = allocate_async(registry, Async(future), LiveSlot::default());
    entry.into_raw_task().submit_to(registry, Submit::New);
    task
}

/// An async task in the live list, not yet queued: its handle and its
/// queue entry.
pub(crate) fn allocate_async<B, X>(
    registry: &Arc<Registry>,
    body: B,
    extra: X,
) -> (Task<B::Output>, TaskRef<B, X>)
where
    B: Body,
    X: AsyncExtra,
{
    debug_assert!(!B::CONSUMED_BY_POLL, "an async body stays until dropped");
    let (handle, entry, listed) = raw::new_listed_task(body, extra, registry);
    let key = live_tasks(registry).insert(listed);
    let slot = entry.extra().live_slot();
    // ORDERING: Relaxed: queueing the task publishes them.
    slot.shard.store(key.shard, Ordering::Relaxed);
    slot.index.store(key.index, Ordering::Relaxed);
    (Task::from_raw(handle), entry)
}

/// Runs `future` to completion on the calling thread and returns its output.
///
/// On a thread outside any pool, the thread sleeps while the future waits.
/// On a pool's worker, the worker runs its pool's queued work meanwhile, so
/// blocking on a task queued on the same one-thread pool completes (see
/// [`Task::join`](crate::Task::join) for what a waiting worker runs).
///
/// # Examples
///
/// ```
/// let pool = taskpool::ThreadPool::new(1);
/// let task = pool.spawn_async(async { 40 + 2 });
/// assert_eq!(taskpool::block_on(task).unwrap(), 42);
/// ```
pub fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    // On a worker, `park` runs the worker's own pool's work until the
    // future's waker fires; elsewhere it sleeps.
    with_thread_waker(|parking, waker| {
        let mut cx = Context::from_waker(waker);
        loop {
            if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
                return output;
            }
            parking.park();
        }
    })
}

/// Lets the rest of the pool's work run before this task goes on.
///
/// Awaiting it queues the task again, behind the work already queued: its
/// worker's own jobs, the pool's outside submissions, and the other tasks
/// that yielded, in turn.
///
/// Neither side starves the other. A worker that keeps receiving work still
/// comes back to its yielded tasks every few dozen jobs, so a yielder may
/// then go on before work that was queued after it.
///
/// # Examples
///
/// ```
/// let pool = taskpool::ThreadPool::new(1);
/// let task = pool.spawn_async(async {
///     for _ in 0..3 {
///         taskpool::yield_now().await;
///     }
///     "done yielding"
/// });
/// assert_eq!(task.join().unwrap(), "done yielding");
/// ```
pub fn yield_now() -> YieldNow {
    YieldNow { yielded: false }
}

/// The future of [`yield_now`].
#[derive(Debug)]
#[must_use = "futures do nothing unless awaited"]
pub struct YieldNow {
    yielded: bool,
}

impl Future for YieldNow {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.yielded {
            return Poll::Ready(());
        }
        self.yielded = true;
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}
