//! Heap per queued job and per queued task with a result: every worker is
//! held at a gate, `JOBS` jobs are queued, and a counting allocator (this
//! bench's `#[global_allocator]`) tells what they hold. Not a time, so
//! criterion does not fit: this prints one line per contender and kind;
//! see `compare/README.md`.

#[allow(dead_code)] // each bench uses part of the shared harness
#[path = "../examples/compare/harness/mod.rs"]
mod harness;
#[allow(dead_code)]
mod support;

use harness::contender::Contender;
use harness::contenders::{self, ForEach};
use harness::counting_alloc::CountingAllocator;
use harness::workloads::{heap, warm_up};

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator::new();

struct Heap {
    run: support::PlainRun,
    jobs: usize,
}

impl ForEach for Heap {
    fn contender<C: Contender>(&mut self) {
        let threads = support::threads();
        let pool = C::start(threads);
        warm_up(&pool);
        for kind in ["job", "task"] {
            let name = format!("heap/per_{kind}/{}", C::NAME);
            if !self.run.wants(&name) {
                continue;
            }
            let measured = match kind {
                "job" => heap::per_job(&pool, threads, self.jobs, &ALLOCATOR),
                _ => heap::per_task(&pool, threads, self.jobs, &ALLOCATOR),
            };
            match measured {
                Ok(per) => println!(
                    "{name:<28} {:>7.1} bytes {:>5.2} allocations per queued {kind}{}",
                    per.bytes,
                    per.allocations,
                    per.via
                        .marker()
                        .map_or(String::new(), |(_, meaning)| format!(" ({meaning})")),
                ),
                Err(unmeasured) => println!(
                    "{name:<28} {} ({})",
                    unmeasured.label(),
                    unmeasured.reason()
                ),
            }
        }
    }
}

fn main() {
    let run = support::PlainRun::from_args();
    let jobs = if run.test { 1_000 } else { 100_000 };
    contenders::for_each(&mut Heap { run, jobs });
}
