//! Helpers shared by every test file (`mod support;` at the top of each).
//!
//! One file per concern:
//!
//! - [`hang`]: the hang guard ([`HANG_GUARD`]) and every bounded wait built on
//!   it, and the Miri-aware sizes ([`size`]);
//! - [`gate`]: a [`Gate`] jobs wait at, and a [`WorkerGate`] that keeps every
//!   worker of a pool busy;
//! - [`count`]: per-job run counts ([`Slots`]) and a waitable [`Counter`];
//! - [`drops`]: values that count their drops ([`DropCounter`], [`Tracked`]);
//! - [`panics`]: hiding the panics a test raises on purpose, and a
//!   [`PanicLog`] of what a pool's panic handler received;
//! - [`rng`]: a small deterministic [`Rng`];
//! - [`child`]: running one test of this binary again in a child process;
//! - [`process`]: what `/proc` says about this process (threads, memory);
//! - [`wakers`]: a [`CountingWaker`], which may panic in `wake`.
//!
//! Every wait here is bounded by [`HANG_GUARD`]. That is not a timing
//! assertion: it only turns a hang (a lost wake-up, a deadlock, a task that
//! never ends) into a failure with a message instead of a stuck suite.

// Each test binary uses only some of these helpers.
#![allow(dead_code, unused_imports)]

pub mod child;
pub mod count;
pub mod drops;
pub mod gate;
pub mod hang;
pub mod panics;
pub mod process;
pub mod rng;
pub mod wakers;

pub use child::*;
pub use count::*;
pub use drops::*;
pub use gate::*;
pub use hang::*;
pub use panics::*;
pub use process::*;
pub use rng::*;
pub use wakers::*;
