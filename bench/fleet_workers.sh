#!/usr/bin/env bash
# Image jobs per minute through a PostgreSQL queue with 1 and with 2 `faceweave worker` processes
# (docs/benchmarks.md "Fleet"). A throwaway cluster (scripts/start-postgres.sh), 12 jobs per run (3 sources x
# 4 targets of the shared test data), timed from the submit until the last job is done.
# Usage: bench/fleet_workers.sh [build/release/apps/faceweave/faceweave]
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bin="${1:-$repo/build/release/apps/faceweave/faceweave}"
data="${FACEWEAVE_TESTDATA_DIR:-$repo/../shared/testdata}/images"
export FACEWEAVE_TELEMETRY=off
eval "$("$repo/scripts/start-postgres.sh")"
work="$(mktemp -d)"
trap 'kill $(jobs -p) 2>/dev/null || true; "$repo/scripts/start-postgres.sh" --stop "$FACEWEAVE_PG_DIR"; rm -rf "$work"' EXIT
psql -q "$FACEWEAVE_DATABASE_URL" -c 'CREATE DATABASE one' -c 'CREATE DATABASE two'
base="${FACEWEAVE_DATABASE_URL%/*}"
echo "| workers | jobs | seconds | jobs/minute |"
echo "|---|---|---|---|"
for n in 1 2; do
  db="$base/$([ "$n" = 1 ] && echo one || echo two)"
  mkdir -p "$work/$n/media"
  pids=()
  for w in $(seq 1 "$n"); do
    "$bin" --data-dir "$work/$n/w$w" worker --database-url "$db" --media-dir "$work/$n/media" >"$work/$n/w$w.log" 2>&1 &
    pids+=($!)
  done
  for w in $(seq 1 "$n"); do
    until grep -q "waiting for jobs" "$work/$n/w$w.log"; do sleep 0.2; done
  done
  start=$(date +%s.%N)
  "$bin" --data-dir "$work/$n/cli" jobs submit --database-url "$db" --media-dir "$work/$n/media" \
    -s "$data/biden.jpg" -s "$data/meds-aa-S001-01.jpg" -s "$data/meds-aa-S029-01.jpg" \
    -t "$data/bald_guys.jpg" -t "$data/astronaut.png" -t "$data/meds-af-S419-01.jpg" -t "$data/2008_002470.jpg" \
    >/dev/null 2>&1
  until [ "$(psql -tAq "$db" -c "SELECT count(*) FROM faceweave_jobs WHERE status IN ('done','failed')")" = 12 ]; do
    sleep 0.1
  done
  end=$(date +%s.%N)
  kill "${pids[@]}"
  wait "${pids[@]}" 2>/dev/null || true
  python3 -c "s=$end-$start; print(f'| $n | 12 | {s:.1f} | {12/s*60:.0f} |')"
done
