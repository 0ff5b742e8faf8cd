//! `Promise<T>` (`task/promise.rs`): completing from outside racing a join,
//! a dropped task and a second completer. No pool: the task is a bodiless
//! promise, born `RUNNING`, that only the promise completes. Last, a
//! `TaskSet` (`task/set.rs`) taking in a promised task as it completes.

use super::Count;
use crate::Promise;
use crate::sync::{Arc, thread};

/// `resolve` on one thread while another joins: the joiner either finds
/// the value there or parks and is woken by the completion.
///
/// Planted bug seen caught: `Completer::complete` taking the reference out
/// of its lock but never calling `fulfil`: loom reports a deadlock (the
/// joiner parked forever).
#[test]
fn resolve_races_join() {
    super::model(|| {
        let drops = Count::new();
        let (promise, task) = Promise::new();
        let value = drops.tracker();
        let resolver = thread::spawn(move || {
            assert!(promise.resolve(value).is_ok());
        });
        let value = task.join().expect("resolved");
        resolver.join().unwrap();
        assert_eq!(drops.get(), 0, "the joiner holds the value");
        drop(value);
        assert_eq!(drops.get(), 1);
    });
}

/// `resolve` racing the drop of the task: the value is dropped exactly once,
/// by the completer if the task was gone, else by the task's drop.
#[test]
fn resolve_races_task_drop() {
    super::model(|| {
        let drops = Count::new();
        let (promise, task) = Promise::new();
        let value = drops.tracker();
        let resolver = thread::spawn(move || {
            assert!(promise.resolve(value).is_ok());
        });
        drop(task);
        resolver.join().unwrap();
        assert_eq!(drops.get(), 1);
    });
}

/// Two completers race, one resolving and one cancelling, while a third
/// party joins: exactly one completion is accepted, and the join reports
/// that one.
#[test]
fn two_completers_race() {
    super::model(|| {
        let (promise, task) = Promise::new();
        let promise = Arc::new(promise);
        let other = promise.clone();
        let resolver = thread::spawn(move || other.resolve(7_u32).is_ok());
        let canceller = thread::spawn(move || promise.cancel());
        let outcome = task.join();
        let resolved = resolver.join().unwrap();
        let cancelled = canceller.join().unwrap();
        assert!(resolved != cancelled, "exactly one completion wins");
        match outcome {
            Ok(value) => assert!(resolved && value == 7),
            Err(error) => assert!(cancelled && error.is_cancelled()),
        }
    });
}

/// The promise dropped unset on one thread while another joins: the task
/// ends cancelled and the joiner is woken.
#[test]
fn dropped_promise_races_join() {
    super::model(|| {
        let (promise, task) = Promise::<u8>::new();
        let dropper = thread::spawn(move || drop(promise));
        assert!(task.join().unwrap_err().is_cancelled());
        dropper.join().unwrap();
    });
}

/// A promise completed while a `TaskSet` takes its task in: the completion
/// comes before, during (the slot still `Reserved`) or after the set
/// registers its waker, and `join_next` returns the value exactly once.
///
/// Planted bug seen caught: `TaskSet::insert` ignoring a slot marked
/// `Woken` (storing the task as `Held`): loom reports a deadlock
/// (`join_next` waits for a wake-up that already came).
#[test]
fn completion_races_insert_into_a_set() {
    super::model(|| {
        let (promise, task) = Promise::new();
        let resolver = thread::spawn(move || {
            promise.resolve(1_u8).unwrap();
        });
        let mut set = crate::TaskSet::new();
        set.insert(task);
        assert_eq!(set.join_next().unwrap().unwrap(), 1);
        assert!(set.join_next().is_none());
        resolver.join().unwrap();
    });
}

/// A set dropped while its (promised) task completes: the value is dropped
/// exactly once, by the set's drop or by the completing thread.
#[test]
fn completion_races_set_drop() {
    super::model(|| {
        let drops = Count::new();
        let (promise, task) = Promise::new();
        let mut set = crate::TaskSet::new();
        set.insert(task);
        let value = drops.tracker();
        let resolver = thread::spawn(move || {
            promise.resolve(value).unwrap();
        });
        drop(set);
        resolver.join().unwrap();
        assert_eq!(drops.get(), 1);
    });
}
