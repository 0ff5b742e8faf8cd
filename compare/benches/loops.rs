//! Parallel loops and sort, taskpool beside rayon: a sum of 10M u64, a for
//! over 1M cheap indices, a 1024x768 Mandelbrot (rows of uneven cost), 100
//! loops of 100 iterations started from outside, and a sort of 2M u64
//! (smaller than the compare table's 20M, to keep `cargo bench` short).
//! Other contenders have no parallel loops and are left out. One iteration
//! is one whole run; see `compare/README.md`.

#[allow(dead_code)] // each bench uses part of the shared harness
#[path = "../examples/compare/harness/mod.rs"]
mod harness;
#[allow(dead_code)]
mod support;

use criterion::Criterion;
use harness::contender::Contender;
use harness::workloads::{Unmeasured, loops};
use std::time::Duration;

/// One of the loop shapes of `harness/workloads/loops.rs`.
enum Shape {
    Sum,
    Fill,
    Image,
    SmallLoops,
    Sort,
}

impl support::Workload for Shape {
    fn run<C: Contender>(&self, pool: &C) -> Result<Duration, Unmeasured> {
        match self {
            Shape::Sum => loops::sum(pool, 10_000_000, 1),
            Shape::Fill => loops::fill(pool, 1_000_000, 1),
            Shape::Image => loops::image(pool, 1024, 768),
            Shape::SmallLoops => loops::small_loops(pool, 100, 100).map(|one| one * 100),
            Shape::Sort => loops::sort(pool, 2_000_000),
        }
    }
}

fn loops(c: &mut Criterion) {
    for (name, shape) in [
        ("loops/sum_10m", Shape::Sum),
        ("loops/for_1m", Shape::Fill),
        ("loops/mandelbrot_1024x768", Shape::Image),
        ("loops/100_small_loops_from_outside", Shape::SmallLoops),
        ("loops/sort_2m", Shape::Sort),
    ] {
        let mut group = support::bench_each(c, name, None, &shape);
        if let Shape::Sort = shape {
            group.bench_function("serial", |b| {
                b.iter_custom(|k| (0..k).map(|_| loops::sort_serial(2_000_000)).sum())
            });
        }
        group.finish();
    }
}

fn main() {
    support::run(support::criterion(), loops);
}
