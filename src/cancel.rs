//! `CancellationToken`: cooperative cancellation, as in .NET.
//!
//! A token is a handle to a node: a flag that goes from not cancelled to
//! cancelled once, and a list of callbacks to run when it does. A child
//! token is a node whose cancellation is one of its parent's callbacks; the
//! child stays linked while any handle to it, or any child of it, exists, and
//! unlinks itself when the last one is dropped, so a long-lived parent does
//! not accumulate dead children.
//!
//! `cancel` sets the flag, then runs the callbacks one at a time, outside the
//! lock, each marked as *running* meanwhile; a registration dropped while its
//! callback runs waits for it, unless it is dropped by that callback itself.
//! `register` checks the flag under the lock, so a callback registered as the
//! token is cancelled runs exactly once: by `cancel` or by `register`.
//!
//! Neither cancelling nor dropping recurses down or up the tree: a child is
//! an entry of its own kind, cancelled from a worklist after its parent's
//! callbacks, and the last handle of a child unlinks it and releases its
//! parent in a loop. A chain of a million child tokens costs no stack.

use crate::sync::{Arc, AtomicBool, AtomicUsize, Condvar, Mutex, Ordering, thread};
use crate::timer::CallTimer;
use crate::unwind;
use crate::unwind::report_panic_here;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

type Callback = Box<dyn FnOnce() + Send>;

/// What cancelling a node does, entry by entry.
enum OnCancel {
    /// A callback from `register`.
    Callback(Callback),
    /// A child token's node, cancelled next.
    Child(Arc<Node>),
}

/// A cooperative cancellation signal, shared by cloning.
///
/// Cancelling is a request: code that holds the token looks at it
/// ([`is_cancelled`](Self::is_cancelled), [`check`](Self::check), the
/// [`cancelled`](Self::cancelled) future) or registers a callback
/// ([`register`](Self::register)). A [`child_token`](Self::child_token) is
/// cancelled with its parent, never the other way round. Clones share one
/// state; dropping the last handle of a child unlinks it from its parent.
///
/// # Examples
///
/// ```
/// use taskpool::CancellationToken;
///
/// let parent = CancellationToken::new();
/// let child = parent.child_token();
/// assert!(!child.is_cancelled());
/// parent.cancel();
/// assert!(child.is_cancelled());
/// assert!(child.check().is_err());
/// ```
pub struct CancellationToken {
    node: Arc<Node>,
}

struct Node {
    cancelled: AtomicBool,
    /// Token handles, plus one per child node: while it is above zero, the
    /// node stays linked to its parent.
    handles: AtomicUsize,
    callbacks: Mutex<Callbacks>,
    callback_done: Condvar,
    /// This node's entry in its parent's callbacks (child tokens only).
    parent_link: Mutex<Option<CancellationRegistration>>,
}

#[derive(Default)]
struct Callbacks {
    next_id: u64,
    pending: Vec<(u64, OnCancel)>,
    /// The callback `cancel` runs right now, and the thread running it.
    running: Option<(u64, thread::ThreadId)>,
    /// The timer of the latest `cancel_after`, while the token is not
    /// cancelled: a later call disarms it and takes its place.
    timer: Option<CallTimer>,
}

/// A callback registered with [`CancellationToken::register`]. Dropping it
/// unregisters the callback (like disposing a .NET registration): a callback
/// that has not run never will; one that is running is waited for, unless it
/// is the callback itself that drops its registration; after the token was
/// cancelled, dropping it does nothing.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use std::sync::atomic::{AtomicUsize, Ordering};
/// use taskpool::CancellationToken;
///
/// let token = CancellationToken::new();
/// let calls = Arc::new(AtomicUsize::new(0));
/// let counter = calls.clone();
/// let registration = token.register(move || {
///     counter.fetch_add(1, Ordering::SeqCst);
/// });
/// drop(registration); // unregistered: the callback will not run
/// token.cancel();
/// assert_eq!(calls.load(Ordering::SeqCst), 0);
/// ```
#[must_use = "dropping the registration unregisters the callback"]
pub struct CancellationRegistration {
    /// The token registered with (a handle, so a child stays linked), and
    /// the callback's id; `None` once there is nothing to unregister.
    entry: Option<(CancellationToken, u64)>,
}

