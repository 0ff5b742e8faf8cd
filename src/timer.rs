//! Timers that hold no worker: [`sleep`], [`sleep_until`], [`timeout`], and
//! `CancellationToken::cancel_after`.
//!
//! One timer thread per process, started on first use, keeps the pending
//! deadlines in a binary heap (earliest first): registering is `O(log n)`,
//! so 100,000 pending sleeps stay cheap. It sleeps on a condition variable
//! until the earliest deadline, or indefinitely when there is none (an idle
//! timer costs no CPU), and is woken early only when a new deadline becomes
//! the earliest. A due timer fires by waking its task's waker, which queues
//! the task on its pool: the timer thread never runs user futures.
//!
//! The thread is started by the first registration, under the heap's lock.
//! If the system refuses it (out of memory, a huge `RUST_MIN_STACK`), that
//! registration panics with the error and arms nothing, and the next one
//! tries again: a timer is never armed without a thread to fire it, so a
//! failed start is reported to every caller until one succeeds, never a
//! sleep that silently never ends.
//!
//! The timer thread runs only code of this crate: a due sleep wakes its
//! waker (which queues a task or unparks a thread), and a due
//! `cancel_after` calls a crate-internal closure that must not block (it
//! hands the token's user callbacks to a thread of their own: see
//! `CancellationToken::cancel_after`). One thread blocked there would stop
//! every timer in the process.
//!
//! A sleep never ends early: it fires only once the clock has passed its
//! deadline, and `Sleep::poll` checks the clock itself. A dropped sleep is
//! marked cancelled and skipped when its deadline comes; when cancelled
//! entries outnumber live ones the heap is rebuilt without them, so dropped
//! sleeps do not pile up.

use crate::sync::{Arc, Condvar, Mutex, OnceLock, thread};
use crate::unwind;
use std::cmp::Ordering as CmpOrdering;
use std::collections::BinaryHeap;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

/// What a due timer does.
enum Action {
    Wake(Waker),
    Call(Box<dyn FnOnce() + Send>),
}

/// The part of a timer its owner and the timer thread share.
enum Slot {
    Armed(Action),
    Fired,
    Cancelled,
}

struct Entry {
    deadline: Instant,
    /// Breaks ties in registration order.
    sequence: u64,
    slot: Arc<Mutex<Slot>>,
}

impl PartialEq for Entry {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == CmpOrdering::Equal
    }
}

impl Eq for Entry {}

impl PartialOrd for Entry {
    fn partial_cmp(&self, other: &Self) -> Option<CmpOrdering> {
        Some(self.cmp(other))
    }
}

impl Ord for Entry {
    /// Reversed, so that `BinaryHeap` (a max-heap) pops the earliest.
    fn cmp(&self, other: &Self) -> CmpOrdering {
        (other.deadline, other.sequence).cmp(&(self.deadline, self.sequence))
    }
}

#[derive(Default)]
struct Heap {
    entries: BinaryHeap<Entry>,
    next_sequence: u64,
    /// Entries in the heap whose slot is `Cancelled`.
    cancelled: usize,
    /// The timer thread runs (it never exits once started).
    thread_started: bool,
}

struct Timer {
    heap: Mutex<Heap>,
    changed: Condvar,
}

static TIMER: OnceLock<Timer> = OnceLock::new();

/// The timer's shared state. Its thread is started by [`register`], not
/// here, so that a failed start can be retried.
fn timer() -> &'static Timer {
    TIMER.get_or_init(|| Timer {
        heap: Mutex::new(Heap::default()),
        changed: Condvar::new(),
    })
}

/// Starts the timer thread unless it runs already. Called with the heap
/// locked, so exactly one registration starts it; the new thread waits for
/// that lock before it looks at the heap.
///
/// # Panics
///
/// If the thread cannot be spawned. Nothing is armed then, and the next
/// registration tries again.
fn ensure_thread(timer: &'static Timer, heap: &mut Heap) {
    if heap.thread_started {
        return;
    }
    match thread::Builder::new()
        .name("taskpool-timer".into())
        .spawn(move || run_timer_thread(timer))
    {
        Ok(_) => heap.thread_started = true,
        Err(error) => panic!("failed to start the taskpool timer thread: {error}"),
    }
}

