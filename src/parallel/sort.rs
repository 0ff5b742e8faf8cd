//! Parallel sorts of a slice, on the current worker's pool or the global
//! one: rayon's `par_sort*` names, as an extension trait on `[T]`.
//!
//! * Unstable: a quicksort whose two sides run through
//!   [`join`](crate::join). The pivot is the median of a sample spread over
//!   the whole slice, so the halves are close to even; the partition scans
//!   blocks of elements without branching on the comparisons and then swaps
//!   the misplaced ones in pairs. Runs of elements equal to an earlier pivot
//!   are set aside in one pass (many duplicates cost linear time). Once the
//!   parts are small enough to keep every worker busy, each is sorted by
//!   std's `sort_unstable_by`; a part whose partitions keep coming out lopsided
//!   goes to std's sort early, which bounds the worst case at `n log n`.
//! * Stable: a merge sort. Halves sort in parallel (std's stable sort at
//!   the leaves), then are copied to a buffer and merged back, the merge
//!   itself split in parallel by binary search.
//!
//! # A comparator that panics
//!
//! The panic reaches the caller (after the other parts finished) and the
//! slice holds a permutation of its elements, as with std's sorts: the
//! quicksort only ever swaps elements, and each merge has a guard that, on
//! unwinding, copies the elements it has not placed yet back into the part
//! of the slice it was filling.

use super::{Parallel, SharedMut};
use std::cmp::Ordering;
use std::mem::{self, size_of};
use std::ptr;

/// Below this many elements a sort runs on the calling thread with std's
/// sort: not worth a trip to the pool. (The cut-offs are far lower under
/// Miri, so that its tests reach every parallel path with short inputs.)
const SEQUENTIAL_LEN: usize = if cfg!(miri) { 256 } else { 1 << 13 };

/// Parts are not cut smaller than this for the workers' sake.
const MIN_PART_LEN: usize = if cfg!(miri) { 128 } else { 1 << 12 };

/// How many parts per worker a sort aims for, so that a worker that ends
/// early finds parts left to steal.
const PARTS_PER_WORKER: usize = 32;

/// Merges of fewer elements than this run on one thread.
const SEQUENTIAL_MERGE_LEN: usize = if cfg!(miri) { 128 } else { 1 << 13 };

/// Copies of fewer elements than this run on one thread.
const SEQUENTIAL_COPY_LEN: usize = if cfg!(miri) { 128 } else { 1 << 16 };

/// The pivot is the median of this many elements spread over the part.
const PIVOT_SAMPLES: usize = 31;

/// The partition scans elements this many at a time (offsets fit a `u8`).
const BLOCK: usize = 64;

/// Parallel sorts for slices, with rayon's names (`par_sort`,
/// `par_sort_unstable`, `_by`, `_by_key`).
///
/// They run on the current worker's pool, or, outside any pool, on the
/// global one; from a worker, the caller takes part. To sort on a pool of
/// your own, call them from work running on it (a task, a
/// [`join`](crate::ThreadPool::join)). Short slices are sorted right away
/// on the calling thread. The stable sorts keep equal
/// elements in their order and allocate a buffer as long as the slice; the
/// unstable ones sort in place and are faster.
///
/// If the comparator (or key function) panics, the panic reaches the caller
/// once the other parts have finished, and the slice holds a permutation of
/// its elements, in no particular order.
///
/// # Examples
///
/// ```
/// use taskpool::ParallelSort;
///
/// let mut values: Vec<u64> = (0..100_000).map(|i| (i * 7919) % 100_003).collect();
/// values.par_sort_unstable();
/// assert!(values.windows(2).all(|pair| pair[0] <= pair[1]));
///
/// let mut people = vec![("ada", 36), ("alan", 41), ("grace", 36)];
/// people.par_sort_by_key(|&(_, age)| age); // stable: ada stays before grace
/// assert_eq!(people, [("ada", 36), ("grace", 36), ("alan", 41)]);
/// ```
pub trait ParallelSort<T: Send> {
    /// Sorts the slice, stable (std's `sort`, in parallel).
    ///
    /// # Examples
    ///
    /// ```
    /// use taskpool::ParallelSort;
    ///
    /// let mut words = vec!["pear", "apple", "fig"];
    /// words.par_sort();
    /// assert_eq!(words, ["apple", "fig", "pear"]);
    /// ```
    fn par_sort(&mut self)
    where
        T: Ord;

