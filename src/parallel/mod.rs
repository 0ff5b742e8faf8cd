//! Parallel loops and sorts on the pool's own workers: .NET's `Parallel.For`
//! and `Parallel.ForEach`, rayon's `par_iter` shapes and `par_sort*`.
//!
//! # The API
//!
//! | .NET / rayon | here |
//! |---|---|
//! | `Parallel.For(a, b, body)`, `(a..b).into_par_iter().for_each` | [`Parallel::for_range`] |
//! | `Parallel.ForEach(items, body)`, `par_iter().for_each` | [`Parallel::for_each`] |
//! | `par_iter_mut().for_each` | [`Parallel::for_each_mut`] |
//! | `par_chunks_mut(n).enumerate().for_each` | [`Parallel::for_each_chunk_mut`] |
//! | `Parallel.For` with thread-local state, `map(..).reduce(identity, op)` | [`Parallel::map_reduce`] |
//! | `Parallel.ForEachAsync` | [`Parallel::spawn_for_range`], which returns a [`Task`] |
//! | `ParallelOptions`: `CancellationToken`, `MaxDegreeOfParallelism` | [`Parallel::cancellation_token`], [`Parallel::max_degree_of_parallelism`], and rayon's `with_min_len` as [`Parallel::min_len`] |
//! | `ParallelLoopState`: `Stop`, `Break`, `LowestBreakIteration` | [`LoopState`] |
//! | `ParallelLoopResult` | [`LoopResult`] |
//! | `par_sort`, `par_sort_unstable`, `_by`, `_by_key` | the [`ParallelSort`] extension trait |
//!
//! One value, [`Parallel`], is both `Parallel` and `ParallelOptions`: it
//! holds the pool and the options, and its methods run the loops. It is
//! `Copy`, so one set of options serves many loops. Every body gets the
//! iteration's [`LoopState`], which knows its index and can stop or break
//! the loop; the blocking forms return `Result<LoopResult, Cancelled>`, the
//! error only when a cancellation token ended the loop.
//!
//! # Where a loop runs
//!
//! On the pool named by [`ThreadPool::parallel`], or, for [`Parallel::new`],
//! on the current worker's pool, else the global one. Called on one of that
//! pool's workers, the loop starts right there and the caller takes part;
//! called from any other thread, the loop runs on one of the pool's workers
//! while the caller blocks. Loops nest: a loop inside an iteration is one
//! more piece of work for the same workers.
//!
//! # How a range is split
//!
//! A loop does not cut its range into a fixed number of pieces. It starts
//! sequentially on its worker, in blocks of doubling length, for a few
//! microseconds (less than a sleeping worker needs to wake up), so a loop of
//! ten cheap iterations costs about a plain `for`. If there is more, the
//! rest is split in halves with [`join`](crate::join), the upper half left
//! on the worker's deque for others to steal:
//!
//! * first about once per thread (rayon's adaptive splitter), so that every
//!   worker finds a part, even while the OS has preempted some; a half that
//!   another worker took starts over with that budget;
//! * then lazily: between blocks of about a microsecond of work (their
//!   length measured during the warm-up), a part looks at one word that
//!   says whether any worker of the pool is idle, and if one is (and the
//!   half it split off last was taken), it hands half of what it has left
//!   over.
//!
//! So ten million cheap iterations on busy workers cost a handful of
//! splits, and when iterations vary a hundredfold in cost, whoever runs out
//! of work first gets half of what a busy worker has left within a
//! microsecond. [`Parallel::min_len`] keeps halves from getting shorter than
//! a given length.
//!
//! # Early exit
//!
//! The loop's shared state is a few atomics: a *limit* (iterations whose
//! index is at or above it do not start), whether `stop` was called, the
//! lowest break index, and whether the token cancelled it. Each iteration
//! reads the limit before it starts:
//!
//! | event | effect |
//! |---|---|
//! | [`LoopState::stop`] | limit 0: no new iteration starts; running ones finish |
//! | [`LoopState::break_`] at `i` | limit lowered to `i + 1`: iterations below `i` still run, later ones do not start; the lowest break index wins |
//! | the token is cancelled | no new iteration starts; the loop returns `Err(Cancelled)` |
//! | an iteration panics | limit 0; the panic is re-raised once the running iterations finished |
//!
//! [`map_reduce`](Parallel::map_reduce) has no loop state; without a token
//! it looks at the limit once per block, so that its inner loop stays a
//! plain fold the compiler can vectorize.
//!
//! [`Task`]: crate::Task

