#!/usr/bin/env bash
# Image jobs per minute through a PostgreSQL queue with 1 and 2 `faceweave worker` processes, with and
# without `--threads 1`, two workers each in a session of its own (`setsid`: with the kernel's autogroup
# scheduling, each session is one share of a busy CPU, however many processes it runs), and one
# single-threaded worker running two jobs at once (`--concurrency 2`) (docs/benchmarks.md "Fleet"). A throwaway cluster (scripts/start-postgres.sh); per run ROUNDS x 12 jobs
# (3 sources x 4 targets of the shared test data), timed from the submit until the last job is done.
# Per run also: the CPU time the workers spent (user + system, from /proc, so other load on the machine does
# not count), CPU seconds per job, the cores the workers kept busy on average (CPU time / wall time), the
# most threads a worker had, the machine's 1-minute load average before and after, and (second table) the
# threads of the first worker that did the work, with their CPU seconds.
# Usage: [ROUNDS=2] bench/fleet_workers.sh [build/release/apps/faceweave/faceweave]
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bin="${1:-$repo/build/release/apps/faceweave/faceweave}"
data="${FACEWEAVE_TESTDATA_DIR:-$repo/../shared/testdata}/images"
rounds="${ROUNDS:-2}"
jobs_per_run=$((12 * rounds))
export FACEWEAVE_TELEMETRY=off
eval "$("$repo/scripts/start-postgres.sh")"
work="$(mktemp -d)"
trap 'kill $(jobs -p) 2>/dev/null || true; "$repo/scripts/start-postgres.sh" --stop "$FACEWEAVE_PG_DIR"; rm -rf "$work"' EXIT
base="${FACEWEAVE_DATABASE_URL%/*}"
tick=$(getconf CLK_TCK)
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
# "<tid> <name> <ticks>" for each thread of a process (spaces in a name become _).
thread_ticks() {
  local t s tid comm f
  for t in /proc/"$1"/task/*/stat; do
    s=$(cat "$t" 2>/dev/null) || continue
    tid=${s%% *}
    comm=${s#*(}
    comm=${comm%)*}
    read -ra f <<<"${s##*) }"
    echo "$tid ${comm// /_} $((f[11] + f[12]))"
  done
}
loadavg() { cut -d' ' -f1 /proc/loadavg; }
echo "autogroup scheduling: $(cat /proc/sys/kernel/sched_autogroup_enabled 2>/dev/null || echo unknown); cores: $(nproc)"
echo
echo "| workers | threads each | jobs at once each | sessions | jobs | seconds | jobs/minute | CPU s | CPU s per job | cores busy | max threads | load before / after |"
echo "|---|---|---|---|---|---|---|---|---|---|---|---|"
breakdown=""
for config in "1 0 1 one" "1 1 1 one" "2 0 1 one" "2 1 1 one" "2 1 1 own" "1 1 2 one"; do
  read -r n threads concurrency sessions <<<"$config"
  db_name="w${n}t${threads}c${concurrency}${sessions}"
  start_in_session=()
  if [ "$sessions" = own ]; then start_in_session=(setsid); fi
  psql -q "$FACEWEAVE_DATABASE_URL" -c "CREATE DATABASE $db_name"
  db="$base/$db_name"
  mkdir -p "$work/$db_name/media"
  pids=()
  for w in $(seq 1 "$n"); do
    "${start_in_session[@]}" "$bin" --data-dir "$work/$db_name/w$w" worker --database-url "$db" --media-dir "$work/$db_name/media" \
      --threads "$threads" --concurrency "$concurrency" >"$work/$db_name/w$w.log" 2>&1 &
    pids+=($!)
  done
  for w in $(seq 1 "$n"); do
    until grep -q "waiting for jobs" "$work/$db_name/w$w.log"; do sleep 0.2; done
  done
  before=0
  for p in "${pids[@]}"; do before=$((before + $(cpu_ticks "$p"))); done
  thread_ticks "${pids[0]}" >"$work/$db_name/threads.before"
  max_threads=0
  load_before=$(loadavg)
  start=$(date +%s.%N)
  for r in $(seq 1 "$rounds"); do
    "$bin" --data-dir "$work/$db_name/cli" jobs submit --database-url "$db" --media-dir "$work/$db_name/media" \
      -s "$data/biden.jpg" -s "$data/meds-aa-S001-01.jpg" -s "$data/meds-aa-S029-01.jpg" \
      -t "$data/bald_guys.jpg" -t "$data/astronaut.png" -t "$data/meds-af-S419-01.jpg" -t "$data/2008_002470.jpg" \
      >/dev/null
  done
  until [ "$(psql -tAq "$db" -c "SELECT count(*) FROM faceweave_jobs WHERE status IN ('done','failed')")" = "$jobs_per_run" ]; do
    for p in "${pids[@]}"; do
      t=$(awk '/^Threads:/ {print $2}' "/proc/$p/status")
      if [ "$t" -gt "$max_threads" ]; then max_threads=$t; fi
    done
    sleep 0.1
  done
  end=$(date +%s.%N)
  load_after=$(loadavg)
  after=0
  for p in "${pids[@]}"; do after=$((after + $(cpu_ticks "$p"))); done
  thread_ticks "${pids[0]}" >"$work/$db_name/threads.after"
  failed=$(psql -tAq "$db" -c "SELECT count(*) FROM faceweave_jobs WHERE status = 'failed'")
  if [ "$failed" != 0 ]; then echo "warning: $failed job(s) failed in run $db_name" >&2; fi
  kill "${pids[@]}"
  wait "${pids[@]}" 2>/dev/null || true
  label="$([ "$threads" = 0 ] && echo all || echo "$threads")"
  python3 -c "
s = $end - $start; cpu = ($after - $before) / $tick; jobs = $jobs_per_run
print(f'| $n | $label | $concurrency | $sessions | {jobs} | {s:.1f} | {jobs / s * 60:.0f} | {cpu:.1f} | {cpu / jobs:.3f} | {cpu / s:.2f} | $max_threads | $load_before / $load_after |')"
  # The threads of worker 1 that spent more than 0.05 s during the run (those that ended in between are
  # missing; a job's own threads do not end).
  breakdown+="| $n | $label | $concurrency | $sessions | $(awk -v tick="$tick" '
    NR == FNR { before[$1] = $3; next }
    { d = ($3 - before[$1]) / tick; if (d > 0.05) printf "%s %.2f, ", $2, d }' "$work/$db_name/threads.before" "$work/$db_name/threads.after" |
    sed 's/, $//') |"$'\n'
done
echo
echo "| workers | threads each | jobs at once each | sessions | threads of worker 1 with CPU time in the run (name, CPU s) |"
echo "|---|---|---|---|---|"
printf '%s' "$breakdown"
