//! What the bench files share: criterion's settings, and registering one
//! benchmark per contender for a workload written against the harness.
//!
//! Each bench file mounts the harness of the compare example itself (it must
//! sit at `crate::harness`) and this module beside it.

use crate::harness::contender::Contender;
use crate::harness::contenders::{self, ForEach};
use crate::harness::workloads::{Unmeasured, warm_up};
use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, Criterion, SamplingMode, Throughput};
use std::time::Duration;

/// Ten samples over two seconds per benchmark: enough to see a difference
/// of a few percent on a quiet machine, short enough that all of
/// `cargo bench` takes a few minutes. Command-line options still override.
pub fn criterion() -> Criterion {
    Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
}

/// Runs `bench` under `config` as `criterion_main!` would, after the
/// command line had its say: a plain `main` instead of criterion's macros,
/// whose generated functions have no docs.
pub fn run(config: Criterion, bench: impl FnOnce(&mut Criterion)) {
    let mut criterion = config.configure_from_args();
    bench(&mut criterion);
    criterion.final_summary();
}

/// The pool size: `TASKPOOL_BENCH_THREADS`, else one thread per CPU.
pub fn threads() -> usize {
    std::env::var("TASKPOOL_BENCH_THREADS")
        .ok()
        .and_then(|text| text.parse().ok())
        .filter(|&threads| threads > 0)
        .unwrap_or_else(crate::harness::default_threads)
}

/// A workload as one bench file measures it: one timed run on a pool.
pub trait Workload {
    /// Runs once on `pool` and returns how long that took.
    fn run<C: Contender>(&self, pool: &C) -> Result<Duration, Unmeasured>;
}

/// Starts the benchmark group `name` with one benchmark per contender,
/// named after it: each iteration is one run of `workload` (of `elements`
/// jobs, if given) on a pool started once for the benchmark. A contender
/// that cannot run it is left out, with a note. Add more to the group
/// returned (a serial baseline), then `finish` it.
pub fn bench_each<'c, W: Workload>(
    criterion: &'c mut Criterion,
    name: &str,
    elements: Option<usize>,
    workload: &W,
) -> BenchmarkGroup<'c, WallTime> {
    let mut group = criterion.benchmark_group(name);
    group.sampling_mode(SamplingMode::Flat);
    if let Some(elements) = elements {
        group.throughput(Throughput::Elements(elements as u64));
    }
    contenders::for_each(&mut Register {
        group: &mut group,
        name,
        workload,
        threads: threads(),
    });
    group
}

struct Register<'g, 'c, W> {
    group: &'g mut BenchmarkGroup<'c, WallTime>,
    name: &'g str,
    workload: &'g W,
    threads: usize,
}

impl<W: Workload> ForEach for Register<'_, '_, W> {
    fn contender<C: Contender>(&mut self) {
        let pool = C::start(self.threads);
        warm_up(&pool);
        // One run first: it tells whether the contender can run this at all.
        if let Err(unmeasured) = self.workload.run(&pool) {
            let (group, label, reason) = (self.name, unmeasured.label(), unmeasured.reason());
            println!("{group}/{}: {label} ({reason})", C::NAME);
            return;
        }
        let workload = self.workload;
        self.group.bench_function(C::NAME, |bencher| {
            bencher.iter_custom(|iterations| {
                (0..iterations)
                    .map(|_| match workload.run(&pool) {
                        Ok(elapsed) => elapsed,
                        Err(unmeasured) => panic!("{}: {}", C::NAME, unmeasured.reason()),
                    })
                    .sum()
            });
        });
    }
}

/// How a bench that measures something other than time (and so prints its
/// numbers itself instead of using criterion) was started. Like criterion,
/// it runs in full only under `cargo bench` (which passes `--bench`), and
/// as a quick smoke test under `cargo test --benches`; other arguments not
/// starting with `-` filter by name.
#[derive(Debug)]
pub struct PlainRun {
    /// Smoke-test sizes.
    pub test: bool,
    filters: Vec<String>,
}

impl PlainRun {
    pub fn from_args() -> Self {
        let args: Vec<String> = std::env::args().skip(1).collect();
        let bench = args.iter().any(|arg| arg == "--bench");
        let test = !bench || args.iter().any(|arg| arg == "--test");
        let filters = args
            .into_iter()
            .filter(|arg| !arg.starts_with('-'))
            .collect();
        Self { test, filters }
    }

    /// Should the measurement called `name` run?
    pub fn wants(&self, name: &str) -> bool {
        self.filters.is_empty()
            || self
                .filters
                .iter()
                .any(|filter| name.contains(filter.as_str()))
    }
}
