//! Parallel loops and sort: taskpool's `Parallel` and `ParallelSort`
//! beside rayon's parallel iterators and `par_sort_unstable`.
//!
//! Only these two have data-parallel loops, so each function finds out
//! which contender it was given (by type) and calls that library's own API,
//! the way its users would from `main`: `pool.parallel()` for taskpool
//! (its level-2 column), `pool.install(|| ...par_iter()...)` for rayon.
//! Every other column is n/a. Each function checks the answer.
//!
//! | function | taskpool | rayon |
//! |---|---|---|
//! | [`sum`] | `map_reduce` | `par_iter().sum()` |
//! | [`fill`] | `for_each_mut` | `par_iter_mut().enumerate().for_each` |
//! | [`image`] | `for_each_chunk_mut` over rows | `par_chunks_mut(row).enumerate().for_each` |
//! | [`small_loops`] | many `for_each_mut` of 100 items from outside | many `install(par_iter_mut)` |
//! | [`sort`] | `par_sort_unstable` | `par_sort_unstable` |

use super::Unmeasured::{self, NotApplicable};
use crate::harness::contender::Contender;
use crate::harness::contenders::{Rayon, TaskpoolL2};
use rayon::prelude::*;
use std::any::Any;
use std::hint::black_box;
use std::time::{Duration, Instant};

/// Escape-time iterations of the deepest pixels of [`image`].
pub const MAX_ITERATIONS: u32 = 2_000;

/// The library under a contender, when it has parallel loops.
enum Library<'a> {
    Taskpool(&'a taskpool::ThreadPool),
    Rayon(&'a rayon::ThreadPool),
}

fn library<C: Contender>(pool: &C) -> Result<Library<'_>, Unmeasured> {
    let any: &dyn Any = pool;
    if let Some(ours) = any.downcast_ref::<TaskpoolL2>() {
        return Ok(Library::Taskpool(&ours.0));
    }
    if let Some(rayon) = any.downcast_ref::<Rayon>() {
        return Ok(Library::Rayon(&rayon.0));
    }
    Err(NotApplicable(
        "no parallel loops (taskpool's are in its level-2 column)",
    ))
}

/// Sums `len` u64 `rounds` times; the time of one sum.
pub fn sum<C: Contender>(pool: &C, len: usize, rounds: usize) -> Result<Duration, Unmeasured> {
    let library = library(pool)?;
    let values: Vec<u64> = (0..len as u64).collect();
    let expected = (len as u64) * (len as u64).saturating_sub(1) / 2;
    let started = Instant::now();
    for _ in 0..rounds {
        let total = match library {
            Library::Taskpool(pool) => pool
                .parallel()
                .map_reduce(&values, || 0_u64, |&v| v, |a, b| a + b)
                .expect("no token"),
            Library::Rayon(pool) => pool.install(|| values.par_iter().sum::<u64>()),
        };
        assert_eq!(black_box(total), expected, "{}: wrong sum", C::NAME);
    }
    Ok(started.elapsed() / rounds.max(1) as u32)
}

