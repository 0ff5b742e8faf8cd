//! Parallel sorts: the same order as std's sorts for random, sorted,
//! reversed, all-equal, few-distinct and short inputs; the stable sorts keep
//! equal elements in order; a panicking comparator leaves a permutation.

mod support;

use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use support::{
    DropCounter, EXPECTED, Rng, Tracked, panic_text, quiet_expected_panics, size, within,
};
use taskpool::{ParallelSort, ThreadPool};

/// Long enough to go parallel (and well past the sequential cut-offs).
const LONG: usize = size(300_000, 400);

fn inputs(len: usize) -> Vec<(&'static str, Vec<u64>)> {
    let mut rng = Rng::new(len as u64 + 11);
    let random: Vec<u64> = (0..len).map(|_| rng.next_u64()).collect();
    let few: Vec<u64> = (0..len).map(|_| rng.below(8)).collect();
    let mut sorted = random.clone();
    sorted.sort_unstable();
    let reversed: Vec<u64> = sorted.iter().rev().copied().collect();
    let mut sawtooth: Vec<u64> = (0..len as u64).map(|i| i % 1000).collect();
    sawtooth.extend(0..10);
    if cfg!(miri) {
        // The interpreter is slow: the shapes that take the other paths
        // (duplicates, the already-sorted checks) and no more.
        return vec![
            ("random", random),
            ("few distinct", few),
            ("sorted", sorted),
        ];
    }
    vec![
        ("random", random),
        ("few distinct", few),
        ("sorted", sorted),
        ("reversed", reversed),
        ("all equal", vec![42; len]),
        ("sawtooth", sawtooth),
    ]
}

fn check_unstable_and_stable(len: usize) {
    for (name, input) in inputs(len) {
        let mut expected = input.clone();
        expected.sort_unstable();

        let mut v = input.clone();
        v.par_sort_unstable();
        assert_eq!(v, expected, "par_sort_unstable, {name}, len {len}");
        let mut v = input.clone();
        v.par_sort();
        assert_eq!(v, expected, "par_sort, {name}, len {len}");

        let descending: Vec<u64> = expected.iter().rev().copied().collect();
        let mut v = input.clone();
        v.par_sort_unstable_by(|a, b| b.cmp(a));
        assert_eq!(v, descending, "par_sort_unstable_by, {name}");
        let mut v = input.clone();
        v.par_sort_by(|a, b| b.cmp(a));
        assert_eq!(v, descending, "par_sort_by, {name}");

        let mut by_key = input.clone();
        by_key.par_sort_unstable_by_key(|&x| x % 1000);
        let mut expected_keys: Vec<u64> = input.iter().map(|x| x % 1000).collect();
        expected_keys.sort_unstable();
        assert_eq!(
            by_key.iter().map(|x| x % 1000).collect::<Vec<_>>(),
            expected_keys,
            "{name}"
        );

        let mut by_key = input.clone();
        by_key.par_sort_by_key(|&x| x % 1000);
        let mut std_by_key = input;
        std_by_key.sort_by_key(|&x| x % 1000);
        assert_eq!(by_key, std_by_key, "par_sort_by_key is stable, {name}");
    }
}

#[test]
fn sorts_equal_std_on_long_inputs_from_outside() {
    within("long sorts", || check_unstable_and_stable(LONG));
}

#[test]
fn sorts_equal_std_on_short_inputs() {
    let lens: &[usize] = if cfg!(miri) {
        &[0, 1, 2, 7, 100]
    } else {
        &[0, 1, 2, 3, 7, 31, 32, 100, 1000, 8193, 20_000]
    };
    for &len in lens {
        check_unstable_and_stable(len);
    }
}

#[test]
fn sorts_equal_std_from_a_worker_and_a_one_thread_pool() {
    within("sorts on workers", || {
        for threads in [1, 3] {
            let pool = ThreadPool::new(threads);
            pool.join(|| check_unstable_and_stable(LONG), || {});
        }
    });
}

#[test]
fn the_stable_sort_keeps_equal_keys_in_order() {
    within("stability", || {
        let mut rng = Rng::new(5);
        // Few keys, many equal: (key, original position).
        let mut v: Vec<(u8, usize)> = (0..LONG).map(|i| (rng.below(16) as u8, i)).collect();
        v.par_sort_by_key(|&(key, _)| key);
        assert!(
            v.windows(2)
                .all(|w| w[0].0 < w[1].0 || (w[0].0 == w[1].0 && w[0].1 < w[1].1)),
            "equal keys out of their original order"
        );
        let mut strings: Vec<(String, usize)> = (0..size(50_000, 300))
            .map(|i| (format!("k{}", rng.below(100)), i))
            .collect();
        let mut expected = strings.clone();
        expected.sort_by(|a, b| a.0.cmp(&b.0));
        strings.par_sort_by(|a, b| a.0.cmp(&b.0));
        assert_eq!(strings, expected);
    });
}

