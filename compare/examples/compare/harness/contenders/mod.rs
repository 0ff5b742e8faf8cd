//! The pools under test, one module each, and the one list of them.

mod rayon_pool;
mod taskpool_l1;
mod taskpool_l2;
mod threadpool_crate;
mod tokio_runtime;

pub use rayon_pool::Rayon;
pub use taskpool_l1::TaskpoolL1;
pub use taskpool_l2::TaskpoolL2;
pub use threadpool_crate::Threadpool;
pub use tokio_runtime::Tokio;

use super::contender::Contender;

/// Something to do once per contender type, such as measuring a column or
/// registering a criterion benchmark. Rust has no generic closures, so this
/// is the way to run generic code over a list of types.
pub trait ForEach {
    /// Called once for each contender, in table order.
    fn contender<C: Contender>(&mut self);
}

/// Calls `visitor` with every contender, ours first: the one list of them.
pub fn for_each(visitor: &mut impl ForEach) {
    visitor.contender::<TaskpoolL1>();
    visitor.contender::<TaskpoolL2>();
    visitor.contender::<Rayon>();
    visitor.contender::<Tokio>();
    visitor.contender::<Threadpool>();
}