impl CancellationToken {
    /// A new token, not cancelled.
    ///
    /// # Examples
    ///
    /// ```
    /// let token = taskpool::CancellationToken::new();
    /// assert!(!token.is_cancelled());
    /// ```
    pub fn new() -> Self {
        Self::from_node(Node {
            cancelled: AtomicBool::new(false),
            handles: AtomicUsize::new(1),
            callbacks: Mutex::new(Callbacks::default()),
            callback_done: Condvar::new(),
            parent_link: Mutex::new(None),
        })
    }

    fn from_node(node: Node) -> Self {
        Self {
            node: Arc::new(node),
        }
    }

    /// Requests cancellation: sets the flag and runs the registered
    /// callbacks (and cancels the child tokens) on this thread, most recently
    /// registered first. Calling it again does nothing. A panicking callback
    /// is contained (its panic goes to the current worker's pool's panic
    /// handler, if this is a worker) and the others still run.
    ///
    /// # Examples
    ///
    /// ```
    /// let token = taskpool::CancellationToken::new();
    /// token.cancel();
    /// token.cancel(); // no effect
    /// assert!(token.is_cancelled());
    /// ```
    pub fn cancel(&self) {
        self.node.cancel();
    }

    /// `true` once [`cancel`](Self::cancel) was called on this token or an
    /// ancestor.
    ///
    /// # Examples
    ///
    /// ```
    /// let token = taskpool::CancellationToken::new();
    /// let clone = token.clone();
    /// clone.cancel();
    /// assert!(token.is_cancelled());
    /// ```
    pub fn is_cancelled(&self) -> bool {
        // ORDERING: Acquire pairs with the swap in `cancel`.
        self.node.cancelled.load(Ordering::Acquire)
    }

    /// `Err(Cancelled)` once the token is cancelled, for `?` in cancellable
    /// code (like .NET's `ThrowIfCancellationRequested`).
    ///
    /// # Errors
    ///
    /// [`Cancelled`](crate::Cancelled) if cancellation was requested.
    ///
    /// # Examples
    ///
    /// ```
    /// use taskpool::{Cancelled, CancellationToken};
    ///
    /// fn work(token: &CancellationToken) -> Result<u32, Cancelled> {
    ///     token.check()?;
    ///     Ok(1)
    /// }
    /// let token = CancellationToken::new();
    /// assert_eq!(work(&token), Ok(1));
    /// token.cancel();
    /// assert_eq!(work(&token), Err(Cancelled));
    /// ```
    pub fn check(&self) -> Result<(), crate::Cancelled> {
        if self.is_cancelled() {
            Err(crate::Cancelled)
        } else {
            Ok(())
        }
    }

    /// A new token that is cancelled when this one is (but not the other way
    /// round). It starts cancelled if this one already is.
    ///
    /// # Examples
    ///
    /// ```
    /// let parent = taskpool::CancellationToken::new();
    /// let child = parent.child_token();
    /// child.cancel();
    /// assert!(!parent.is_cancelled());
    /// ```
    pub fn child_token(&self) -> CancellationToken {
        let child = CancellationToken::new();
        // The registration holds a handle of this token, so a child keeps
        // its parent linked to the grandparent for as long as it is linked.
        let registration = self.register_entry(OnCancel::Child(child.node.clone()));
        *child.node.parent_link.lock() = Some(registration);
        child
    }

    /// Runs `callback` when the token is cancelled: at once, on this thread,
    /// if it already is; otherwise on the thread that cancels it. Dropping
    /// the returned registration unregisters it.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::mpsc;
    ///
    /// let token = taskpool::CancellationToken::new();
    /// let (sender, receiver) = mpsc::channel();
    /// let _registration = token.register(move || sender.send("cancelled").unwrap());
    /// token.cancel();
    /// assert_eq!(receiver.recv().unwrap(), "cancelled");
    /// ```
    pub fn register(&self, callback: impl FnOnce() + Send + 'static) -> CancellationRegistration {
        self.register_entry(OnCancel::Callback(Box::new(callback)))
    }

