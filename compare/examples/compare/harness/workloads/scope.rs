//! Scoped tasks: many tiny tasks spawned into one scope, each writing its
//! own slot of a vector the scope borrows (rayon's `scope` against
//! taskpool's).
//!
//! Only two contenders have a scope: taskpool's level 2 (`taskpool::scope`,
//! whose `spawn` also returns a handle, dropped here) and rayon
//! (`rayon::scope`). No capability trait asks for it: the two are told
//! apart by type, here in one place, and every other contender is "n/a".
//! Both bodies run on a worker of the pool under test (as `rayon`'s
//! `ThreadPool::scope` does), spawn every task from there and return once
//! all ended; the clock covers that, the vector is made outside it.

use super::Unmeasured::{self, NotApplicable};
use super::{Timed, run_on};
use crate::harness::contender::Contender;
use crate::harness::contenders::{Rayon, TaskpoolL2};
use std::any::TypeId;
use std::time::Instant;

/// One scope of `tasks` tiny tasks, each setting its slot of a borrowed
/// vector to its index plus one.
///
/// # Errors
///
/// [`NotApplicable`] for a contender without a scope.
///
/// # Panics
///
/// If a slot was not written, or written wrong.
pub fn tiny_tasks<C: Contender>(pool: &C, tasks: usize) -> Result<Timed, Unmeasured> {
    let scope: fn(&mut [u64]) = if TypeId::of::<C>() == TypeId::of::<TaskpoolL2>() {
        with_taskpool
    } else if TypeId::of::<C>() == TypeId::of::<Rayon>() {
        with_rayon
    } else {
        return Err(NotApplicable("no scope"));
    };
    let slots = vec![0_u64; tasks];
    let started = Instant::now();
    let slots = run_on(pool, move || {
        let mut slots = slots;
        scope(&mut slots);
        slots
    });
    let elapsed = started.elapsed();
    for (index, slot) in slots.iter().enumerate() {
        assert_eq!(*slot, index as u64 + 1, "{}: slot {index}", C::NAME);
    }
    Ok(Timed::native(elapsed))
}

/// `taskpool::scope` on the current worker's pool; each handle is dropped,
/// leaving its task to the scope.
fn with_taskpool(slots: &mut [u64]) {
    taskpool::scope(|s| {
        for (index, slot) in slots.iter_mut().enumerate() {
            s.spawn(move || *slot = index as u64 + 1);
        }
    });
}

/// `rayon::scope` on the current worker's pool.
fn with_rayon(slots: &mut [u64]) {
    rayon::scope(|s| {
        for (index, slot) in slots.iter_mut().enumerate() {
            s.spawn(move |_| *slot = index as u64 + 1);
        }
    });
}
