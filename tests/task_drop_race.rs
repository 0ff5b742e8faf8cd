//! Dropping a `Task` racing its completion: the output is dropped exactly
//! once (by the handle or by the completing thread), and a panic reaches the
//! handler exactly once.

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use support::{DropCounter, EXPECTED, Rng, pool_with_panic_log, size, within};

#[test]
fn a_handle_dropped_around_completion_drops_the_output_once_and_reports_panics_once() {
    let rounds = size(50_000, 100);
    let (outputs, captured, panics_raised, reports, panicked_metric) =
        within("drop racing completion", move || {
            let (pool, log) = pool_with_panic_log(2);
            let outputs = DropCounter::new();
            let captured = DropCounter::new();
            let panics_raised = Arc::new(AtomicUsize::new(0));
            let mut rng = Rng::new(11);
            for index in 0..rounds {
                let (value, make, raised) =
                    (captured.track(), outputs.clone(), panics_raised.clone());
                let task = pool.spawn(move || {
                    value.touch();
                    if index % 3 == 0 {
                        raised.fetch_add(1, Ordering::SeqCst);
                        panic!("{EXPECTED}: raced drop");
                    }
                    make.track()
                });
                for _ in 0..rng.range(0, 600) {
                    std::hint::spin_loop();
                }
                drop(task);
            }
            pool.shutdown();
            (
                outputs,
                captured,
                panics_raised.load(Ordering::SeqCst),
                log.count(),
                pool.metrics().panicked,
            )
        });
    assert_eq!(captured.made(), rounds);
    assert_eq!(captured.drops(), rounds, "every closure dropped once");
    assert_eq!(outputs.made(), rounds - panics_raised);
    assert_eq!(outputs.drops(), outputs.made(), "every output dropped once");
    assert_eq!(
        reports, panics_raised,
        "every unobserved panic reported once"
    );
    assert_eq!(panicked_metric, panics_raised as u64);
}

#[test]
fn an_async_handle_dropped_around_completion_drops_the_output_once() {
    let rounds = size(20_000, 50);
    let outputs = within("async drop racing completion", move || {
        let pool = taskpool::ThreadPool::new(2);
        let outputs = DropCounter::new();
        let mut rng = Rng::new(5);
        for _ in 0..rounds {
            let make = outputs.clone();
            let task = pool.spawn_async(async move {
                taskpool::yield_now().await;
                make.track()
            });
            for _ in 0..rng.range(0, 600) {
                std::hint::spin_loop();
            }
            drop(task);
        }
        pool.shutdown();
        outputs
    });
    assert_eq!(outputs.made(), rounds);
    assert_eq!(outputs.drops(), rounds);
}
