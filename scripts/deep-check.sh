#!/usr/bin/env bash
# The long checks, for before a release: what `.ci/run` runs in short form,
# run for hours instead of minutes. Run from anywhere; every step runs under
# its own `timeout`, and the first failure stops the run.
#
#   loom models at preemption bound 3
#   Miri over every test it can run, with many scheduler seeds
#   ThreadSanitizer over the concurrency tests, each run many times
#   LeakSanitizer (or valgrind) over the whole test suite's pool tests
#   an hour of native stress (release and debug builds, fresh seeds)
#
# Knobs (environment): DEEP_STRESS_DURATION (default 60m), DEEP_MIRI_SEEDS
# (default 16), DEEP_LOOM_PREEMPTIONS (default 3).
set -euo pipefail
cd "$(dirname "$0")/.."

export CARGO_TERM_COLOR=never
export RUST_BACKTRACE=1

HOST=x86_64-unknown-linux-gnu
STRESS_DURATION="${DEEP_STRESS_DURATION:-60m}"
MIRI_SEEDS="${DEEP_MIRI_SEEDS:-16}"
LOOM_PREEMPTIONS="${DEEP_LOOM_PREEMPTIONS:-3}"
TIMINGS=()

step() {
    local name="$1" limit="$2"
    shift 2
    echo "::: ${name} (limit ${limit})"
    local start=$SECONDS
    if ! timeout --signal=KILL "${limit}" "$@"; then
        echo "FAILED: ${name} ($((SECONDS - start)) s)"
        exit 1
    fi
    echo "ok: ${name} ($((SECONDS - start)) s)"
    TIMINGS+=("$(printf '%6d s  %s' $((SECONDS - start)) "${name}")")
}

skip() {
    echo "::: $1"
    echo "SKIPPED: $1: $2"
    TIMINGS+=("     -    $1 (SKIPPED: $2)")
}

have() { command -v "$1" >/dev/null 2>&1; }
have_nightly() { cargo +nightly --version >/dev/null 2>&1; }
have_miri() { have_nightly && cargo +nightly miri --version >/dev/null 2>&1; }
have_rust_src() {
    have_nightly && [ -d "$(rustc +nightly --print sysroot)/lib/rustlib/src/rust/library" ]
}

if ! cargo nextest --version >/dev/null 2>&1; then
    echo "deep-check needs cargo-nextest (cargo install cargo-nextest --locked)"
    exit 1
fi

RACE_TESTS='binary(stress_races) | binary(/_race$/) | binary(cancel_races) | binary(async_wakeups)'

# 1. loom, one preemption more than CI: many times the interleavings.
step "loom models, preemption bound ${LOOM_PREEMPTIONS}" 6h env RUSTFLAGS="--cfg loom" \
    LOOM_MAX_PREEMPTIONS="${LOOM_PREEMPTIONS}" CARGO_TARGET_DIR=target/loom \
    cargo test -p taskpool --lib --release --locked -- --nocapture --test-threads 1

# 2. Miri over everything it can run (not: CPU-time measurements, /proc,
# process limits; and the one test whose hang guard trips on Miri's clock),
# each test under MIRI_SEEDS different scheduler seeds, with the long
# per-test limit of the `deep-miri` nextest profile.
MIRI_UNSUPPORTED='binary(pool_idle) | binary(pool_build_errors_thread_count) | binary(fault_thread_spawn)
    | (binary(pool_shutdown) & test(=shutdown_called_from_inside_a_job_returns_and_the_pool_still_drains))'
if have_miri; then
    for seed in $(seq 0 $((MIRI_SEEDS - 1))); do
        step "miri, seed ${seed}" 4h env CARGO_TARGET_DIR=target/miri \
            MIRIFLAGS="-Zmiri-tree-borrows -Zmiri-ignore-leaks -Zmiri-permissive-provenance -Zmiri-seed=${seed}" \
            cargo +nightly miri nextest run -p taskpool --locked --profile deep-miri -E "not (${MIRI_UNSUPPORTED})"
    done
    step "miri, stacked borrows and leak check, token tests" 2h env CARGO_TARGET_DIR=target/miri \
        MIRIFLAGS="" cargo +nightly miri nextest run -p taskpool --locked --profile deep-miri \
        -E "(binary(cancel_tokens) | binary(cancel_callbacks) | binary(cancel_races)) & not test(/pool|worker|task|spawn|children_is_cancelled_from_the_root_without/)"
