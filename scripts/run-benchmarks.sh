#!/usr/bin/env bash
# Runs the benchmarks of a release build and rewrites their results sections in docs/benchmarks.md, with the
# command, the machine and the date, so every number there can be reproduced.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${1:-$repo/build/release}"
doc="$repo/docs/benchmarks.md"
cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')

run_section() {  # section-name bench-binary
  local section=$1 bench=$2 tmp
  tmp=$(mktemp)
  local cmd="FACEWEAVE_BENCH_THREADS=1 build/release/bench/$bench --benchmark_repetitions=5 --benchmark_report_aggregates_only=true"
  echo "run-benchmarks: $cmd"
  FACEWEAVE_BENCH_THREADS=1 "$build/bench/$bench" --benchmark_repetitions=5 \
    --benchmark_report_aggregates_only=true 2>/dev/null | tee "$tmp"
  {
    sed "/^<!-- results:$section -->/,/^<!-- end:$section -->/{/^<!-- results:$section -->/!{/^<!-- end:$section -->/!d}}" "$doc" |
      sed "/^<!-- results:$section -->/q"
    echo "Measured $(date -u +%Y-%m-%d) on $cpu ($(nproc) cores), OpenCV $(pkg-config --modversion opencv4), one thread."
    echo "Command: \`make bench\` (runs \`$cmd\`)."
    echo
    echo '```'
    grep -E '^(Benchmark|BM_.*_(median|cv))' "$tmp"
    echo '```'
    sed -n "/^<!-- end:$section -->/,\$p" "$doc"
  } > "$doc.new"
  mv "$doc.new" "$doc"
  rm -f "$tmp"
}

run_plain_section() {  # section-name bench-binary: a program that prints its own report (bench_telemetry)
  local section=$1 bench=$2 tmp
  tmp=$(mktemp)
  echo "run-benchmarks: $bench"
  "$build/bench/$bench" 2>/dev/null | tee "$tmp"
  {
    sed "/^<!-- results:$section -->/,/^<!-- end:$section -->/{/^<!-- results:$section -->/!{/^<!-- end:$section -->/!d}}" "$doc" |
      sed "/^<!-- results:$section -->/q"
    echo "Measured $(date -u +%Y-%m-%d) on $cpu ($(nproc) cores), SQLite $(pkg-config --modversion sqlite3)."
    echo "Command: \`make bench\` (runs \`build/release/bench/$bench\`)."
    echo
    echo '```'
    cat "$tmp"
    echo '```'
    sed -n "/^<!-- end:$section -->/,\$p" "$doc"
  } > "$doc.new"
  mv "$doc.new" "$doc"
  rm -f "$tmp"
}

run_section analysis bench_analysis
run_section swap bench_swap
run_plain_section telemetry bench_telemetry
echo "run-benchmarks: results written to $doc"