mod drive;
mod map_reduce;
mod sort;
mod state;

pub use map_reduce::MapReduceInput;
pub use sort::ParallelSort;
pub use state::{LoopResult, LoopState};

use crate::cancel::CancellationToken;
use crate::error::Cancelled;
use crate::pool::{self, Registry, ThreadPool, WorkerThread};
use crate::task::Task;
use map_reduce::MapReduce;
use state::{EachIndex, Exit};
use std::fmt;
use std::ops::Range;

/// Parallel loops with their options: .NET's `Parallel` and
/// `ParallelOptions` in one value.
///
/// Made by [`Parallel::new`] (the current worker's pool, else the global
/// one) or [`ThreadPool::parallel`] (that pool); the builder methods set
/// the options, and the loop methods run a loop with them. It is `Copy`:
/// keep one and run several loops with it.
///
/// # Examples
///
/// ```
/// use taskpool::Parallel;
///
/// let mut squares = vec![0_u64; 1000];
/// Parallel::new()
///     .for_each_mut(&mut squares, |square, state| {
///         *square = (state.index() as u64).pow(2);
///     })
///     .unwrap();
/// assert_eq!(squares[999], 998_001);
///
/// let sum = Parallel::new()
///     .map_reduce(0..1000, || 0_u64, |i| squares[i], |a, b| a + b)
///     .unwrap();
/// assert_eq!(sum, (0..1000_u64).map(|i| i * i).sum());
/// ```
#[derive(Clone, Copy)]
pub struct Parallel<'a> {
    pool: Option<&'a ThreadPool>,
    token: Option<&'a CancellationToken>,
    options: LoopOptions,
}

/// The options that travel to the workers.
#[derive(Clone, Copy, Debug)]
struct LoopOptions {
    /// At most this many threads run iterations at once; `usize::MAX` for
    /// no limit.
    max_degree: usize,
    /// No part of the range shorter than this is split off.
    min_len: usize,
}

impl fmt::Debug for Parallel<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Parallel")
            .field("pool", &self.pool)
            .field("cancellable", &self.token.is_some())
            .field("max_degree_of_parallelism", &self.options.max_degree)
            .field("min_len", &self.options.min_len)
            .finish()
    }
}

impl Default for Parallel<'_> {
    fn default() -> Self {
        Parallel::new()
    }
}

/// A pointer to a slice's elements that the parts of one loop share; each
/// index is handed to exactly one iteration (see [`drive`](drive::drive)).
struct SharedMut<T>(*mut T);

// SAFETY: the parts of a loop use the pointer for disjoint elements only,
// each `&mut T` on one thread at a time; `T: Send` lets that thread be any.
unsafe impl<T: Send> Sync for SharedMut<T> {}

impl<T> SharedMut<T> {
    /// # Safety
    ///
    /// `start..start + len` lies in the slice, and no other reference to
    /// those elements exists while the returned one lives.
    #[allow(clippy::mut_from_ref)]
    unsafe fn slice(&self, start: usize, len: usize) -> &mut [T] {
        // SAFETY: by the caller's contract.
        unsafe { std::slice::from_raw_parts_mut(self.0.add(start), len) }
    }