    fn register_entry(&self, entry: OnCancel) -> CancellationRegistration {
        let mut callbacks = self.node.callbacks.lock();
        if self.is_cancelled() {
            drop(callbacks);
            match entry {
                OnCancel::Callback(callback) => {
                    if let Err(payload) = unwind::catch(callback) {
                        report_panic_here(payload);
                    }
                }
                OnCancel::Child(child) => child.cancel(),
            }
            return CancellationRegistration { entry: None };
        }
        let id = callbacks.next_id;
        callbacks.next_id += 1;
        callbacks.pending.push((id, entry));
        drop(callbacks);
        CancellationRegistration {
            entry: Some((self.clone(), id)),
        }
    }

    /// Cancels the token once `delay` has passed, replacing the delay of any
    /// earlier call, shorter or longer (like .NET's `CancelAfter`).
    ///
    /// A token has one deadline: each call moves it to `delay` from now, so
    /// a deadline pushed forward on each bit of activity is a keep-alive
    /// timeout. A zero delay cancels the token now; a delay too long to
    /// represent only disarms the earlier one. On a token that is already
    /// cancelled this does nothing.
    ///
    /// When the deadline comes, the token is cancelled from the process-wide
    /// timer thread if it has no callbacks and no child tokens; otherwise
    /// [`cancel`](Self::cancel) runs on a thread that runs nothing else
    /// until it returns (one left idle by an earlier firing, kept for 10 s,
    /// or a new one), so a callback may block (join a task waiting on a
    /// [`sleep`](crate::sleep), drop a pool) without holding up any timer or
    /// any other token's callbacks. If no thread is idle and none can be
    /// started, the callbacks run on the timer thread rather than not at
    /// all.
    ///
    /// # Panics
    ///
    /// If the process-wide timer thread is not running yet and the system
    /// refuses to start it (the next timer tries again).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let token = taskpool::CancellationToken::new();
    /// token.cancel_after(Duration::from_secs(60));
    /// token.cancel_after(Duration::from_millis(5)); // replaces the 60 s
    /// taskpool::block_on(token.cancelled());
    /// assert!(token.is_cancelled());
    ///
    /// let kept_alive = taskpool::CancellationToken::new();
    /// kept_alive.cancel_after(Duration::from_millis(100));
    /// kept_alive.cancel_after(Duration::from_secs(60)); // replaces the 100 ms
    /// std::thread::sleep(Duration::from_millis(250));
    /// assert!(!kept_alive.is_cancelled());
    /// ```
    pub fn cancel_after(&self, delay: Duration) {
        if delay.is_zero() {
            self.cancel();
            return;
        }
        if self.is_cancelled() {
            return;
        }
        // A delay too long to represent never comes: no timer.
        let timer = Instant::now().checked_add(delay).map(|deadline| {
            let token = self.clone();
            crate::timer::call_at(deadline, move || cancel_from_timer(token))
        });
        let replaced = {
            let mut callbacks = self.node.callbacks.lock();
            // Checked under the lock: `cancel_alone` sets the flag before it
            // takes the lock to disarm the timer, so either it finds this
            // timer there or this check sees the flag.
            if self.is_cancelled() {
                timer
            } else {
                std::mem::replace(&mut callbacks.timer, timer)
            }
        };
        // Outside the lock: disarming drops the timer's token handle.
        if let Some(replaced) = replaced {
            replaced.disarm();
        }
    }

