#!/usr/bin/env bash
# The analytics endpoints over HTTP at dashboard scale: writes a simulated history (default 230,000 users x 30
# days, about 10.6 M events) into a fresh data dir, starts `faceweave serve` on it and times every
# GET /api/insights/{view} with curl (p50/p95 of N requests, whole range and a 7-day range of one version),
# plus one dashboard refresh (all views requested at once, as the page does). Writes its table into
# docs/benchmarks.md (section "insights-http"). The same questions as plain GROUP BYs over the raw events are
# timed by bench/analytics_bench (section "Analytics").
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bin="${1:-$repo/build/release/apps/faceweave/faceweave}"
users="${FACEWEAVE_BENCH_USERS:-230000}"
days="${FACEWEAVE_BENCH_DAYS:-30}"
runs="${FACEWEAVE_BENCH_RUNS:-20}"
end=2026-11-20
work=$(mktemp -d)
server_pid=
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

start_s=$(date +%s)
"$bin" --telemetry off --data-dir "$work/data" telemetry simulate --users "$users" --days "$days" --seed 1 \
  --end "$end" > "$work/simulate.log"
simulate_s=$(( $(date +%s) - start_s ))
events=$(sqlite3 "$work/data/telemetry/events.db" 'SELECT count(*) FROM events')

"$bin" --telemetry off --data-dir "$work/data" serve --port 0 > "$work/log" 2>&1 &
server_pid=$!
for _ in $(seq 600); do grep -q "serving on" "$work/log" && break; sleep 0.1; done
url=$(grep -o 'http://[0-9.:]*' "$work/log" | head -1)
[ -n "$url" ] || { cat "$work/log"; exit 1; }

views=(usage heatmap actions errors latency defaults funnel retention ab)
version=$(curl -sf "$url/api/insights" | python3 -c 'import json,sys; print(json.load(sys.stdin)["versions"][-1])')
from=$(date -u -d "$end -6 days" +%F)

# p50 and p95 (ms) of `runs` requests of one URL, after one warm-up request.
percentiles() {
  curl -sf -o /dev/null "$1"
  for _ in $(seq "$runs"); do curl -sf -o /dev/null -w '%{time_total}\n' "$1"; done |
    sort -n | awk '{ t[NR] = $1 * 1000 } END { i50 = int(NR * 0.5 + 0.5); i95 = int(NR * 0.95 + 0.5);
      if (i95 > NR) i95 = NR; printf "%.1f | %.1f", t[i50], t[i95] }'
}

rows=""
worst=0
for v in "${views[@]}"; do
  whole=$(percentiles "$url/api/insights/$v")
  if [ "$v" = ab ]; then filtered="n/a (compares versions) | n/a"; else
    filtered=$(percentiles "$url/api/insights/$v?from=$from&to=$end&version=$version"); fi
  rows+="| $v | $whole | $filtered |"$'\n'
  p95=${whole#*| }
  worst=$(awk -v a="$worst" -v b="$p95" 'BEGIN { print (b > a) ? b : a }')
done

refresh() {
  local t0 t1
  t0=$(date +%s.%N)
  local pids=()
  for v in "${views[@]}"; do
    curl -sf -o /dev/null "$url/api/insights/$v" &
    pids+=($!)
  done
  wait "${pids[@]}"  # not a bare wait: that would wait for the server too
  t1=$(date +%s.%N)
  awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f", (b - a) * 1000 }'
}
refresh > /dev/null
refresh_ms=$(for _ in 1 2 3 4 5; do refresh; echo; done | sort -n | sed -n 3p)

cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')
table=$(cat <<TABLE
Measured $(date -u +%Y-%m-%d) on $cpu ($(nproc) cores). Command: \`bench/insights_http.sh\` (simulated history
of $users users x $days days: $events events, written and folded in ${simulate_s} s; \`faceweave serve\` on it;
curl on loopback, $runs requests per row after a warm-up; times include HTTP and JSON).

| view | whole range p50 ms | p95 ms | last 7 days, version $version: p50 ms | p95 ms |
|---|---|---|---|---|
${rows}
Slowest p95 over the whole range: **${worst} ms** (goal: under 50 ms). One dashboard refresh (all nine views
requested at once over 2 cores, median of 5): ${refresh_ms} ms.
TABLE
)
echo "$table"
# shellcheck source=bench/doc_section.sh
source "$repo/bench/doc_section.sh"
echo "$table" | write_section insights-http "Analytics endpoints over HTTP (bench/insights_http.sh)"
