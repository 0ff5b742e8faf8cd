//! `cargo run --release --example compare`: taskpool against rayon, tokio
//! and the threadpool crate on the same workloads, in one run, as one table
//! with ratios to the best peer and the goals under it, and an SVG chart.
//!
//! Every pool implements one small trait (`harness/contender.rs`); every
//! workload is written once against it (`harness/workloads/`); the benches
//! in `benches/` run the same workloads under criterion. `--help` lists the
//! options; `compare/README.md` explains each workload.

mod chart;
mod cli;
mod context;
mod goals;
mod harness;
mod json;
mod measure;
mod plan;
mod render;
mod results;

use cli::{Command, Options};
use context::{Context, Sizes};
use harness::counting_alloc::CountingAllocator;
use plan::Workload;
use results::{Results, Setup};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

/// Counts allocations for the heap rows; off (one relaxed load per
/// allocation) the rest of the time.
#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator::new();

fn main() -> ExitCode {
    let outcome = match cli::parse(std::env::args().skip(1)) {
        Ok(Command::Help) => {
            print!("{}", cli::USAGE);
            Ok(())
        }
        Ok(Command::Compare(options)) => compare(&options),
        Err(message) => {
            eprintln!("compare: {message}\n\n{}", cli::USAGE);
            return ExitCode::from(2);
        }
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("compare: {message}");
            ExitCode::FAILURE
        }
    }
}

fn compare(options: &Options) -> Result<(), String> {
    if cfg!(debug_assertions) {
        eprintln!("compare: built without --release; these numbers mean little");
    }
    let cpus = harness::default_threads();
    let context = Context {
        threads: options.threads.unwrap_or(cpus),
        sizes: if options.quick {
            Sizes::quick()
        } else {
            Sizes::full()
        },
        repetitions: options.repetitions.unwrap_or(3),
        allocator: &ALLOCATOR,
    };
    let plan: Vec<Workload> = Workload::all(cpus)
        .into_iter()
        .filter(|workload| {
            options.only.is_empty()
                || workload.rows(&context).iter().any(|row| {
                    options
                        .only
                        .iter()
                        .any(|prefix| row.id.starts_with(prefix.as_str()))
                })
        })
        .collect();
    if plan.is_empty() {
        return Err(format!(
            "--only {} matches no workload; see --help",
            options.only.join(",")
        ));
    }

    let load = other_runnable_threads();
    let started = Instant::now();
    let rows = measure::run(&plan, &context);
    let results = Results {
        setup: Setup {
            threads: context.threads,
            cpus,
            quick: options.quick,
            repetitions: context.repetitions,
            seconds: started.elapsed().as_secs_f64(),
            load,
        },
        columns: measure::columns(),
        rows,
    };
    print!("{}", render::report(&results));

    if let Some(path) = &options.json {
        json::write(&results, path)?;
        eprintln!("wrote {}", path.display());
    }
    if !options.no_chart {
        let path = options.chart.clone().unwrap_or_else(default_chart_path);
        if let Some(parent) = path
            .parent()
            .filter(|parent| !parent.as_os_str().is_empty())
        {
            std::fs::create_dir_all(parent)
                .map_err(|error| format!("cannot create {}: {error}", parent.display()))?;
        }
        chart::write(&results, &path)?;
        eprintln!("wrote {}", path.display());
    }
    println!("\nMeasured in {:.1} s.", results.setup.seconds);
    Ok(())
}

/// Threads of other programs that kept running through half a second
/// before the start, on Linux: the fewest runnable threads of five samples,
/// less this one. The one-minute load average would instead count the build
/// that finished a second ago.
fn other_runnable_threads() -> Option<f64> {
    let runnable = || -> Option<u32> {
        let text = std::fs::read_to_string("/proc/loadavg").ok()?;
        let (running, _) = text.split_whitespace().nth(3)?.split_once('/')?;
        running.parse().ok()
    };
    let mut fewest = runnable()?;
    for _ in 0..4 {
        std::thread::sleep(std::time::Duration::from_millis(100));
        fewest = fewest.min(runnable()?);
    }
    Some(f64::from(fewest.saturating_sub(1)))
}

/// `target/compare.svg` under the workspace root (beside the library),
/// wherever cargo was started from.
fn default_chart_path() -> PathBuf {
    let package = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    package
        .parent()
        .unwrap_or(package)
        .join("target")
        .join("compare.svg")
}
