//! The map-reduce loop: what it runs over ([`MapReduceInput`]), and its
//! body for the splitting engine.

use super::drive::Body;
use super::state::{Exit, StopOnPanic};
use std::ops::Range;

mod sealed {
    pub trait Sealed {}
}

/// What [`Parallel::map_reduce`](super::Parallel::map_reduce) runs over: a
/// range of indices (the map gets each index), or a slice or `Vec` by
/// reference (the map gets each item).
///
/// Sealed: these are the only implementations.
///
/// # Examples
///
/// ```
/// use taskpool::Parallel;
///
/// let words = vec!["map", "reduce"];
/// let letters = Parallel::new().map_reduce(&words, || 0, |w| w.len(), |a, b| a + b);
/// assert_eq!(letters, Ok(9));
/// let squares = Parallel::new().map_reduce(1..4, || 0, |i| i * i, |a, b| a + b);
/// assert_eq!(squares, Ok(14));
/// ```
pub trait MapReduceInput: Sync + sealed::Sealed {
    /// What the map gets: an index, or a reference to an item.
    type Item;

    /// The loop's indices: the range itself, or `0..len`.
    #[doc(hidden)]
    fn indices(&self) -> Range<usize>;

    /// The item at `index`, one of [`indices`](Self::indices).
    #[doc(hidden)]
    fn item(&self, index: usize) -> Self::Item;

    /// Folds the items at `range` into `acc`, in order.
    #[doc(hidden)]
    fn fold<A>(&self, range: Range<usize>, acc: A, f: impl FnMut(A, Self::Item) -> A) -> A;
}

impl sealed::Sealed for Range<usize> {}

impl MapReduceInput for Range<usize> {
    type Item = usize;

    fn indices(&self) -> Range<usize> {
        self.clone()
    }

    #[inline]
    fn item(&self, index: usize) -> usize {
        index
    }

    #[inline]
    fn fold<A>(&self, range: Range<usize>, acc: A, f: impl FnMut(A, usize) -> A) -> A {
        range.fold(acc, f)
    }
}

impl<T: Sync> sealed::Sealed for &[T] {}

impl<'a, T: Sync> MapReduceInput for &'a [T] {
    type Item = &'a T;

    fn indices(&self) -> Range<usize> {
        0..self.len()
    }

    #[inline]
    fn item(&self, index: usize) -> &'a T {
        &self[index]
    }

    #[inline]
    fn fold<A>(&self, range: Range<usize>, acc: A, f: impl FnMut(A, &'a T) -> A) -> A {
        self[range].iter().fold(acc, f)
    }
}

impl<T: Sync> sealed::Sealed for &Vec<T> {}

impl<'a, T: Sync> MapReduceInput for &'a Vec<T> {
    type Item = &'a T;

    fn indices(&self) -> Range<usize> {
        self.as_slice().indices()
    }

    #[inline]
    fn item(&self, index: usize) -> &'a T {
        self.as_slice().item(index)
    }

    #[inline]
    fn fold<A>(&self, range: Range<usize>, acc: A, f: impl FnMut(A, &'a T) -> A) -> A {
        self.as_slice().fold(range, acc, f)
    }
}

/// The map-reduce loop's body: a fold per block, blocks combined in index
/// order.
pub(super) struct MapReduce<'a, In, I, M, R> {
    pub(super) exit: &'a Exit<'a>,
    pub(super) input: In,
    pub(super) identity: I,
    pub(super) map: M,
    pub(super) reduce: R,
}

impl<In, T, I, M, R> Body for MapReduce<'_, In, I, M, R>
where
    In: MapReduceInput,
    T: Send,
    I: Fn() -> T + Sync,
    M: Fn(In::Item) -> T + Sync,
    R: Fn(T, T) -> T + Sync,
{
    type Acc = T;

    fn identity(&self) -> T {
        (self.identity)()
    }

    #[inline]
    fn run(&self, mut acc: T, range: Range<usize>) -> (T, bool) {
        let guard = StopOnPanic(&self.exit.limit);
        let token = self.exit.token;
        if token.is_some() {
            // A token may be cancelled by any iteration: ask before each.
            for index in range {
                if !self.exit.may_start_with(token, index) {
                    std::mem::forget(guard);
                    return (acc, false);
                }
                acc = (self.reduce)(acc, (self.map)(self.input.item(index)));
            }
        } else {
            // Only a panic elsewhere ends this loop early: ask per block,
            // and leave the fold itself free of checks.
            if !self.exit.may_start_with(None, range.start) {
                std::mem::forget(guard);
                return (acc, false);
            }
            acc = self
                .input
                .fold(range, acc, |acc, item| (self.reduce)(acc, (self.map)(item)));
        }
        std::mem::forget(guard);
        (acc, true)
    }

    fn reduce(&self, left: T, right: T) -> T {
        (self.reduce)(left, right)
    }
}