    /// Sorts the slice with a comparator, stable.
    ///
    /// # Examples
    ///
    /// ```
    /// use taskpool::ParallelSort;
    ///
    /// let mut values = vec![1, 5, 2, 4, 3];
    /// values.par_sort_by(|a, b| b.cmp(a));
    /// assert_eq!(values, [5, 4, 3, 2, 1]);
    /// ```
    fn par_sort_by<F>(&mut self, compare: F)
    where
        F: Fn(&T, &T) -> Ordering + Sync;

    /// Sorts the slice by a key, stable.
    ///
    /// # Examples
    ///
    /// ```
    /// use taskpool::ParallelSort;
    ///
    /// let mut values = vec![-3_i32, 1, -2];
    /// values.par_sort_by_key(|v| v.abs());
    /// assert_eq!(values, [1, -2, -3]);
    /// ```
    fn par_sort_by_key<K, F>(&mut self, key: F)
    where
        K: Ord,
        F: Fn(&T) -> K + Sync;

    /// Sorts the slice, unstable (rayon's `par_sort_unstable`).
    ///
    /// # Examples
    ///
    /// ```
    /// use taskpool::ParallelSort;
    ///
    /// let mut values = vec![3, 1, 2];
    /// values.par_sort_unstable();
    /// assert_eq!(values, [1, 2, 3]);
    /// ```
    fn par_sort_unstable(&mut self)
    where
        T: Ord;

    /// Sorts the slice with a comparator, unstable.
    ///
    /// # Examples
    ///
    /// ```
    /// use taskpool::ParallelSort;
    ///
    /// let mut values = vec![1.5, -0.5, 0.25];
    /// values.par_sort_unstable_by(|a: &f64, b| a.total_cmp(b));
    /// assert_eq!(values, [-0.5, 0.25, 1.5]);
    /// ```
    fn par_sort_unstable_by<F>(&mut self, compare: F)
    where
        F: Fn(&T, &T) -> Ordering + Sync;

    /// Sorts the slice by a key, unstable.
    ///
    /// # Examples
    ///
    /// ```
    /// use taskpool::ParallelSort;
    ///
    /// let mut values = vec![(2, 'b'), (1, 'a'), (3, 'c')];
    /// values.par_sort_unstable_by_key(|&(n, _)| n);
    /// assert_eq!(values, [(1, 'a'), (2, 'b'), (3, 'c')]);
    /// ```
    fn par_sort_unstable_by_key<K, F>(&mut self, key: F)
    where
        K: Ord,
        F: Fn(&T) -> K + Sync;
}

impl<T: Send> ParallelSort<T> for [T] {
    fn par_sort(&mut self)
    where
        T: Ord,
    {
        stable_sort(self, &T::cmp);
    }

    fn par_sort_by<F>(&mut self, compare: F)
    where
        F: Fn(&T, &T) -> Ordering + Sync,
    {
        stable_sort(self, &compare);
    }

    fn par_sort_by_key<K, F>(&mut self, key: F)
    where
        K: Ord,
        F: Fn(&T) -> K + Sync,
    {
        stable_sort(self, &|a: &T, b: &T| key(a).cmp(&key(b)));
    }

    fn par_sort_unstable(&mut self)
    where
        T: Ord,
    {
        unstable_sort(self, &T::cmp);
    }

    fn par_sort_unstable_by<F>(&mut self, compare: F)
    where
        F: Fn(&T, &T) -> Ordering + Sync,
    {
        unstable_sort(self, &compare);
    }

