//! A pool that cannot be built says why, with a typed error, and leaves no
//! thread behind. (The process-wide thread count is checked in
//! `pool_build_errors_thread_count.rs`, alone in its process.)

mod support;

use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use taskpool::{BuildErrorKind, MAX_THREADS, ThreadPool};

#[test]
fn more_threads_than_max_threads_is_refused_as_too_many_threads() {
    for requested in [MAX_THREADS + 1, usize::MAX] {
        let started = Arc::new(AtomicUsize::new(0));
        let counter = started.clone();
        let error = ThreadPool::builder()
            .num_threads(requested)
            .on_thread_start(move |_| {
                counter.fetch_add(1, Ordering::SeqCst);
            })
            .build()
            .unwrap_err();
        match error.kind() {
            BuildErrorKind::TooManyThreads {
                requested: got,
                max,
            } => {
                assert_eq!(*got, requested);
                assert_eq!(*max, MAX_THREADS);
            }
            other => panic!("expected TooManyThreads, got {other:?}"),
        }
        assert!(
            error.to_string().contains(&requested.to_string()),
            "{error}"
        );
        assert!(
            error.to_string().contains(&MAX_THREADS.to_string()),
            "{error}"
        );
        assert!(std::error::Error::source(&error).is_none());
        assert!(!error.is_global_already_initialized());
        assert_eq!(started.load(Ordering::SeqCst), 0, "no thread was started");
    }
}

#[test]
fn thread_pool_new_with_too_many_threads_panics_with_the_build_error_message() {
    let expected = ThreadPool::builder()
        .num_threads(MAX_THREADS + 1)
        .build()
        .unwrap_err()
        .to_string();
    let payload = std::panic::catch_unwind(|| ThreadPool::new(MAX_THREADS + 1))
        .expect_err("ThreadPool::new panics");
    let message = support::panic_text(&*payload).expect("a text payload");
    assert_eq!(message, expected);
}

#[test]
#[cfg_attr(miri, ignore = "Miri does not model thread stack sizes")]
fn an_impossible_stack_size_is_refused_as_thread_spawn_with_the_os_error() {
    // On Linux these fail in pthread_create (EAGAIN: the stack cannot be
    // mapped; EINVAL for usize::MAX); none of them panics inside std.
    for stack_size in [usize::MAX / 2, 1 << 50, usize::MAX] {
        let started = Arc::new(AtomicUsize::new(0));
        let counter = started.clone();
        let error = ThreadPool::builder()
            .num_threads(2)
            .stack_size(stack_size)
            .on_thread_start(move |_| {
                counter.fetch_add(1, Ordering::SeqCst);
            })
            .build()
            .unwrap_err();
        match error.kind() {
            BuildErrorKind::ThreadSpawn { index, source } => {
                assert_eq!(*index, 0, "stack size {stack_size:#x}");
                assert!(source.raw_os_error().is_some(), "{source:?}");
            }
            other => panic!("stack size {stack_size:#x}: expected ThreadSpawn, got {other:?}"),
        }
        assert!(
            error
                .to_string()
                .starts_with("failed to start worker thread 0: "),
            "{error}"
        );
        assert!(std::error::Error::source(&error).is_some());
        assert_eq!(started.load(Ordering::SeqCst), 0, "no thread was started");
    }
}

#[test]
fn a_start_hook_panicking_on_one_of_four_workers_is_reported_and_the_others_stop() {
    const THREADS: usize = 4;
    const FAILING: usize = 2;
    let started = Arc::new(Mutex::new(Vec::new()));
    let stopped = Arc::new(Mutex::new(Vec::new()));
    let error = {
        let (started, stopped) = (started.clone(), stopped.clone());
        ThreadPool::builder()
            .num_threads(THREADS)
            .on_thread_start(move |index| {
                assert_ne!(index, FAILING, "worker {index} refuses to start");
                started.lock().unwrap().push(index);
            })
            .on_thread_stop(move |index| stopped.lock().unwrap().push(index))
            .build()
            .unwrap_err()
    };
    match error.kind() {
        BuildErrorKind::StartHookPanicked { index, message } => {
            assert_eq!(*index, FAILING);
            let message = message.as_deref().expect("a text payload");
            assert!(message.contains("worker 2 refuses to start"), "{message}");
        }
        other => panic!("expected StartHookPanicked, got {other:?}"),
    }
    assert!(
        error.to_string().contains("worker 2 refuses to start"),
        "{error}"
    );

    // `build` joined every thread before returning: the hooks are final.
    let mut started = started.lock().unwrap().clone();
    let mut stopped = stopped.lock().unwrap().clone();
    started.sort();
    stopped.sort();
    assert_eq!(started, [0, 1, 3]);
    assert_eq!(
        stopped,
        [0, 1, 3],
        "each worker whose start hook ran stops once"
    );
}

