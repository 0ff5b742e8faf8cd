//! The last reference to a task may be dropped anywhere: here by a waker
//! clone on a thread that never synchronised with the thread that joined
//! the task. The free must still come after the joiner's reads of the
//! output, which only the acquire half of the reference count's decrement
//! guarantees.
//!
//! Planted bug this pins (under Miri, whose data-race detector sees it; the
//! native run always passes): weakening `ref_dec` from `AcqRel` to
//! `Release`. Miri then reports a data race between the joiner's read of
//! the output and the deallocation on the waker's thread.

mod support;

use std::future::poll_fn;
use std::sync::mpsc;
use std::task::{Poll, Waker};
use std::time::Duration;
use support::join_guarded;
use taskpool::ThreadPool;

#[test]
fn a_waker_dropped_last_on_an_unsynchronised_thread_frees_the_task_after_the_joiner_read_it() {
    let pool = ThreadPool::new(1);
    let (send_waker, receive_waker) = mpsc::channel::<Waker>();
    let task = pool.spawn_async(poll_fn(move |cx| {
        // Hand a clone of this task's waker (a counted reference) away.
        send_waker.send(cx.waker().clone()).unwrap();
        Poll::Ready(vec![1u8, 2, 3])
    }));
    // The holder learns of the waker from the worker, never from us.
    let holder = std::thread::spawn(move || {
        let waker = receive_waker.recv().unwrap();
        // Long enough, in practice, for the joiner below to finish with
        // the task first; nothing orders it after the joiner but the
        // reference count.
        std::thread::sleep(Duration::from_millis(100));
        drop(waker);
    });
    let output = join_guarded("the task", task).unwrap();
    assert_eq!(output, [1, 2, 3]);
    pool.shutdown();
    holder.join().unwrap();
}