fn run_timer_thread(timer: &'static Timer) {
    let mut due = Vec::new();
    loop {
        {
            let mut heap = timer.heap.lock();
            loop {
                let now = Instant::now();
                while heap.entries.peek().is_some_and(|e| e.deadline <= now) {
                    let entry = heap.entries.pop().expect("peeked");
                    let mut slot = entry.slot.lock();
                    match std::mem::replace(&mut *slot, Slot::Fired) {
                        Slot::Armed(action) => due.push(action),
                        Slot::Cancelled => heap.cancelled -= 1,
                        Slot::Fired => {}
                    }
                }
                if !due.is_empty() {
                    break;
                }
                match heap.entries.peek().map(|e| e.deadline) {
                    Some(deadline) => {
                        timer
                            .changed
                            .wait_for(&mut heap, deadline.saturating_duration_since(now));
                    }
                    None => timer.changed.wait(&mut heap),
                }
            }
        }
        // Outside the lock, so that wakers may register timers. Neither a
        // waker (this crate's) nor a `call_at` closure blocks.
        for action in due.drain(..) {
            let fired = unwind::catch(move || match action {
                Action::Wake(waker) => waker.wake(),
                Action::Call(call) => call(),
            });
            if let Err(payload) = fired {
                // A waker or callback that panics must not stop every timer.
                unwind::drop_payload(payload);
            }
        }
    }
}

/// Arms a timer for `deadline`, starting the timer thread if need be.
///
/// # Panics
///
/// If the timer thread is not running and cannot be started; `action` is
/// dropped unarmed then.
fn register(deadline: Instant, action: Action) -> Arc<Mutex<Slot>> {
    let timer = timer();
    let slot = Arc::new(Mutex::new(Slot::Armed(action)));
    let mut heap = timer.heap.lock();
    ensure_thread(timer, &mut heap);
    let earliest = heap.entries.peek().is_none_or(|e| deadline < e.deadline);
    let sequence = heap.next_sequence;
    heap.next_sequence += 1;
    heap.entries.push(Entry {
        deadline,
        sequence,
        slot: slot.clone(),
    });
    drop(heap);
    if earliest {
        timer.changed.notify_one();
    }
    slot
}

/// Disarms a timer that has not fired.
fn cancel(slot: &Mutex<Slot>) {
    let disarmed = {
        let mut slot = slot.lock();
        if !matches!(*slot, Slot::Armed(_)) {
            return;
        }
        std::mem::replace(&mut *slot, Slot::Cancelled)
    };
    // Dropped outside the slot's lock: a waker or a `call_at` closure may
    // hold the last reference to a task or a token.
    drop(disarmed);
    let timer = timer();
    let mut heap = timer.heap.lock();
    heap.cancelled += 1;
    if heap.cancelled > 1024 && heap.cancelled * 2 > heap.entries.len() {
        let entries = std::mem::take(&mut heap.entries);
        heap.entries = entries
            .into_iter()
            .filter(|e| !matches!(*e.slot.lock(), Slot::Cancelled))
            .collect();
        heap.cancelled = 0;
    }
}

/// A timer armed with [`call_at`]; [`disarm`](Self::disarm) it to keep it
/// from firing. Dropping it leaves it armed.
pub(crate) struct CallTimer(Arc<Mutex<Slot>>);

impl CallTimer {
    /// Keeps the timer from firing, if it has not fired yet. (If its call
    /// runs right now, it runs to the end.)
    pub(crate) fn disarm(&self) {
        cancel(&self.0);
    }
}

/// Calls `f` on the timer thread once the clock passes `deadline` (for
/// `cancel_after`). `f` must be short and must not block, nor run user code
/// that might: every timer in the process waits for it.
///
/// # Panics
///
/// If the timer thread is not running and cannot be started.
pub(crate) fn call_at(deadline: Instant, f: impl FnOnce() + Send + 'static) -> CallTimer {
    CallTimer(register(deadline, Action::Call(Box::new(f))))
}

/// A future that completes once `duration` has passed: the counterpart of
/// .NET's `Task.Delay`. Awaiting it holds no thread; it never completes
/// early. A zero duration completes at once; a duration too long to
/// represent never completes.
///
/// # Panics
///
/// Polling the future panics if the process-wide timer thread is not
/// running yet and the system refuses to start it; the next sleep to be
/// polled tries again.
///
/// # Examples
///
/// ```
/// use std::time::{Duration, Instant};
///
/// let start = Instant::now();
/// taskpool::block_on(taskpool::sleep(Duration::from_millis(20)));
/// assert!(start.elapsed() >= Duration::from_millis(20));
/// ```
pub fn sleep(duration: Duration) -> Sleep {
    Sleep {
        deadline: Instant::now().checked_add(duration),
        slot: None,
    }
}