#[test]
fn a_start_hook_panicking_with_a_non_text_payload_has_no_message() {
    let error = ThreadPool::builder()
        .num_threads(2)
        .on_thread_start(|index| {
            if index == 1 {
                std::panic::panic_any(7_u32);
            }
        })
        .build()
        .unwrap_err();
    match error.kind() {
        BuildErrorKind::StartHookPanicked { index, message } => {
            assert_eq!(*index, 1);
            assert_eq!(*message, None);
        }
        other => panic!("expected StartHookPanicked, got {other:?}"),
    }
    assert_eq!(error.to_string(), "on_thread_start panicked on worker 1");
}

#[test]
fn a_start_hook_panicking_on_every_worker_reports_one_of_them() {
    const THREADS: usize = 4;
    let stopped = Arc::new(AtomicUsize::new(0));
    let error = {
        let stopped = stopped.clone();
        ThreadPool::builder()
            .num_threads(THREADS)
            .on_thread_start(|index| panic!("worker {index} refuses to start"))
            .on_thread_stop(move |_| {
                stopped.fetch_add(1, Ordering::SeqCst);
            })
            .build()
            .unwrap_err()
    };
    match error.kind() {
        BuildErrorKind::StartHookPanicked { index, message } => {
            assert!(*index < THREADS);
            assert_eq!(
                message.as_deref(),
                Some(format!("worker {index} refuses to start").as_str())
            );
        }
        other => panic!("expected StartHookPanicked, got {other:?}"),
    }
    assert_eq!(stopped.load(Ordering::SeqCst), 0, "no start hook returned");
}

/// A builder of four workers whose `thread_name` misbehaves for worker 2
/// (through `name_worker_2`), after workers 0 and 1 have started for sure;
/// returns it with the counts of start and stop hooks that ran.
fn builder_failing_to_name_worker_2(
    name_worker_2: impl Fn() -> String + 'static,
) -> (taskpool::Builder, Arc<AtomicUsize>, Arc<AtomicUsize>) {
    let started = Arc::new(AtomicUsize::new(0));
    let stopped = Arc::new(AtomicUsize::new(0));
    let (on_start, on_stop, seen) = (started.clone(), stopped.clone(), started.clone());
    let builder = ThreadPool::builder()
        .num_threads(4)
        .thread_name(move |index| {
            if index == 2 {
                support::wait_until("workers 0 and 1 run their start hooks", || {
                    seen.load(Ordering::SeqCst) == 2
                });
                return name_worker_2();
            }
            format!("named-{index}")
        })
        .on_thread_start(move |_| {
            on_start.fetch_add(1, Ordering::SeqCst);
        })
        .on_thread_stop(move |_| {
            on_stop.fetch_add(1, Ordering::SeqCst);
        });
    (builder, started, stopped)
}

#[test]
fn a_thread_name_with_an_interior_nul_is_refused_with_an_error_and_leaves_no_thread_behind() {
    // std panics on such a name ("thread name may not contain interior null
    // bytes") instead of returning an error from `spawn`.
    let (builder, started, stopped) =
        builder_failing_to_name_worker_2(|| String::from("bad\0name"));
    let outcome = std::panic::catch_unwind(AssertUnwindSafe(|| builder.build()));
    assert_eq!(started.load(Ordering::SeqCst), 2);
    assert_eq!(
        stopped.load(Ordering::SeqCst),
        2,
        "workers 0 and 1 were started and are still running after build failed"
    );
    match outcome {
        Ok(Err(error)) => assert!(!error.to_string().is_empty()),
        Ok(Ok(_)) => panic!("a pool was built with a name std cannot use"),
        Err(_) => panic!("build panicked instead of returning a BuildError"),
    }
}

#[test]
fn a_thread_name_closure_that_panics_leaves_no_thread_behind() {
    // Whether the panic propagates from `build` or becomes an error, the
    // workers already started must be stopped first.
    let (builder, started, stopped) =
        builder_failing_to_name_worker_2(|| panic!("no name for worker 2"));
    let outcome = std::panic::catch_unwind(AssertUnwindSafe(|| builder.build()));
    assert!(
        !matches!(outcome, Ok(Ok(_))),
        "a pool was built without worker 2's name"
    );
    assert_eq!(started.load(Ordering::SeqCst), 2);
    assert_eq!(
        stopped.load(Ordering::SeqCst),
        2,
        "workers 0 and 1 were started and are still running after build failed"
    );
}
