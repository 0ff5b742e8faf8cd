//! Wake-up latency of an idle pool: one job submitted after the pool idled
//! for `IDLE`, timed from just before the submit to the job's start. One
//! iteration is one such job (the idle time is not counted), so criterion
//! reports the latency itself; the compare example reports p50 and p99.

#[allow(dead_code)] // each bench uses part of the shared harness
#[path = "../examples/compare/harness/mod.rs"]
mod harness;
#[allow(dead_code)]
mod support;

use criterion::Criterion;
use harness::contender::Contender;
use harness::workloads::{Unmeasured, wakeup};
use std::time::Duration;

/// Long enough for every pool's workers to stop spinning and sleep.
const IDLE: Duration = Duration::from_millis(2);

struct WakeUp;

impl support::Workload for WakeUp {
    fn run<C: Contender>(&self, pool: &C) -> Result<Duration, Unmeasured> {
        Ok(wakeup::sample(pool, IDLE))
    }
}

/// Each iteration also sleeps for `IDLE`, which criterion counts when it
/// plans: one second gives each sample about fifty wake-ups.
fn config() -> Criterion {
    support::criterion()
        .warm_up_time(Duration::from_millis(200))
        .measurement_time(Duration::from_secs(1))
}

fn wakeup_latency(c: &mut Criterion) {
    support::bench_each(c, "wakeup_latency", None, &WakeUp).finish();
}

fn main() {
    support::run(config(), wakeup_latency);
}