else
    skip "miri" "no nightly toolchain with the miri component"
fi

# 3. ThreadSanitizer: the concurrency tests, twenty times each, and the
# mixed stress at a million items. The races crossbeam makes on purpose are
# suppressed, as in .ci/run (crossbeam-rs/crossbeam#589, #646).
mkdir -p target
printf '%s\n' 'race:crossbeam_deque::deque::Buffer' 'race:crossbeam_epoch' \
    > target/tsan-suppressions.txt
TSAN="halt_on_error=1 second_deadlock_stack=1 suppressions=$PWD/target/tsan-suppressions.txt"
if have_rust_src; then
    step "thread sanitizer, race tests x20" 4h env CARGO_TARGET_DIR=target/tsan \
        RUSTFLAGS="-Zsanitizer=thread" RUSTDOCFLAGS="-Zsanitizer=thread" \
        TSAN_OPTIONS="${TSAN}" \
        cargo +nightly nextest run -p taskpool --locked -Zbuild-std --target "${HOST}" \
        --profile sanitize --stress-count 20 -E "${RACE_TESTS}"
    step "thread sanitizer, whole suite and 1M-item stress" 4h env CARGO_TARGET_DIR=target/tsan \
        RUSTFLAGS="-Zsanitizer=thread" RUSTDOCFLAGS="-Zsanitizer=thread" \
        TSAN_OPTIONS="${TSAN}" TASKPOOL_STRESS_ITEMS=1000000 \
        cargo +nightly nextest run -p taskpool --locked -Zbuild-std --target "${HOST}" \
        --profile sanitize -E "not (test(/tokio|interop/) | binary(fault_thread_spawn) | binary(pool_idle))"
else
    skip "thread sanitizer" "no nightly toolchain with rust-src"
fi

# 4. Leaks over every test (not only the leak scenarios), but the one that
# leaks a token chain on purpose (cancel_tokens.rs) and the one that lowers
# the process's address-space limit.
if have_nightly; then
    step "leak sanitizer, whole suite" 2h env CARGO_TARGET_DIR=target/lsan \
        RUSTFLAGS="-Zsanitizer=leak" cargo +nightly nextest run -p taskpool --locked --target "${HOST}" \
        --profile sanitize -E "not (binary(fault_thread_spawn) | test(/children_is_cancelled_from_the_root_without/))"
elif have valgrind; then
    step "valgrind memcheck, leak scenarios" 2h bash -c '
        set -euo pipefail
        binaries=$(cargo test -p taskpool --locked --no-run --message-format=json \
            --test stress_pool_drop --test fault_injection --test stress_races \
            | grep -o "\"executable\":\"[^\"]*\"" | cut -d\" -f4)
        for binary in $binaries; do
            valgrind --quiet --leak-check=full --errors-for-leak-kinds=definite \
                --show-leak-kinds=definite --error-exitcode=1 "$binary" --test-threads 1
        done'
else
    skip "leak check" "neither a nightly toolchain nor valgrind"
fi

# 5. Native stress for STRESS_DURATION: the mixed stress (a fresh seed per
# run, so every run is different) and the race tests, over and over, in a
# release build (real speed, most interleavings per second) and a debug
# build (debug assertions, live-task counter).
step "native stress, release, ${STRESS_DURATION}" 3h env TASKPOOL_STRESS_ITEMS=4000000 \
    cargo nextest run -p taskpool --release --locked --profile stress --stress-duration "${STRESS_DURATION}" \
    -E "binary(stress_mixed) | ${RACE_TESTS}"
step "native stress, debug, 10 rounds" 2h env TASKPOOL_STRESS_ITEMS=4000000 \
    cargo nextest run -p taskpool --locked --profile stress --stress-count 10 \
    -E "binary(stress_mixed) | binary(stress_pool_drop) | binary(fault_injection) | ${RACE_TESTS}"

echo "all deep checks passed"
printf '%s\n' "${TIMINGS[@]}"