    fn par_sort_unstable_by_key<K, F>(&mut self, key: F)
    where
        K: Ord,
        F: Fn(&T) -> K + Sync,
    {
        unstable_sort(self, &|a: &T, b: &T| key(a).cmp(&key(b)));
    }
}

/// The length of the parts the workers sort on their own.
fn part_len(len: usize, threads: usize) -> usize {
    (len / threads.saturating_mul(PARTS_PER_WORKER).max(1)).max(MIN_PART_LEN)
}

fn unstable_sort<T, C>(v: &mut [T], compare: &C)
where
    T: Send,
    C: Fn(&T, &T) -> Ordering + Sync,
{
    if v.len() <= SEQUENTIAL_LEN || size_of::<T>() == 0 {
        v.sort_unstable_by(compare);
        return;
    }
    Parallel::new().run_on_worker(|registry| match registry {
        Some(registry) if registry.threads() > 1 => {
            let leaf = part_len(v.len(), registry.threads());
            let limit = usize::BITS - v.len().leading_zeros();
            quicksort(v, compare, None, leaf, limit);
        }
        _ => v.sort_unstable_by(compare),
    });
}

/// Sorts `v`, all of whose elements are at least `floor` (a pivot of an
/// enclosing part, if any). `bad_splits` counts down the lopsided
/// partitions this part may still have before it goes to std's sort.
fn quicksort<T, C>(
    v: &mut [T],
    compare: &C,
    floor: Option<&mut T>,
    leaf: usize,
    mut bad_splits: u32,
) where
    T: Send,
    C: Fn(&T, &T) -> Ordering + Sync,
{
    let len = v.len();
    if len <= leaf || bad_splits == 0 {
        v.sort_unstable_by(compare);
        return;
    }
    let is_less = |a: &T, b: &T| compare(a, b) == Ordering::Less;
    v.swap(0, choose_pivot(v, &is_less));
    let (pivot, rest) = v.split_at_mut(1);
    let pivot = &pivot[0];
    // `floor` is a `&mut` only because that is `Send` for any `T: Send`
    // (a shared reference would need `T: Sync`); it is only read.
    if floor.as_deref().is_some_and(|floor| !is_less(floor, pivot)) {
        // The pivot equals the floor, and nothing here is below it: every
        // element not above the pivot equals it, and is in place.
        let equal = partition(rest, &|x: &T| !is_less(pivot, x));
        quicksort(&mut v[equal + 1..], compare, floor, leaf, bad_splits);
        return;
    }
    let lesser = partition(rest, &|x: &T| is_less(x, pivot));
    v.swap(0, lesser);
    if lesser.min(len - lesser) < len / 8 {
        bad_splits -= 1;
    }
    let (left, right) = v.split_at_mut(lesser);
    let (pivot, right) = right.split_at_mut(1);
    crate::join(
        || quicksort(left, compare, floor, leaf, bad_splits),
        || quicksort(right, compare, Some(&mut pivot[0]), leaf, bad_splits),
    );
}

/// The index of the median of [`PIVOT_SAMPLES`] elements spread evenly
/// over `v` (which is longer than that). Only the indices move: a panic in
/// `is_less` leaves `v` as it was.
fn choose_pivot<T>(v: &[T], is_less: &impl Fn(&T, &T) -> bool) -> usize {
    let step = v.len() / PIVOT_SAMPLES;
    let mut samples: [usize; PIVOT_SAMPLES] = std::array::from_fn(|i| i * step + step / 2);
    for i in 1..PIVOT_SAMPLES {
        let mut j = i;
        while j > 0 && is_less(&v[samples[j]], &v[samples[j - 1]]) {
            samples.swap(j, j - 1);
            j -= 1;
        }
    }
    samples[PIVOT_SAMPLES / 2]
}

