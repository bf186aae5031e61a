#!/usr/bin/env bash
# Runs the benchmarks of a release build and rewrites their results sections in docs/benchmarks.md, with the
# command, the machine and the date, so every number there can be reproduced.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${1:-$repo/build/release}"
cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')

# shellcheck source=bench/doc_section.sh
source "$repo/bench/doc_section.sh"

# run_section NAME BINARY [plain]: a Google Benchmark binary (medians of five runs, one thread), or with
# "plain" a program that prints its own report (bench_telemetry).
run_section() {
  local section=$1 bench=$2 kind=${3:-gbench} out cmd
  if [ "$kind" = plain ]; then
    cmd="build/release/bench/$bench"
    echo "run-benchmarks: $cmd"
    out=$("$build/bench/$bench" 2>/dev/null)
    printf '%s\n' "$out"
    {
      echo "Measured $(date -u +%Y-%m-%d) on $cpu ($(nproc) cores), SQLite $(pkg-config --modversion sqlite3)."
      echo "Command: \`make bench\` (runs \`$cmd\`)."
      echo
      echo '```'
      printf '%s\n' "$out"
      echo '```'
    } | write_section "$section" "$section"
    return
  fi
  cmd="FACEWEAVE_BENCH_THREADS=1 build/release/bench/$bench --benchmark_repetitions=5 --benchmark_report_aggregates_only=true"
  echo "run-benchmarks: $cmd"
  out=$(FACEWEAVE_BENCH_THREADS=1 "$build/bench/$bench" --benchmark_repetitions=5 \
    --benchmark_report_aggregates_only=true 2>/dev/null)
  printf '%s\n' "$out"
  {
    echo "Measured $(date -u +%Y-%m-%d) on $cpu ($(nproc) cores), OpenCV $(pkg-config --modversion opencv4), one thread."
    echo "Command: \`make bench\` (runs \`$cmd\`)."
    echo
    echo '```'
    printf '%s\n' "$out" | grep -E '^(Benchmark|BM_.*_(median|cv))'
    echo '```'
  } | write_section "$section" "$section"
}

run_section analysis bench_analysis
run_section swap bench_swap
run_section telemetry bench_telemetry plain
echo "run-benchmarks: results written to $repo/docs/benchmarks.md"