#[test]
fn sorts_of_owned_values_drop_each_once() {
    within("drops", || {
        let drops = DropCounter::new();
        let mut rng = Rng::new(9);
        let len = size(60_000, 400);
        let mut v: Vec<(u64, Tracked)> =
            (0..len).map(|_| (rng.below(1000), drops.track())).collect();
        v.par_sort_unstable_by_key(|(key, _)| *key);
        assert!(v.windows(2).all(|w| w[0].0 <= w[1].0));
        v.par_sort_by(|a, b| b.0.cmp(&a.0));
        assert!(v.windows(2).all(|w| w[0].0 >= w[1].0));
        drop(v);
        assert_eq!(drops.made(), len);
        drops.assert_all_dropped("after the sorts");
    });
}

/// Sorts with a comparator that panics after `after` comparisons, and
/// checks the panic arrives and the slice is a permutation of the input.
fn panicking_comparator_leaves_a_permutation(stable: bool, after: usize) {
    let mut rng = Rng::new(after as u64);
    let input: Vec<u64> = (0..LONG).map(|_| rng.below(1_000_000)).collect();
    let mut v: Vec<Box<u64>> = input.iter().copied().map(Box::new).collect();
    let comparisons = AtomicUsize::new(0);
    // Boxed on purpose: an element duplicated or lost by the sort would be
    // a double free or a leak, which Miri reports.
    #[allow(clippy::borrowed_box)]
    let compare = |a: &Box<u64>, b: &Box<u64>| {
        if comparisons.fetch_add(1, Ordering::Relaxed) == after {
            panic!("{EXPECTED}: comparator");
        }
        a.cmp(b)
    };
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        if stable {
            v.par_sort_by(compare);
        } else {
            v.par_sort_unstable_by(compare);
        }
    }));
    let payload = outcome.expect_err("the comparator's panic reaches the caller");
    assert_eq!(
        panic_text(&*payload),
        Some(format!("{EXPECTED}: comparator").as_str())
    );
    let mut now: Vec<u64> = v.iter().map(|b| **b).collect();
    now.sort_unstable();
    let mut expected = input;
    expected.sort_unstable();
    assert_eq!(
        now, expected,
        "not a permutation (stable: {stable}, after {after})"
    );
}

#[test]
fn a_panicking_comparator_leaves_a_permutation() {
    quiet_expected_panics();
    within("panicking comparators", || {
        // Early (pivot choice, first partition), middle (leaves, merges)
        // and late (the last merges).
        let afters: &[usize] = if cfg!(miri) {
            &[0, 40, LONG]
        } else {
            &[0, 40, 5_000, LONG, 8 * LONG]
        };
        for &after in afters {
            panicking_comparator_leaves_a_permutation(false, after);
            panicking_comparator_leaves_a_permutation(true, after);
        }
    });
}

#[test]
fn comparisons_see_changes_made_through_interior_mutability() {
    // As std promises: what the comparator writes into an element (here,
    // through an atomic) stays with that element across every move of the
    // partition and the merges.
    within("interior mutability", || {
        for stable in [false, true] {
            let mut rng = Rng::new(3);
            let mut v: Vec<(u64, AtomicU32)> = (0..LONG)
                .map(|_| (rng.below(5000), AtomicU32::new(0)))
                .collect();
            let total = AtomicUsize::new(0);
            let compare = |a: &(u64, AtomicU32), b: &(u64, AtomicU32)| {
                a.1.fetch_add(1, Ordering::Relaxed);
                b.1.fetch_add(1, Ordering::Relaxed);
                total.fetch_add(2, Ordering::Relaxed);
                a.0.cmp(&b.0)
            };
            if stable {
                v.par_sort_by(compare);
            } else {
                v.par_sort_unstable_by(compare);
            }
            assert!(v.windows(2).all(|w| w[0].0 <= w[1].0));
            let counted: usize = v.iter().map(|e| e.1.load(Ordering::Relaxed) as usize).sum();
            assert_eq!(counted, total.into_inner(), "stable: {stable}");
        }
    });
}
