//! Idle CPU: the processor time an idle pool burns, per second of idleness.
//!
//! A pool that sleeps properly costs nothing here; one whose workers spin,
//! or wake up on a timer to look for work, does.

use super::Unmeasured::{self, NotApplicable};
use crate::harness::contender::Contender;
use std::thread;
use std::time::Duration;

/// Lets the pool settle for `settle` (so that its workers finish
/// spinning), then returns the CPU time the process used over `window` of
/// idleness, less that of the calling (measuring) thread, in milliseconds
/// per idle second. The pool is only borrowed, to be alive all along.
///
/// # Errors
///
/// [`NotApplicable`] where the system has no per-thread CPU clock.
pub fn ms_per_idle_second<C: Contender>(
    _pool: &C,
    settle: Duration,
    window: Duration,
) -> Result<f64, Unmeasured> {
    thread::sleep(settle);
    let before = others_cpu_time()?;
    thread::sleep(window);
    let after = others_cpu_time()?;
    let used = after.saturating_sub(before);
    Ok(used.as_secs_f64() * 1e3 / window.as_secs_f64())
}

/// CPU time of the whole process minus that of the calling thread.
#[cfg(unix)]
fn others_cpu_time() -> Result<Duration, Unmeasured> {
    let process = cpu_clock(libc::CLOCK_PROCESS_CPUTIME_ID)?;
    let this_thread = cpu_clock(libc::CLOCK_THREAD_CPUTIME_ID)?;
    Ok(process.saturating_sub(this_thread))
}

#[cfg(unix)]
fn cpu_clock(clock: libc::clockid_t) -> Result<Duration, Unmeasured> {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `now` is a valid, writable timespec for the call's duration.
    if unsafe { libc::clock_gettime(clock, &mut now) } != 0 {
        return Err(NotApplicable("no CPU-time clock"));
    }
    let seconds = u64::try_from(now.tv_sec).unwrap_or(0);
    let nanos = u32::try_from(now.tv_nsec).unwrap_or(0);
    Ok(Duration::new(seconds, nanos))
}

#[cfg(not(unix))]
fn others_cpu_time() -> Result<Duration, Unmeasured> {
    Err(NotApplicable("needs a Unix CPU-time clock"))
}
