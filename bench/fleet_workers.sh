#!/usr/bin/env bash
# Image jobs per minute through a PostgreSQL queue with 1 and with 2 `faceweave worker` processes, and with
# 2 workers limited to one core each (`--threads 1`) (docs/benchmarks.md "Fleet"). A throwaway cluster
# (scripts/start-postgres.sh), 12 jobs per run (3 sources x 4 targets of the shared test data), timed from
# the submit until the last job is done. Per run also: the CPU time the workers spent (user + system, from
# /proc, so other load on the machine does not count), CPU seconds per job, the cores the workers kept busy
# on average (CPU time / wall time) and the most threads a worker had.
# Usage: bench/fleet_workers.sh [build/release/apps/faceweave/faceweave]
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bin="${1:-$repo/build/release/apps/faceweave/faceweave}"
data="${FACEWEAVE_TESTDATA_DIR:-$repo/../shared/testdata}/images"
export FACEWEAVE_TELEMETRY=off
eval "$("$repo/scripts/start-postgres.sh")"
work="$(mktemp -d)"
trap 'kill $(jobs -p) 2>/dev/null || true; "$repo/scripts/start-postgres.sh" --stop "$FACEWEAVE_PG_DIR"; rm -rf "$work"' EXIT
base="${FACEWEAVE_DATABASE_URL%/*}"
tick=$(getconf CLK_TCK)
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
echo "| workers | threads each | jobs | seconds | jobs/minute | CPU s | CPU s per job | cores busy | max threads |"
echo "|---|---|---|---|---|---|---|---|---|"
for config in "1 0" "2 0" "2 1"; do
  read -r n threads <<<"$config"
  db_name="w${n}t${threads}"
  psql -q "$FACEWEAVE_DATABASE_URL" -c "CREATE DATABASE $db_name"
  db="$base/$db_name"
  mkdir -p "$work/$db_name/media"
  pids=()
  for w in $(seq 1 "$n"); do
    "$bin" --data-dir "$work/$db_name/w$w" worker --database-url "$db" --media-dir "$work/$db_name/media" \
      --threads "$threads" >"$work/$db_name/w$w.log" 2>&1 &
    pids+=($!)
  done
  for w in $(seq 1 "$n"); do
    until grep -q "waiting for jobs" "$work/$db_name/w$w.log"; do sleep 0.2; done
  done
  before=0
  for p in "${pids[@]}"; do before=$((before + $(cpu_ticks "$p"))); done
  max_threads=0
  start=$(date +%s.%N)
  "$bin" --data-dir "$work/$db_name/cli" jobs submit --database-url "$db" --media-dir "$work/$db_name/media" \
    -s "$data/biden.jpg" -s "$data/meds-aa-S001-01.jpg" -s "$data/meds-aa-S029-01.jpg" \
    -t "$data/bald_guys.jpg" -t "$data/astronaut.png" -t "$data/meds-af-S419-01.jpg" -t "$data/2008_002470.jpg" \
    >/dev/null 2>&1
  until [ "$(psql -tAq "$db" -c "SELECT count(*) FROM faceweave_jobs WHERE status IN ('done','failed')")" = 12 ]; do
    for p in "${pids[@]}"; do
      t=$(awk '/^Threads:/ {print $2}' "/proc/$p/status")
      if [ "$t" -gt "$max_threads" ]; then max_threads=$t; fi
    done
    sleep 0.1
  done
  end=$(date +%s.%N)
  after=0
  for p in "${pids[@]}"; do after=$((after + $(cpu_ticks "$p"))); done
  kill "${pids[@]}"
  wait "${pids[@]}" 2>/dev/null || true
  python3 -c "
s = $end - $start; cpu = ($after - $before) / $tick
print(f'| $n | $([ "$threads" = 0 ] && echo all || echo "$threads") | 12 | {s:.1f} | {12 / s * 60:.0f} | {cpu:.1f} | {cpu / 12:.2f} | {cpu / s:.2f} | $max_threads |')"
done
