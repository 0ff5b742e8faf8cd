//! Latency under load (`harness/workloads/latency.rs`): timer lateness
//! behind a backlog and with none, and queue wait under a steady outside
//! stream. Quantiles, not a time per iteration, so criterion does not fit:
//! this prints p50 and p99 per contender. `cargo bench --bench latency`
//! runs the sizes of the compare example; `cargo test --benches` a smoke
//! test.

#[allow(dead_code)] // each bench uses part of the shared harness
#[path = "../examples/compare/harness/mod.rs"]
mod harness;
#[allow(dead_code)]
mod support;

use harness::contender::Contender;
use harness::contenders::{self, ForEach};
use harness::workloads::latency::{self, Tail};
use harness::workloads::{Unmeasured, warm_up};

struct Latency {
    run: support::PlainRun,
    sleepers: usize,
    bursts: usize,
}

fn print(name: &str, tail: Result<Tail, Unmeasured>) {
    match tail {
        Ok(tail) => println!(
            "{name:<36} p50 {:>9.1} us   p99 {:>9.1} us",
            tail.p50.as_secs_f64() * 1e6,
            tail.p99.as_secs_f64() * 1e6
        ),
        Err(unmeasured) => println!(
            "{name:<36} {} ({})",
            unmeasured.label(),
            unmeasured.reason()
        ),
    }
}

impl ForEach for Latency {
    fn contender<C: Contender>(&mut self) {
        let threads = support::threads();
        let pool = C::start(threads);
        warm_up(&pool);
        let name = format!("timers_backlog/{}", C::NAME);
        if self.run.wants(&name) {
            let backlog = latency::backlog_for(threads);
            print(&name, latency::timers(&pool, self.sleepers, backlog));
        }
        let name = format!("timers_idle/{}", C::NAME);
        if self.run.wants(&name) {
            print(&name, latency::timers(&pool, self.sleepers, 0));
        }
        let name = format!("queue_wait/{}", C::NAME);
        if self.run.wants(&name) {
            print(&name, Ok(latency::queue_wait(&pool, self.bursts)));
        }
    }
}

fn main() {
    let run = support::PlainRun::from_args();
    let (sleepers, bursts) = if run.test { (20, 20) } else { (200, 1500) };
    contenders::for_each(&mut Latency {
        run,
        sleepers,
        bursts,
    });
}