/// The cheap body of [`fill`] and [`small_loops`].
fn cheap(index: usize) -> u64 {
    (index as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 7
}

/// Writes `cheap(i)` into each of `len` slots, `rounds` times; the time of
/// one loop.
pub fn fill<C: Contender>(pool: &C, len: usize, rounds: usize) -> Result<Duration, Unmeasured> {
    let library = library(pool)?;
    let mut out = vec![0_u64; len];
    let started = Instant::now();
    for _ in 0..rounds {
        fill_once(&library, &mut out);
    }
    let elapsed = started.elapsed() / rounds.max(1) as u32;
    assert!(
        out.iter().enumerate().all(|(i, &v)| v == cheap(i)),
        "{}: wrong fill",
        C::NAME
    );
    Ok(elapsed)
}

fn fill_once(library: &Library<'_>, out: &mut [u64]) {
    match library {
        Library::Taskpool(pool) => {
            pool.parallel()
                .for_each_mut(out, |slot, state| *slot = cheap(state.index()))
                .expect("no token");
        }
        Library::Rayon(pool) => pool.install(|| {
            out.par_iter_mut()
                .enumerate()
                .for_each(|(i, slot)| *slot = cheap(i));
        }),
    }
}

/// Runs `loops` loops of `len` cheap iterations one after the other, each
/// started from this thread (outside the pool); the time of one loop.
pub fn small_loops<C: Contender>(
    pool: &C,
    loops: usize,
    len: usize,
) -> Result<Duration, Unmeasured> {
    let library = library(pool)?;
    let mut out = vec![0_u64; len];
    let started = Instant::now();
    for _ in 0..loops {
        fill_once(&library, &mut out);
        black_box(&mut out);
    }
    let elapsed = started.elapsed() / loops.max(1) as u32;
    assert!(
        out.iter().enumerate().all(|(i, &v)| v == cheap(i)),
        "{}: wrong loop",
        C::NAME
    );
    Ok(elapsed)
}

/// How many iterations of z = z^2 + c the point c = x + iy takes to leave
/// the circle of radius 2, up to [`MAX_ITERATIONS`].
pub fn escape_time(x: f64, y: f64) -> u32 {
    let (mut re, mut im) = (0.0_f64, 0.0_f64);
    for iteration in 0..MAX_ITERATIONS {
        let (re2, im2) = (re * re, im * im);
        if re2 + im2 > 4.0 {
            return iteration;
        }
        im = 2.0 * re * im + y;
        re = re2 - im2 + x;
    }
    MAX_ITERATIONS
}

fn render_row(row: usize, pixels: &mut [u32], width: usize, height: usize) {
    let y = -1.2 + 2.4 * row as f64 / height as f64;
    for (column, pixel) in pixels.iter_mut().enumerate() {
        *pixel = escape_time(-2.2 + 3.2 * column as f64 / width as f64, y);
    }
}

/// Renders a `width` x `height` Mandelbrot image, a row per iteration (rows
/// through the set cost a hundred times more than rows outside it).
pub fn image<C: Contender>(pool: &C, width: usize, height: usize) -> Result<Duration, Unmeasured> {
    let library = library(pool)?;
    let mut pixels = vec![0_u32; width * height];
    let started = Instant::now();
    match library {
        Library::Taskpool(pool) => {
            pool.parallel()
                .for_each_chunk_mut(&mut pixels, width, |row, line, _| {
                    render_row(row, line, width, height);
                })
                .expect("no token");
        }
        Library::Rayon(pool) => pool.install(|| {
            pixels
                .par_chunks_mut(width)
                .enumerate()
                .for_each(|(row, line)| render_row(row, line, width, height));
        }),
    }
    let elapsed = started.elapsed();
    let middle = height / 2 * width + width * 11 / 16; // inside the set
    assert_eq!(pixels[middle], MAX_ITERATIONS, "{}: wrong image", C::NAME);
    Ok(elapsed)
}

/// Sorts `len` random u64 (the same ones for everybody), unstable.
pub fn sort<C: Contender>(pool: &C, len: usize) -> Result<Duration, Unmeasured> {
    let library = library(pool)?;
    let mut values = random_values(len);
    let started = Instant::now();
    match library {
        // On the pool's worker, the sort uses that pool.
        Library::Taskpool(pool) => {
            pool.join(
                || taskpool::ParallelSort::par_sort_unstable(&mut values[..]),
                || {},
            );
        }
        Library::Rayon(pool) => {
            pool.install(|| rayon::slice::ParallelSliceMut::par_sort_unstable(&mut values[..]));
        }
    }
    let elapsed = started.elapsed();
    assert!(
        values.windows(2).all(|w| w[0] <= w[1]),
        "{}: not sorted",
        C::NAME
    );
    Ok(elapsed)
}

/// The serial baseline of [`sum`], on this thread.
pub fn sum_serial(len: usize, rounds: usize) -> Duration {
    let values: Vec<u64> = (0..len as u64).collect();
    let started = Instant::now();
    for _ in 0..rounds {
        black_box(black_box(&values).iter().sum::<u64>());
    }
    started.elapsed() / rounds.max(1) as u32
}

/// The serial baseline of [`fill`] (and, per loop, of [`small_loops`]).
pub fn fill_serial(len: usize, rounds: usize) -> Duration {
    let mut out = vec![0_u64; len];
    let started = Instant::now();
    for _ in 0..rounds {
        for (i, slot) in black_box(&mut out).iter_mut().enumerate() {
            *slot = cheap(i);
        }
    }
    started.elapsed() / rounds.max(1) as u32
}

/// The serial baseline of [`image`].
pub fn image_serial(width: usize, height: usize) -> Duration {
    let mut pixels = vec![0_u32; width * height];
    let started = Instant::now();
    for (row, line) in pixels.chunks_mut(width).enumerate() {
        render_row(row, line, width, height);
    }
    let elapsed = started.elapsed();
    black_box(&pixels);
    elapsed
}

/// The serial baseline of [`sort`]: std's `sort_unstable` on this thread.
pub fn sort_serial(len: usize) -> Duration {
    let mut values = random_values(len);
    let started = Instant::now();
    values.sort_unstable();
    let elapsed = started.elapsed();
    black_box(&values);
    elapsed
}

/// xorshift64*: the same values on every run.
fn random_values(len: usize) -> Vec<u64> {
    let mut x = 0x2545_F491_4F6C_DD1D_u64;
    (0..len)
        .map(|_| {
            x ^= x >> 12;
            x ^= x << 25;
            x ^= x >> 27;
            x.wrapping_mul(0x2545_F491_4F6C_DD1D)
        })
        .collect()
}