/// Moves the elements for which `goes_left` holds before the others, and
/// returns how many there are.
///
/// Blocks of [`BLOCK`] elements are scanned from both ends, recording the
/// offsets of misplaced elements without a branch per element; then the
/// misplaced ones are swapped in pairs. The middle that is left when the
/// two ends meet is done one element at a time. Elements only ever swap
/// places, and `goes_left` is never called while a swap is half done: a
/// panic leaves a permutation.
fn partition<T>(v: &mut [T], goes_left: &impl Fn(&T) -> bool) -> usize {
    let base = v.as_mut_ptr();
    // Everything below `left` goes left, everything from `right` on goes
    // right; the offsets name misplaced elements of the blocks at either
    // end, `start..end` of them not swapped yet.
    let (mut left, mut right) = (0, v.len());
    let mut offsets_left = [0_u8; BLOCK];
    let mut offsets_right = [0_u8; BLOCK];
    let (mut start_left, mut end_left) = (0, 0);
    let (mut start_right, mut end_right) = (0, 0);
    while right - left >= 2 * BLOCK {
        if start_left == end_left {
            (start_left, end_left) = (0, 0);
            for offset in 0..BLOCK {
                // Written always, counted only when misplaced.
                offsets_left[end_left] = offset as u8;
                // SAFETY: `left + offset < right <= v.len()`.
                end_left += usize::from(!goes_left(unsafe { &*base.add(left + offset) }));
            }
        }
        if start_right == end_right {
            (start_right, end_right) = (0, 0);
            for offset in 0..BLOCK {
                offsets_right[end_right] = offset as u8;
                // SAFETY: `left <= right - 1 - offset < v.len()`.
                end_right += usize::from(goes_left(unsafe { &*base.add(right - 1 - offset) }));
            }
        }
        let count = (end_left - start_left).min(end_right - start_right);
        for k in 0..count {
            let a = left + usize::from(offsets_left[start_left + k]);
            let b = right - 1 - usize::from(offsets_right[start_right + k]);
            // SAFETY: `a` lies in the left block and `b` in the right one,
            // which do not overlap (`right - left >= 2 * BLOCK`); both are
            // in `v`, and no reference into `v` is alive.
            unsafe { ptr::swap_nonoverlapping(base.add(a), base.add(b), 1) };
        }
        start_left += count;
        start_right += count;
        if start_left == end_left {
            left += BLOCK;
        }
        if start_right == end_right {
            right -= BLOCK;
        }
    }
    // The middle, blocks half done included: swap each element to the
    // boundary, which moves on when it goes left.
    let mut boundary = left;
    for i in left..right {
        // SAFETY: `i < right <= v.len()`; the reference ends before the swap.
        let goes = goes_left(unsafe { &*base.add(i) });
        // SAFETY: `boundary <= i`, both in `v`; `ptr::swap` allows them to
        // be the same element.
        unsafe { ptr::swap(base.add(i), base.add(boundary)) };
        boundary += usize::from(goes);
    }
    boundary
}

fn stable_sort<T, C>(v: &mut [T], compare: &C)
where
    T: Send,
    C: Fn(&T, &T) -> Ordering + Sync,
{
    if v.len() <= SEQUENTIAL_LEN || size_of::<T>() == 0 {
        v.sort_by(compare);
        return;
    }
    Parallel::new().run_on_worker(|registry| match registry {
        Some(registry) if registry.threads() > 1 => {
            let leaf = part_len(v.len(), registry.threads());
            // The buffer holds bitwise copies while a merge runs; its
            // length stays 0, so it never drops an element.
            let mut buffer: Vec<T> = Vec::with_capacity(v.len());
            let buffer = SharedMut(buffer.as_mut_ptr());
            merge_sort(v, &buffer, compare, leaf);
        }
        _ => v.sort_by(compare),
    });
}