/// A future that completes once the clock passes `deadline`; see [`sleep`].
///
/// # Examples
///
/// ```
/// use std::time::{Duration, Instant};
///
/// let deadline = Instant::now() + Duration::from_millis(10);
/// taskpool::block_on(taskpool::sleep_until(deadline));
/// assert!(Instant::now() >= deadline);
/// ```
pub fn sleep_until(deadline: Instant) -> Sleep {
    Sleep {
        deadline: Some(deadline),
        slot: None,
    }
}

/// The future of [`sleep`] and [`sleep_until`].
#[must_use = "futures do nothing unless awaited"]
pub struct Sleep {
    /// `None`: too far away to represent; never completes.
    deadline: Option<Instant>,
    slot: Option<Arc<Mutex<Slot>>>,
}

impl Sleep {
    /// When the sleep ends (`None` for a duration too long to represent).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// assert!(taskpool::sleep(Duration::from_secs(1)).deadline().is_some());
    /// assert!(taskpool::sleep(Duration::MAX).deadline().is_none());
    /// ```
    pub fn deadline(&self) -> Option<Instant> {
        self.deadline
    }
}

impl Future for Sleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let Some(deadline) = self.deadline else {
            return Poll::Pending;
        };
        if Instant::now() >= deadline {
            return Poll::Ready(());
        }
        match &self.slot {
            None => {
                let slot = register(deadline, Action::Wake(cx.waker().clone()));
                self.slot = Some(slot);
            }
            Some(slot) => {
                let mut slot = slot.lock();
                match &mut *slot {
                    Slot::Armed(Action::Wake(waker)) => {
                        if !waker.will_wake(cx.waker()) {
                            *waker = cx.waker().clone();
                        }
                    }
                    Slot::Fired => return Poll::Ready(()),
                    Slot::Armed(Action::Call(_)) | Slot::Cancelled => {
                        unreachable!("a sleep's slot is a waker until it fires")
                    }
                }
            }
        }
        Poll::Pending
    }
}

impl Drop for Sleep {
    fn drop(&mut self) {
        if let Some(slot) = &self.slot {
            cancel(slot);
        }
    }
}

impl fmt::Debug for Sleep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sleep")
            .field("deadline", &self.deadline)
            .finish()
    }
}

/// Runs `future` for at most `duration`: resolves to its output, or to
/// [`TimedOut`](crate::TimedOut) if the time passes first (the future is then
/// dropped with the `Timeout`).
///
/// # Examples
///
/// ```
/// use std::time::Duration;
///
/// let quick = taskpool::block_on(taskpool::timeout(Duration::from_secs(60), async { 7 }));
/// assert_eq!(quick, Ok(7));
/// let slow = taskpool::block_on(taskpool::timeout(
///     Duration::from_millis(5),
///     taskpool::sleep(Duration::from_secs(60)),
/// ));
/// assert!(slow.is_err());
/// ```
pub fn timeout<F: Future>(duration: Duration, future: F) -> Timeout<F> {
    Timeout {
        future,
        sleep: sleep(duration),
    }
}

/// The future of [`timeout`].
#[must_use = "futures do nothing unless awaited"]
pub struct Timeout<F> {
    future: F,
    sleep: Sleep,
}

impl<F: Future> Future for Timeout<F> {
    type Output = Result<F::Output, crate::TimedOut>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // SAFETY: `future` is structurally pinned: it is never moved out of
        // a pinned `Timeout`, and `Timeout` has no `Drop` that moves it.
        // `sleep` is `Unpin`, so a plain `&mut` to it is fine.
        let this = unsafe { self.get_unchecked_mut() };
        // SAFETY: as above.
        let future = unsafe { Pin::new_unchecked(&mut this.future) };
        if let Poll::Ready(output) = future.poll(cx) {
            return Poll::Ready(Ok(output));
        }
        match Pin::new(&mut this.sleep).poll(cx) {
            Poll::Ready(()) => Poll::Ready(Err(crate::TimedOut)),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<F> fmt::Debug for Timeout<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Timeout")
            .field("sleep", &self.sleep)
            .finish()
    }
}
