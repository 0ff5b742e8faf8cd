//! Command-line options of the compare example.

use std::path::PathBuf;

pub const USAGE: &str = "\
Compares taskpool with rayon, tokio and the threadpool crate on the same workloads.

usage: cargo run --release --example compare -- [options]

  --quick               a tenth of the work (about 5 s on 2 cores, for CI)
  --threads N           worker threads per pool (default: one per CPU)
  --repetitions N       runs per timed workload; the median is shown (default 3)
  --only ID[,ID...]     only the workloads whose row ids start with one of these
                        (fire_and_forget, contention, spawn_join, nested_fan_out, fib, tree_sum,
                        when_all, then_chain, spawn_many, ping_pong, yield_many, chained_spawn,
                        wakeup, idle_cpu, heap, ...)
  --json FILE           also write the table as JSON
  --chart PATH          where to write the SVG chart (default: target/compare.svg)
  --no-chart            write no chart
  -h, --help            this text
";

/// What to do.
#[derive(Debug, PartialEq)]
pub enum Command {
    Help,
    Compare(Options),
}

/// Options of a measuring run.
#[derive(Debug, Default, PartialEq)]
pub struct Options {
    pub quick: bool,
    pub threads: Option<usize>,
    pub repetitions: Option<usize>,
    pub only: Vec<String>,
    pub json: Option<PathBuf>,
    pub chart: Option<PathBuf>,
    pub no_chart: bool,
}

/// Parses the arguments after the program name.
///
/// # Errors
///
/// A message naming the bad argument.
pub fn parse(args: impl IntoIterator<Item = String>) -> Result<Command, String> {
    let mut options = Options::default();
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().ok_or_else(|| format!("{name} needs a value"));
        match arg.as_str() {
            "-h" | "--help" => return Ok(Command::Help),
            "--quick" => options.quick = true,
            "--no-chart" => options.no_chart = true,
            "--threads" => options.threads = Some(positive("--threads", &value("--threads")?)?),
            "--repetitions" => {
                options.repetitions = Some(positive("--repetitions", &value("--repetitions")?)?);
            }
            "--only" => options.only.extend(
                value("--only")?
                    .split(',')
                    .filter(|id| !id.is_empty())
                    .map(str::to_owned),
            ),
            "--json" => options.json = Some(value("--json")?.into()),
            "--chart" => options.chart = Some(value("--chart")?.into()),
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(Command::Compare(options))
}

fn positive(name: &str, text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(format!("{name} takes a whole number above 0, not {text:?}")),
    }
}