/// Sorts `v`, stable, with `buffer` (room for `v.len()` elements, used by
/// nobody else meanwhile) as scratch space.
fn merge_sort<T, C>(v: &mut [T], buffer: &SharedMut<T>, compare: &C, leaf: usize)
where
    T: Send,
    C: Fn(&T, &T) -> Ordering + Sync,
{
    let len = v.len();
    if len <= leaf {
        v.sort_by(compare);
        return;
    }
    let mid = len / 2;
    let (left, right) = v.split_at_mut(mid);
    // SAFETY: the two halves of the buffer are disjoint, as are the halves
    // of `v` they serve.
    let upper = SharedMut(unsafe { buffer.0.add(mid) });
    crate::join(
        || merge_sort(left, buffer, compare, leaf),
        || merge_sort(right, &upper, compare, leaf),
    );
    if compare(&v[mid - 1], &v[mid]) != Ordering::Greater {
        return; // already in order
    }
    let dest = SharedMut(v.as_mut_ptr());
    // SAFETY: the buffer has room for `len` elements; the copies in it are
    // bitwise duplicates until the merge below makes them the originals.
    unsafe { parallel_copy(&dest, buffer, len) };
    let runs = Runs {
        left: buffer.0,
        left_len: mid,
        // SAFETY: `mid < len`: inside the buffer.
        right: unsafe { buffer.0.add(mid) },
        right_len: len - mid,
    };
    // SAFETY: the buffer holds the two sorted halves, and `dest` is `v`,
    // whose elements are now the buffer's duplicates: the merge may
    // overwrite them.
    unsafe { parallel_merge(runs, &dest, compare) };
}

/// Copies `len` elements from `from` to `to`, parts in parallel.
///
/// # Safety
///
/// Both are valid for `len` elements and do not overlap.
unsafe fn parallel_copy<T: Send>(from: &SharedMut<T>, to: &SharedMut<T>, len: usize) {
    if len <= SEQUENTIAL_COPY_LEN {
        // SAFETY: by the caller's contract.
        unsafe { ptr::copy_nonoverlapping(from.0, to.0, len) };
        return;
    }
    let mid = len / 2;
    // SAFETY: `mid < len`: both stay inside their ranges.
    let (from_upper, to_upper) = unsafe { (SharedMut(from.0.add(mid)), SharedMut(to.0.add(mid))) };
    crate::join(
        // SAFETY: the halves are disjoint parts of the caller's ranges.
        || unsafe { parallel_copy(from, to, mid) },
        // SAFETY: as above.
        || unsafe { parallel_copy(&from_upper, &to_upper, len - mid) },
    );
}

/// Two sorted runs of a merge, in the buffer.
struct Runs<T> {
    left: *mut T,
    left_len: usize,
    right: *mut T,
    right_len: usize,
}

// SAFETY: the runs are read by one part of a merge at a time; `T: Send`.
unsafe impl<T: Send> Send for Runs<T> {}

/// Merges `runs` into `dest` (room for both), stable: of equal elements,
/// the left run's come first. Splits the merge in two by binary search
/// while it is long.
///
/// # Safety
///
/// The runs are sorted, valid, and the only live copies of their elements;
/// `dest` is valid for writes of both runs' length and overlaps neither.
/// When this returns or unwinds, every element of the runs has been moved
/// into `dest` exactly once.
unsafe fn parallel_merge<T: Send, C>(runs: Runs<T>, dest: &SharedMut<T>, compare: &C)
where
    C: Fn(&T, &T) -> Ordering + Sync,
{
    let total = runs.left_len + runs.right_len;
    if total <= SEQUENTIAL_MERGE_LEN || runs.left_len == 0 || runs.right_len == 0 {
        // SAFETY: passed on from the caller.
        unsafe { sequential_merge(runs, dest.0, compare) };
        return;
    }
    // If a comparison panics before the halves are handed on, this fills
    // `dest` with the runs as they are.
    let guard = MergeHole::new(&runs, dest.0);
    // SAFETY: every index below is inside its run.
    let at = |run: *mut T, index: usize| unsafe { &*run.add(index) };
    let (left_cut, right_cut) = if runs.left_len >= runs.right_len {
        let cut = runs.left_len / 2;
        let pivot = at(runs.left, cut);
        // Right elements below the pivot go first; equal ones after it.
        let below = partition_point(runs.right_len, |j| {
            compare(at(runs.right, j), pivot) == Ordering::Less
        });
        (cut, below)
    } else {
        let cut = runs.right_len / 2;
        let pivot = at(runs.right, cut);
        // Left elements up to the pivot (equal ones too) go first.
        let not_above = partition_point(runs.left_len, |i| {
            compare(at(runs.left, i), pivot) != Ordering::Greater
        });
        (not_above, cut)
    };
    mem::forget(guard);
    // SAFETY: the cuts lie inside the runs (`partition_point` returns at
    // most the length it is given).
    let (first, second) = unsafe {
        (
            Runs {
                left: runs.left,
                left_len: left_cut,
                right: runs.right,
                right_len: right_cut,
            },
            Runs {
                left: runs.left.add(left_cut),
                left_len: runs.left_len - left_cut,
                right: runs.right.add(right_cut),
                right_len: runs.right_len - right_cut,
            },
        )
    };
    // SAFETY: inside `dest`, after the first half's elements.
    let second_dest = SharedMut(unsafe { dest.0.add(left_cut + right_cut) });
    crate::join(
        // SAFETY: each half merges its own elements into its own part of
        // `dest`; every element of the first half is at most every element
        // of the second, so the two parts together are sorted.
        || unsafe { parallel_merge(first, dest, compare) },
        // SAFETY: as above.
        || unsafe { parallel_merge(second, &second_dest, compare) },
    );
}

