//! What the compare example and the benches share: the contenders behind
//! one trait, and the workloads written once against it.
//!
//! The benches mount this directory with
//! `#[path = "../examples/compare/harness/mod.rs"] mod harness;`, so it must
//! stay at `crate::harness` in every binary that uses it.

pub mod contender;
pub mod contenders;
pub mod counting_alloc;
pub mod sync;
pub mod workloads;

/// The default pool size: one worker per CPU, like every contender's own
/// default.
pub fn default_threads() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}
