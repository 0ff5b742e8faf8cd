//! Wake-up latency: how long a job submitted to an idle pool, whose
//! workers have all gone to sleep, waits before it starts.
//!
//! This is the cost a pool pays for sleeping when idle, and what a
//! request handler that submits one job sees.

use crate::harness::contender::Contender;
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

/// Leaves the pool idle for `idle`, then submits one job from outside and
/// returns the time from just before the submit to the job's first
/// instruction.
pub fn sample<C: Contender>(pool: &C, idle: Duration) -> Duration {
    let (sender, receiver) = mpsc::sync_channel(1);
    thread::sleep(idle);
    let submitted = Instant::now();
    pool.execute(move || {
        // The receiver waits below; a send cannot fail.
        let _ = sender.send(Instant::now());
    });
    match receiver.recv() {
        Ok(started) => started.saturating_duration_since(submitted),
        Err(_) => panic!("{}: the wake-up job was dropped", C::NAME),
    }
}

/// The `q`-quantile (0.5 for the median) of `samples`, nearest rank.
///
/// # Panics
///
/// If `samples` is empty.
pub fn quantile(samples: &mut [Duration], q: f64) -> Duration {
    assert!(!samples.is_empty(), "no samples");
    samples.sort_unstable();
    let rank = (q * samples.len() as f64).ceil() as usize;
    samples[rank.clamp(1, samples.len()) - 1]
}