    /// # Safety
    ///
    /// As [`slice`](Self::slice), for the one element at `index`.
    #[allow(clippy::mut_from_ref)]
    unsafe fn item(&self, index: usize) -> &mut T {
        // SAFETY: by the caller's contract.
        unsafe { &mut *self.0.add(index) }
    }
}

/// Construction and options.
impl<'a> Parallel<'a> {
    /// Loops on the current worker's pool, or, outside any pool, on the
    /// global one; no token, no limit on parallelism, halves of any length.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut items = vec![1, 2, 3, 4];
    /// taskpool::Parallel::new().for_each_mut(&mut items, |item, _| *item *= 10).unwrap();
    /// assert_eq!(items, [10, 20, 30, 40]);
    /// ```
    pub fn new() -> Parallel<'static> {
        Parallel {
            pool: None,
            token: None,
            options: LoopOptions {
                max_degree: usize::MAX,
                min_len: 1,
            },
        }
    }

    /// Ends the loops early once `token` is cancelled: no new iteration
    /// starts, running ones finish, and the loop returns `Err(Cancelled)`
    /// (a task from [`spawn_for_range`](Self::spawn_for_range) ends
    /// cancelled). A token cancelled before the loop starts runs nothing.
    ///
    /// # Examples
    ///
    /// ```
    /// let token = taskpool::CancellationToken::new();
    /// let result = taskpool::Parallel::new()
    ///     .cancellation_token(&token)
    ///     .for_range(0..1_000_000, |i, _| {
    ///         if i == 10 {
    ///             token.cancel();
    ///         }
    ///     });
    /// assert_eq!(result, Err(taskpool::Cancelled));
    /// ```
    pub fn cancellation_token(self, token: &'a CancellationToken) -> Parallel<'a> {
        Parallel {
            token: Some(token),
            ..self
        }
    }

    /// Runs iterations on at most `threads` threads at once (.NET's
    /// `MaxDegreeOfParallelism`); `1` runs the loop on one thread, in index
    /// order.
    ///
    /// # Panics
    ///
    /// If `threads` is 0.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Mutex;
    ///
    /// let order = Mutex::new(Vec::new());
    /// taskpool::Parallel::new()
    ///     .max_degree_of_parallelism(1)
    ///     .for_range(0..5, |i, _| order.lock().unwrap().push(i))
    ///     .unwrap();
    /// assert_eq!(order.into_inner().unwrap(), [0, 1, 2, 3, 4]);
    /// ```
    pub fn max_degree_of_parallelism(mut self, threads: usize) -> Parallel<'a> {
        assert!(threads > 0, "max_degree_of_parallelism must be at least 1");
        self.options.max_degree = threads;
        self
    }

    /// Never splits off a part shorter than `len` iterations (rayon's
    /// `with_min_len`): for bodies so cheap that even an occasional split
    /// costs too much, or that want their data in runs of at least `len`.
    /// `0` counts as `1`.
    ///
    /// # Examples
    ///
    /// ```
    /// let result = taskpool::Parallel::new().min_len(1000).for_range(0..10_000, |_, _| {});
    /// assert!(result.unwrap().completed);
    /// ```
    pub fn min_len(mut self, len: usize) -> Parallel<'a> {
        self.options.min_len = len.max(1);
        self
    }
}

