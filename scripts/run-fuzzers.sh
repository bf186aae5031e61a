#!/usr/bin/env bash
# Runs every libFuzzer target of a fuzz build: run-fuzzers.sh BUILD_DIR SECONDS_PER_TARGET.
# First each target replays its regression inputs (tests/fuzz/<target>/, crashes found before), then it
# fuzzes from its seed corpus (made from the test data at build time) plus what earlier runs found
# (BUILD_DIR/fuzz/corpus/<target>, kept between runs). A crash leaves its input in
# BUILD_DIR/fuzz/artifacts/<target>/ and fails the run: add it to tests/fuzz/<target>/ once fixed.
set -euo pipefail
build=${1:?usage: run-fuzzers.sh BUILD_DIR SECONDS}
seconds=${2:?usage: run-fuzzers.sh BUILD_DIR SECONDS}
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export FACEWEAVE_TELEMETRY=off
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
failed=()
for target in image video options upload events; do
  bin=$build/fuzz/fuzz_$target
  regressions=$root/tests/fuzz/$target
  corpus=$build/fuzz/corpus/$target
  artifacts=$build/fuzz/artifacts/$target/
  mkdir -p "$corpus" "$artifacts"
  max_len=65536
  [ "$target" = video ] || [ "$target" = upload ] && max_len=262144
  echo "== fuzz_$target: ${seconds}s"
  if [ -d "$regressions" ] && [ -n "$(ls -A "$regressions")" ]; then
    if ! "$bin" -rss_limit_mb=2560 -timeout=20 "$regressions"/*; then
      failed+=("$target (a regression input)")
      continue
    fi
  fi
  log=$build/fuzz/fuzz_$target.log
  status=0
  "$bin" -max_total_time="$seconds" -max_len=$max_len -rss_limit_mb=2560 -timeout=20 -print_final_stats=1 \
    -artifact_prefix="$artifacts" "$corpus" "$build/fuzz/seeds/$target" >"$log" 2>&1 || status=$?
  grep -a -E 'INITED|DONE|stat::number_of_executed_units|SUMMARY|ERROR|runtime error' "$log" | head -20 || true
  if [ $status -ne 0 ]; then
    tail -60 "$log"
    failed+=("$target")
  fi
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzzing found problems in: ${failed[*]} (inputs in $build/fuzz/artifacts/)" >&2
  exit 1
fi
echo "fuzzing: no crash in ${seconds}s per target"