/// The first index in `0..len` where `holds` is false, given that it holds
/// for a prefix of the range only (binary search).
fn partition_point(len: usize, holds: impl Fn(usize) -> bool) -> usize {
    let (mut low, mut high) = (0, len);
    while low < high {
        let mid = low + (high - low) / 2;
        if holds(mid) {
            low = mid + 1;
        } else {
            high = mid;
        }
    }
    low
}

/// The sequential merge under [`parallel_merge`], same contract.
unsafe fn sequential_merge<T, C>(runs: Runs<T>, dest: *mut T, compare: &C)
where
    C: Fn(&T, &T) -> Ordering,
{
    // Its drop moves what is left of both runs into the rest of `dest`:
    // at the end, or when `compare` panics.
    let mut hole = MergeHole::new(&runs, dest);
    while hole.left < hole.left_end && hole.right < hole.right_end {
        // SAFETY: both pointers are inside their runs (checked above).
        let take_right = unsafe { compare(&*hole.right, &*hole.left) } == Ordering::Less;
        let from = if take_right { hole.right } else { hole.left };
        // SAFETY: `hole.dest` has room for every element not yet placed,
        // and `from` is one of them; each is moved exactly once.
        unsafe {
            ptr::copy_nonoverlapping(from, hole.dest, 1);
            hole.dest = hole.dest.add(1);
            if take_right {
                hole.right = hole.right.add(1);
            } else {
                hole.left = hole.left.add(1);
            }
        }
    }
}

/// What a merge has not placed yet, moved into place when dropped.
struct MergeHole<T> {
    left: *mut T,
    left_end: *mut T,
    right: *mut T,
    right_end: *mut T,
    dest: *mut T,
}

impl<T> MergeHole<T> {
    fn new(runs: &Runs<T>, dest: *mut T) -> Self {
        MergeHole {
            left: runs.left,
            // SAFETY: one past the end of each run.
            left_end: unsafe { runs.left.add(runs.left_len) },
            right: runs.right,
            // SAFETY: as above.
            right_end: unsafe { runs.right.add(runs.right_len) },
            dest,
        }
    }
}

impl<T> Drop for MergeHole<T> {
    fn drop(&mut self) {
        // SAFETY: `left..left_end` and `right..right_end` are the elements
        // not placed yet, and `dest` has room for exactly that many.
        unsafe {
            let left = self.left_end.offset_from(self.left) as usize;
            let right = self.right_end.offset_from(self.right) as usize;
            ptr::copy_nonoverlapping(self.left, self.dest, left);
            ptr::copy_nonoverlapping(self.right, self.dest.add(left), right);
        }
    }
}