    /// A future that completes when the token is cancelled.
    ///
    /// # Examples
    ///
    /// ```
    /// let token = taskpool::CancellationToken::new();
    /// let pool = taskpool::ThreadPool::new(1);
    /// let waiter = {
    ///     let token = token.clone();
    ///     pool.spawn_async(async move {
    ///         token.cancelled().await;
    ///         "saw it"
    ///     })
    /// };
    /// token.cancel();
    /// assert_eq!(waiter.join().unwrap(), "saw it");
    /// ```
    pub fn cancelled(&self) -> WaitForCancellation<'_> {
        WaitForCancellation {
            token: self,
            wait: Registered::default(),
        }
    }

    /// A future that completes when the token is cancelled, holding its own
    /// handle of the token: unlike [`cancelled`](Self::cancelled) it borrows
    /// nothing, so it can be spawned or stored (tokio-util's
    /// `cancelled_owned`).
    ///
    /// # Examples
    ///
    /// ```
    /// let token = taskpool::CancellationToken::new();
    /// let pool = taskpool::ThreadPool::new(1);
    /// let waiter = pool.spawn_async(token.cancelled_owned());
    /// assert!(!waiter.is_finished());
    /// token.cancel();
    /// assert!(waiter.join().is_ok());
    /// ```
    pub fn cancelled_owned(&self) -> WaitForCancellationOwned {
        WaitForCancellationOwned {
            token: self.clone(),
            wait: Registered::default(),
        }
    }

    /// Runs `future` until it finishes or the token is cancelled, whichever
    /// comes first: `Some(output)`, or `None` once the token is cancelled
    /// (tokio-util's `run_until_cancelled`).
    ///
    /// A token already cancelled gives `None` without polling `future`; on
    /// cancellation, `future` is dropped with the returned future. It holds
    /// its own handle of the token, so it borrows nothing: it can be spawned
    /// or stored.
    ///
    /// This is also the way to make a [`sleep`](crate::sleep) or a
    /// [`timeout`](crate::timeout) end on a token:
    /// `token.run_until_cancelled(taskpool::sleep(d)).await` is `None` as
    /// soon as the token is cancelled, and dropping the sleep disarms its
    /// timer, so no separate token-aware timer exists.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let token = taskpool::CancellationToken::new();
    /// let quick = token.run_until_cancelled(async { 7 });
    /// assert_eq!(taskpool::block_on(quick), Some(7));
    ///
    /// let long_sleep = token.run_until_cancelled(taskpool::sleep(Duration::from_secs(3600)));
    /// token.cancel_after(Duration::from_millis(5));
    /// assert_eq!(taskpool::block_on(long_sleep), None);
    /// ```
    pub fn run_until_cancelled<F: Future>(&self, future: F) -> RunUntilCancelled<F> {
        RunUntilCancelled {
            token: self.clone(),
            wait: Registered::default(),
            future,
        }
    }
}

impl Node {
    /// Cancels this node and its descendants, from a worklist.
    fn cancel(&self) {
        let mut children = Vec::new();
        self.cancel_alone(&mut children);
        while let Some(child) = children.pop() {
            child.cancel_alone(&mut children);
        }
    }

    /// Sets the flag and runs this node's callbacks; its children go on
    /// `children`, for the caller to cancel next.
    fn cancel_alone(&self, children: &mut Vec<Arc<Node>>) {
        // ORDERING: AcqRel: what the canceller did before is visible to
        // whoever sees the flag; the swap decides who runs the callbacks.
        if self.cancelled.swap(true, Ordering::AcqRel) {
            return;
        }
        let mut callbacks = self.callbacks.lock();
        // A pending `cancel_after` has nothing left to do.
        if let Some(timer) = callbacks.timer.take() {
            drop(callbacks);
            timer.disarm();
            callbacks = self.callbacks.lock();
        }
        while let Some((id, entry)) = callbacks.pending.pop() {
            let callback = match entry {
                OnCancel::Child(child) => {
                    children.push(child);
                    continue;
                }
                OnCancel::Callback(callback) => callback,
            };
            callbacks.running = Some((id, thread::current().id()));
            drop(callbacks);
            if let Err(payload) = unwind::catch(callback) {
                report_panic_here(payload);
            }
            callbacks = self.callbacks.lock();
            callbacks.running = None;
            self.callback_done.notify_all();
        }
    }

