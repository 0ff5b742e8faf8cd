#!/usr/bin/env bash
# Throughput against pool size: runs the compare example's throughput
# workloads with pools of 1, 2, 4, 8 and 16 threads, keeps each run's table
# (compare-threads-N.txt), JSON and chart, and prints the rows of every run
# one after the other, so a line can be followed down the thread counts.
#
# usage: scripts/scaling.sh [--quick] [OUT_DIR]
#   --quick   a tenth of the work per run (a smoke test)
#   OUT_DIR   where the results go (default: target/scaling)
# environment:
#   THREADS   the pool sizes (default: "1 2 4 8 16")
#   ONLY      the workloads, as for compare --only
#             (default: fire_and_forget,contention,spawn_join,nested_fan_out)
#
# On a machine with fewer cores than threads the pools oversubscribe it,
# which is a result too: a pool should not get slower than its core count.
set -euo pipefail
cd "$(dirname "$0")/.."

quick=()
if [[ "${1:-}" == "--quick" ]]; then
    quick=(--quick)
    shift
fi
out="${1:-target/scaling}"
threads="${THREADS:-1 2 4 8 16}"
only="${ONLY:-fire_and_forget,contention,spawn_join,nested_fan_out}"

cargo build --release --example compare
bin="target/release/examples/compare"
mkdir -p "$out"
rm -f "$out"/compare-threads-*

for n in $threads; do
    echo "=== $n threads" >&2
    "$bin" "${quick[@]}" --threads "$n" --only "$only" \
        --json "$out/compare-threads-$n.json" --chart "$out/compare-threads-$n.svg" \
        > "$out/compare-threads-$n.txt"
done

# The table's header and its rows (they start with a row id), per run.
echo "Machine: $(nproc) CPUs; $(rustc --version); commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown); $(date -u +%Y-%m-%d)."
for n in $threads; do
    echo
    echo "$n threads:"
    sed -n '/^ *unit /,/^$/p' "$out/compare-threads-$n.txt"
done
echo "wrote $out/compare-threads-*.{txt,json,svg}" >&2