/// The loops.
impl<'a> Parallel<'a> {
    /// Runs `body(i, state)` for every `i` in `range`, in parallel (.NET's
    /// `Parallel.For`).
    ///
    /// Blocks until every iteration that started has finished. Iterations
    /// run in no particular order, each index exactly once unless the loop
    /// ends early (see [`LoopState`]).
    ///
    /// # Errors
    ///
    /// [`Cancelled`] if the [`cancellation_token`](Self::cancellation_token)
    /// kept an iteration from starting.
    ///
    /// # Panics
    ///
    /// If an iteration panics: no new iteration starts, and once the
    /// running ones finished, the panic is raised again here (the first to
    /// arrive, if several did). The pool keeps running.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::atomic::{AtomicU64, Ordering};
    ///
    /// let sum = AtomicU64::new(0);
    /// let result = taskpool::Parallel::new()
    ///     .for_range(1..101, |i, _| {
    ///         sum.fetch_add(i as u64, Ordering::Relaxed);
    ///     })
    ///     .unwrap();
    /// assert!(result.completed);
    /// assert_eq!(sum.into_inner(), 5050);
    /// ```
    pub fn for_range<F>(self, range: Range<usize>, body: F) -> Result<LoopResult, Cancelled>
    where
        F: Fn(usize, &LoopState<'_>) + Sync,
    {
        let exit = self.exit_state()?;
        let options = self.options;
        let body = EachIndex {
            exit: &exit,
            f: body,
        };
        self.run_on_worker(|registry| drive::drive(registry, &options, range, &body));
        exit.result()
    }

    /// Runs `body(item, state)` for every item of `items`, in parallel
    /// (.NET's `Parallel.ForEach`); `state.index()` is the item's position.
    ///
    /// # Errors
    ///
    /// As [`for_range`](Self::for_range).
    ///
    /// # Panics
    ///
    /// As [`for_range`](Self::for_range).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::atomic::{AtomicUsize, Ordering};
    ///
    /// let words = ["parallel", "for", "each"];
    /// let letters = AtomicUsize::new(0);
    /// taskpool::Parallel::new()
    ///     .for_each(&words, |word, _| {
    ///         letters.fetch_add(word.len(), Ordering::Relaxed);
    ///     })
    ///     .unwrap();
    /// assert_eq!(letters.into_inner(), 15);
    /// ```
    pub fn for_each<T, F>(self, items: &[T], body: F) -> Result<LoopResult, Cancelled>
    where
        T: Sync,
        F: Fn(&T, &LoopState<'_>) + Sync,
    {
        self.for_range(0..items.len(), |index, state| body(&items[index], state))
    }

    /// Runs `body(item, state)` with each item of `items` borrowed mutably,
    /// in parallel (rayon's `par_iter_mut().for_each`); `state.index()` is
    /// the item's position.
    ///
    /// # Errors
    ///
    /// As [`for_range`](Self::for_range).
    ///
    /// # Panics
    ///
    /// As [`for_range`](Self::for_range).
    ///
    /// # Examples
    ///
    /// ```
    /// let mut names = vec![String::from("a"), String::from("b")];
    /// taskpool::Parallel::new().for_each_mut(&mut names, |name, _| name.push('!')).unwrap();
    /// assert_eq!(names, ["a!", "b!"]);
    /// ```
    pub fn for_each_mut<T, F>(self, items: &mut [T], body: F) -> Result<LoopResult, Cancelled>
    where
        T: Send,
        F: Fn(&mut T, &LoopState<'_>) + Sync,
    {
        let len = items.len();
        let shared = SharedMut(items.as_mut_ptr());
        self.for_range(0..len, |index, state| {
            // SAFETY: `index < len`, and the loop runs each index at most
            // once: this is the only reference to the item while `items`
            // is borrowed by this call.
            let item = unsafe { shared.item(index) };
            body(item, state);
        })
    }

    /// Cuts `items` into chunks of `chunk_len` (the last may be shorter)
    /// and runs `body(chunk_index, chunk, state)` for each, in parallel
    /// (rayon's `par_chunks_mut(chunk_len).enumerate().for_each`): rows of
    /// an image, blocks of a buffer. `state.index()` is the chunk's index.
    ///
    /// # Errors
    ///
    /// As [`for_range`](Self::for_range).
    ///
    /// # Panics
    ///
    /// If `chunk_len` is 0 (like [`slice::chunks_mut`]), and as
    /// [`for_range`](Self::for_range).
    ///
    /// # Examples
    ///
    /// ```
    /// // A 4 x 3 image: each row gets its row number.
    /// let mut image = vec![0_u8; 4 * 3];
    /// taskpool::Parallel::new()
    ///     .for_each_chunk_mut(&mut image, 4, |row, pixels, _| pixels.fill(row as u8))
    ///     .unwrap();
    /// assert_eq!(image, [0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2]);
    /// ```
    pub fn for_each_chunk_mut<T, F>(
        self,
        items: &mut [T],
        chunk_len: usize,
        body: F,
    ) -> Result<LoopResult, Cancelled>
    where
        T: Send,
        F: Fn(usize, &mut [T], &LoopState<'_>) + Sync,
    {
        assert!(
            chunk_len != 0,
            "for_each_chunk_mut: chunk_len must not be 0"
        );
        let len = items.len();
        let chunks = len.div_ceil(chunk_len);
        let shared = SharedMut(items.as_mut_ptr());
        self.for_range(0..chunks, |chunk, state| {
            let start = chunk * chunk_len;
            let this_len = chunk_len.min(len - start);
            // SAFETY: `start..start + this_len` lies in `items`, which this
            // call borrows mutably until the loop ended; the loop runs each
            // chunk index at most once, and chunks of distinct indices do
            // not overlap, so this is the only reference to these elements.
            let chunk_items = unsafe { shared.slice(start, this_len) };
            body(chunk, chunk_items, state);
        })
    }

    /// Maps every index of a range, or every item of a slice, and reduces
    /// the values, in parallel: the map-reduce form (a sum, a minimum, a
    /// merged histogram; rayon's `map(..).reduce(..)`).
    ///
    /// `input` is a `Range<usize>` (`map` gets each index) or a slice
    /// (`map` gets a reference to each item; the fold then walks the
    /// slice's items directly, which the compiler can vectorize).
    /// `identity()` must be a neutral value for `reduce`, and `reduce`
    /// associative; it need not be commutative: values are combined in
    /// index order, so string concatenation gives the sequential answer.
    /// Each part of the input folds its values from its own `identity()`.
    ///
    /// # Errors
    ///
    /// [`Cancelled`] if the [`cancellation_token`](Self::cancellation_token)
    /// kept an item from being mapped.
    ///
    /// # Panics
    ///
    /// If `identity`, `map` or `reduce` panics: as
    /// [`for_range`](Self::for_range).
    ///
    /// # Examples
    ///
    /// ```
    /// let digits = taskpool::Parallel::new()
    ///     .map_reduce(0..10, String::new, |i| i.to_string(), |a, b| a + &b)
    ///     .unwrap();
    /// assert_eq!(digits, "0123456789");
    ///
    /// let values: Vec<u64> = (1..=1000).collect();
    /// let sum = taskpool::Parallel::new()
    ///     .map_reduce(&values[..], || 0, |&v| v, |a, b| a + b)
    ///     .unwrap();
    /// assert_eq!(sum, 500_500);
    /// ```
    pub fn map_reduce<In, T, I, M, R>(
        self,
        input: In,
        identity: I,
        map: M,
        reduce: R,
    ) -> Result<T, Cancelled>
    where
        In: MapReduceInput,
        T: Send,
        I: Fn() -> T + Sync,
        M: Fn(In::Item) -> T + Sync,
        R: Fn(T, T) -> T + Sync,
    {
        let exit = self.exit_state()?;
        let options = self.options;
        let indices = input.indices();
        let body = MapReduce {
            exit: &exit,
            input,
            identity,
            map,
            reduce,
        };
        let value = self.run_on_worker(|registry| drive::drive(registry, &options, indices, &body));
        exit.result().map(|_| value)
    }

    /// Starts `body(i, state)` for every `i` in `range` without waiting,
    /// and returns a [`Task`] for the loop's result (.NET's
    /// `Parallel.ForEachAsync`).
    ///
    /// The loop runs like [`for_range`](Self::for_range), on this value's
    /// pool, with its options; the body is `'static` since the caller does
    /// not wait. The task can be joined or awaited, continued with
    /// [`Task::then`], and cancelled: [`Task::cancel`] (or the
    /// [`cancellation_token`](Self::cancellation_token)) starts no new
    /// iteration, and the task ends cancelled. A panic in an iteration
    /// ends the task with that panic.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use std::sync::atomic::{AtomicU64, Ordering};
    ///
    /// let sum = Arc::new(AtomicU64::new(0));
    /// let counted = sum.clone();
    /// let task = taskpool::Parallel::new().spawn_for_range(0..1000, move |i, _| {
    ///     counted.fetch_add(i as u64, Ordering::Relaxed);
    /// });
    /// let total = task.then(move |result| {
    ///     assert!(result.unwrap().completed);
    ///     sum.load(Ordering::Relaxed)
    /// });
    /// assert_eq!(total.join().unwrap(), 499_500);
    /// ```
    pub fn spawn_for_range<F>(self, range: Range<usize>, body: F) -> Task<LoopResult>
    where
        F: Fn(usize, &LoopState<'_>) + Send + Sync + 'static,
    {
        let options = self.options;
        let parent = self.token.cloned().unwrap_or_default();
        let run = move |own: &CancellationToken| {
            let parallel = Parallel {
                pool: None,
                token: Some(own),
                options,
            };
            parallel.for_range(range, body)
        };
        match self.pool {
            Some(pool) => pool.spawn_with_token(&parent, run),
            None => pool::current_or_global(|registry| {
                crate::task::spawn_with_token_on(registry, &parent, run)
            }),
        }
    }

    /// A loop's exit state, or `Err` at once if the token is cancelled
    /// already (then no iteration runs).
    fn exit_state(&self) -> Result<Exit<'a>, Cancelled> {
        match self.token {
            Some(token) if token.is_cancelled() => Err(Cancelled),
            token => Ok(Exit::new(token)),
        }
    }

    /// Runs `f` on a worker of this value's pool, with that pool's
    /// registry: right here on such a worker, else through a join sent to
    /// the pool, which blocks this thread until it is done. A pool that
    /// shut down runs the join on this thread: `f` then gets no registry,
    /// and the loop runs here, sequentially.
    fn run_on_worker<R: Send>(&self, f: impl FnOnce(Option<&Registry>) -> R + Send) -> R {
        let mut f = Some(f);
        let here = WorkerThread::with_current(|worker| match worker {
            Some(worker)
                if self
                    .pool
                    .is_none_or(|pool| worker.belongs_to(pool.registry())) =>
            {
                Some((f.take().expect("called once"))(Some(worker.registry())))
            }
            _ => None,
        });
        if let Some(result) = here {
            return result;
        }
        let f = f.take().expect("called once");
        let on_worker = move || {
            WorkerThread::with_current(|worker| f(worker.map(|worker| &**worker.registry())))
        };
        // The loop is the join's second closure: the worker runs the empty
        // first one and pops the loop straight back, so the loop's own
        // split-off halves are the only work thieves find on its deque.
        match self.pool {
            Some(pool) => pool.join(|| {}, on_worker).1,
            None => crate::join(|| {}, on_worker).1,
        }
    }
}

/// Parallel loops.
impl ThreadPool {
    /// Parallel loops on this pool: a [`Parallel`] with the default
    /// options, whose loops run on this pool's workers.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = taskpool::ThreadPool::new(2);
    /// let total = pool
    ///     .parallel()
    ///     .map_reduce(0..1_000, || 0_u64, |i| i as u64, |a, b| a + b)
    ///     .unwrap();
    /// assert_eq!(total, 499_500);
    /// ```
    pub fn parallel(&self) -> Parallel<'_> {
        Parallel {
            pool: Some(self),
            ..Parallel::new()
        }
    }
}