    /// Releases one handle. If it was the last and this is a child, unlinks
    /// it from its parent and returns the parent, one of whose handles the
    /// link held: the caller releases that one next (a loop, not recursion).
    fn release_handle(&self) -> Option<Arc<Node>> {
        // ORDERING: AcqRel: the last handle's unlink sees every other use.
        if self.handles.fetch_sub(1, Ordering::AcqRel) != 1 {
            return None;
        }
        let link = self.parent_link.lock().take()?;
        link.unregister_into_parent()
    }
}

/// What a `cancel_after` timer does when it fires, on the timer thread,
/// which must never run user code that might block (see `timer.rs`).
///
/// A token with no callbacks and no children is cancelled right here: that
/// is setting a flag. Otherwise `cancel` runs on a thread that runs nothing
/// else meanwhile (`runners.rs`: an idle one kept from an earlier firing,
/// or a new one), not on one shared helper, so that a callback that blocks
/// until another token's deadline (or another callback) cannot deadlock
/// with it. A token that is only polled never needs a thread.
fn cancel_from_timer(token: CancellationToken) {
    let node = &token.node;
    let mut callbacks = node.callbacks.lock();
    if callbacks.pending.is_empty() {
        // The flag is set under the lock, so a callback registered from
        // now on sees it and runs on its registering thread (see
        // `register_entry`), never here.
        // ORDERING: AcqRel, as in `cancel_alone`.
        node.cancelled.swap(true, Ordering::AcqRel);
        // The timer that fired is this one, or a later `cancel_after`'s.
        let timer = callbacks.timer.take();
        drop(callbacks);
        if let Some(timer) = timer {
            timer.disarm();
        }
        return;
    }
    drop(callbacks);
    let runner = token.clone();
    if crate::runners::run(move || runner.cancel()).is_err() {
        // Late callbacks on the timer thread are better than none.
        token.cancel();
    }
}

impl Default for CancellationToken {
    fn default() -> Self {
        Self::new()
    }
}

impl Clone for CancellationToken {
    fn clone(&self) -> Self {
        // ORDERING: Relaxed: a new handle is made from an existing one.
        self.node.handles.fetch_add(1, Ordering::Relaxed);
        Self {
            node: self.node.clone(),
        }
    }
}

impl CancellationToken {
    /// The node, giving up this handle without releasing it (the caller
    /// releases it with `Node::release_handle`).
    fn into_node(self) -> Arc<Node> {
        let this = std::mem::ManuallyDrop::new(self);
        // SAFETY: `this` is never used or dropped again, so its `Arc` is
        // moved out exactly once.
        unsafe { std::ptr::read(&this.node) }
    }
}

impl Drop for CancellationToken {
    fn drop(&mut self) {
        let mut parent = self.node.release_handle();
        while let Some(node) = parent {
            parent = node.release_handle();
        }
    }
}

impl fmt::Debug for CancellationToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CancellationToken")
            .field("cancelled", &self.is_cancelled())
            .finish()
    }
}

impl CancellationRegistration {
    /// Unregisters, and gives back the token registered with, without
    /// dropping it.
    fn unregister(&mut self) -> Option<CancellationToken> {
        let (token, id) = self.entry.take()?;
        let node = &token.node;
        let mut callbacks = node.callbacks.lock();
        if let Some(position) = callbacks.pending.iter().position(|(other, _)| *other == id) {
            let (_, entry) = callbacks.pending.remove(position);
            drop(callbacks);
            if let OnCancel::Callback(callback) = entry {
                if let Some(payload) = unwind::drop_caught(callback) {
                    report_panic_here(payload);
                }
            }
            return Some(token);
        }
        // Not pending: it ran, or it runs right now. Wait for it, unless
        // this is the callback itself unregistering. (A child entry is never
        // marked running: cancelling it runs nothing here.)
        let me = thread::current().id();
        while matches!(callbacks.running, Some((running, thread)) if running == id && thread != me)
        {
            node.callback_done.wait(&mut callbacks);
        }
        drop(callbacks);
        Some(token)
    }

