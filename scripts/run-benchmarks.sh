#!/usr/bin/env bash
# Runs the benchmarks of a release build and rewrites the results section of docs/benchmarks.md, with the
# command, the machine and the date, so every number there can be reproduced.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${1:-$repo/build/release}"
doc="$repo/docs/benchmarks.md"
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT

cmd="FACEWEAVE_BENCH_THREADS=1 $build/bench/bench_analysis --benchmark_repetitions=5 --benchmark_report_aggregates_only=true"
echo "run-benchmarks: $cmd"
FACEWEAVE_BENCH_THREADS=1 "$build/bench/bench_analysis" --benchmark_repetitions=5 \
  --benchmark_report_aggregates_only=true --benchmark_format=console 2>/dev/null | tee "$tmp"

cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')
{
  sed '/^<!-- results:analysis -->/,$d' "$doc"
  echo "<!-- results:analysis -->"
  echo "Measured $(date -u +%Y-%m-%d) on $cpu ($(nproc) cores), OpenCV $(pkg-config --modversion opencv4), one thread."
  echo "Command: \`make bench\` (runs \`$cmd\`)."
  echo
  echo '```'
  grep -E '^(Benchmark|BM_|-)' "$tmp" | grep -v -- '^-' 
  echo '```'
} > "$doc.new"
mv "$doc.new" "$doc"
echo "run-benchmarks: results written to $doc"
