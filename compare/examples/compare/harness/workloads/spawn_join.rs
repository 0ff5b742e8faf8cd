//! Spawn with a result: every job returns a value and the submitter
//! collects them all.
//!
//! A contender with result handles spawns and joins them (tokio: `spawn`,
//! then `.await` each `JoinHandle`); the others `execute` jobs that send
//! their result on one shared channel ([`Via::Channel`]).

use super::{Timed, Via};
use crate::harness::contender::{Contender, SpawnHandles};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Spawns `tasks` jobs that each return their index, and joins them all.
///
/// # Panics
///
/// If a result went missing (a bug in the contender or here).
pub fn run<C: Contender>(pool: &C, tasks: usize) -> Timed {
    let (elapsed, sum, via) = match pool.handles() {
        Some(handles) => {
            let (elapsed, sum) = with_handles(handles, tasks);
            (elapsed, sum, Via::Native)
        }
        None => {
            let (elapsed, sum) = with_channel(pool, tasks);
            (elapsed, sum, Via::Channel)
        }
    };
    assert_eq!(
        sum,
        expected_sum(tasks),
        "{}: results went missing",
        C::NAME
    );
    Timed { elapsed, via }
}

fn with_handles<H: SpawnHandles>(spawner: &H, tasks: usize) -> (Duration, usize) {
    let mut handles = Vec::with_capacity(tasks);
    let mut sum = 0;
    let started = Instant::now();
    for index in 0..tasks {
        handles.push(spawner.spawn(move || index));
    }
    spawner.join_all(handles, |index| sum += index);
    (started.elapsed(), sum)
}

fn with_channel<C: Contender>(pool: &C, tasks: usize) -> (Duration, usize) {
    let (sender, receiver) = mpsc::channel();
    let started = Instant::now();
    for index in 0..tasks {
        let sender = sender.clone();
        pool.execute(move || {
            // The receiver below outlives every job; a send cannot fail.
            let _ = sender.send(index);
        });
    }
    drop(sender);
    let sum = receiver.iter().take(tasks).sum();
    (started.elapsed(), sum)
}

/// The floor: the same boxed closures, called at once on this thread.
pub fn serial(tasks: usize) -> Duration {
    let started = Instant::now();
    let mut sum = 0;
    for index in 0..tasks {
        let task: Box<dyn FnOnce() -> usize + Send> = Box::new(move || index);
        sum += std::hint::black_box(task)();
    }
    assert_eq!(sum, expected_sum(tasks));
    started.elapsed()
}

/// The sum of the indices `0..tasks`: what the joined results add up to.
pub fn expected_sum(tasks: usize) -> usize {
    tasks * tasks.saturating_sub(1) / 2
}