    /// Unregisters a child's link, giving back the parent's node with the
    /// handle the link held still to be released by the caller.
    fn unregister_into_parent(mut self) -> Option<Arc<Node>> {
        self.unregister().map(CancellationToken::into_node)
    }
}

impl Drop for CancellationRegistration {
    fn drop(&mut self) {
        drop(self.unregister());
    }
}

impl fmt::Debug for CancellationRegistration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CancellationRegistration")
            .field("registered", &self.entry.is_some())
            .finish()
    }
}

/// The future of [`CancellationToken::cancelled`].
#[must_use = "futures do nothing unless awaited"]
pub struct WaitForCancellation<'a> {
    token: &'a CancellationToken,
    wait: Registered,
}

/// The future of [`CancellationToken::cancelled_owned`]: the same, holding
/// a handle of the token instead of a borrow, so it is `'static` (it can be
/// moved into a spawned task).
#[must_use = "futures do nothing unless awaited"]
pub struct WaitForCancellationOwned {
    token: CancellationToken,
    wait: Registered,
}

/// The future of [`CancellationToken::run_until_cancelled`]: the inner
/// future's output, or `None` once the token is cancelled.
#[must_use = "futures do nothing unless awaited"]
pub struct RunUntilCancelled<F> {
    token: CancellationToken,
    wait: Registered,
    /// Pinned with the whole future: never moved out while polled.
    future: F,
}

impl<F: Future> Future for RunUntilCancelled<F> {
    type Output = Option<F::Output>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<F::Output>> {
        // SAFETY: only `future` is pinned (structurally): it is never moved
        // out of `self`, the type has no `Drop` impl that could move it, and
        // `RunUntilCancelled` is `Unpin` only when `F` is. `token` and `wait`
        // are not pinned and are used through plain references.
        let this = unsafe { self.get_unchecked_mut() };
        if this.wait.poll(&this.token, cx).is_ready() {
            return Poll::Ready(None);
        }
        // SAFETY: as above: `future` stays where it is for as long as
        // `self` does.
        let future = unsafe { Pin::new_unchecked(&mut this.future) };
        future.poll(cx).map(Some)
    }
}

impl<F> fmt::Debug for RunUntilCancelled<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RunUntilCancelled")
            .field("cancelled", &self.token.is_cancelled())
            .finish_non_exhaustive()
    }
}

/// What both waiting futures keep between polls: the waker the token's
/// callback wakes (shared with it), and that callback's registration.
#[derive(Default)]
struct Registered {
    waker: Option<Arc<Mutex<Option<Waker>>>>,
    registration: Option<CancellationRegistration>,
}

impl Registered {
    fn poll(&mut self, token: &CancellationToken, cx: &mut Context<'_>) -> Poll<()> {
        if token.is_cancelled() {
            return Poll::Ready(());
        }
        match &self.waker {
            Some(slot) => {
                let mut slot = slot.lock();
                if !slot.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
                    *slot = Some(cx.waker().clone());
                }
            }
            None => {
                let slot = Arc::new(Mutex::new(Some(cx.waker().clone())));
                let callback_slot = slot.clone();
                self.waker = Some(slot);
                let registration = token.register(move || {
                    if let Some(waker) = callback_slot.lock().take() {
                        waker.wake();
                    }
                });
                self.registration = Some(registration);
            }
        }
        // The callback may have run between the check above and now.
        if token.is_cancelled() {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }
}

impl Future for WaitForCancellation<'_> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        this.wait.poll(this.token, cx)
    }
}

impl Future for WaitForCancellationOwned {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        this.wait.poll(&this.token, cx)
    }
}

impl fmt::Debug for WaitForCancellation<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WaitForCancellation")
            .field("cancelled", &self.token.is_cancelled())
            .finish()
    }
}

impl fmt::Debug for WaitForCancellationOwned {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WaitForCancellationOwned")
            .field("cancelled", &self.token.is_cancelled())
            .finish()
    }
}
