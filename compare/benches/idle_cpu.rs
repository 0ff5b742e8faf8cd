//! Idle CPU: the processor time a pool burns per second while it has
//! nothing to do, less the measuring thread's. Not a time, so criterion
//! does not fit: this prints one line per contender. `cargo bench --bench
//! idle_cpu` measures 1 s of idleness each; see `compare/README.md`.

#[allow(dead_code)] // each bench uses part of the shared harness
#[path = "../examples/compare/harness/mod.rs"]
mod harness;
#[allow(dead_code)]
mod support;

use harness::contender::Contender;
use harness::contenders::{self, ForEach};
use harness::workloads::{idle_cpu, warm_up};
use std::time::Duration;

struct IdleCpu {
    run: support::PlainRun,
    settle: Duration,
    window: Duration,
}

impl ForEach for IdleCpu {
    fn contender<C: Contender>(&mut self) {
        let name = format!("idle_cpu/{}", C::NAME);
        if !self.run.wants(&name) {
            return;
        }
        let pool = C::start(support::threads());
        warm_up(&pool);
        match idle_cpu::ms_per_idle_second(&pool, self.settle, self.window) {
            Ok(millis) => println!("{name:<28} {millis:>8.4} ms CPU per idle second"),
            Err(unmeasured) => println!(
                "{name:<28} {} ({})",
                unmeasured.label(),
                unmeasured.reason()
            ),
        }
    }
}

fn main() {
    let run = support::PlainRun::from_args();
    let (settle, window) = if run.test {
        (Duration::from_millis(5), Duration::from_millis(20))
    } else {
        (Duration::from_millis(50), Duration::from_secs(1))
    };
    contenders::for_each(&mut IdleCpu {
        run,
        settle,
        window,
    });
}
