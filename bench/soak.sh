#!/usr/bin/env bash
# Soak: `faceweave serve` under a bounded mixed load for FACEWEAVE_SOAK_SECONDS (default 180): uploads
# (among them pixel bombs and junk), previews, image and video jobs (some cancelled), browser events (good
# and bad), SSE streams, slow clients and bad bodies (deep JSON, broken multipart), all at once. Checks:
# the server never dies, no 5xx other than deliberate ones (none are deliberate here), every job ends done,
# failed or cancelled, and prints the server's RSS at the start, its peak and at the end.
# Usage: bench/soak.sh [BINARY]   (results go into docs/benchmarks.md by hand, with the command)
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bin="${1:-$repo/build/release/apps/faceweave/faceweave}"
testdata="${FACEWEAVE_TESTDATA_DIR:-$repo/../shared/testdata}"
seconds="${FACEWEAVE_SOAK_SECONDS:-180}"
work=$(mktemp -d)
server_pid=
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

"$bin" --data-dir "$work/data" --telemetry all serve --port 0 --max-concurrent-jobs 2 > "$work/log" 2>&1 &
server_pid=$!
for _ in $(seq 600); do grep -q "serving on" "$work/log" && break; sleep 0.1; done
url=$(grep -o 'http://[0-9.:]*' "$work/log" | head -1)
[ -n "$url" ] || { cat "$work/log"; exit 1; }
rss() { awk '/VmRSS/ {print int($2 / 1024)}' "/proc/$server_pid/status" 2>/dev/null || echo 0; }
end=$((SECONDS + seconds))
codes="$work/codes"
: > "$codes"
req() { curl -s -o /dev/null -w '%{http_code}\n' --max-time 120 "$@" >> "$codes" || echo 000 >> "$codes"; }
upload_id() { curl -s --max-time 60 -F "file=@$1" "$url/api/uploads" | sed -n 's/.*"id":"\(u_[0-9a-f]*\)".*/\1/p'; }

source_id=$(upload_id "$testdata/images/obama.jpg")
target_id=$(upload_id "$testdata/images/biden.jpg")
video_id=$(upload_id "$testdata/video/video_01.mp4")
[ -n "$source_id" ] && [ -n "$target_id" ] && [ -n "$video_id" ] || { echo "soak: setup uploads failed" >&2; exit 1; }

# Warm up (models load on first use), so the start RSS is the loaded server's.
curl -s -o /dev/null --max-time 120 -H 'Content-Type: application/json' \
  -d "{\"sources\":[\"$source_id\"],\"target\":\"$target_id\"}" "$url/api/preview"
rss_start=$(rss)
end=$((SECONDS + seconds))

python3 - "$work" <<'PY'
import struct, sys, zlib
work = sys.argv[1]
def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
raw = zlib.compress(b"\0" * 4096)
png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 9999, 9999, 8, 2, 0, 0, 0)) + chunk(b"IDAT", raw) + chunk(b"IEND", b"")
open(work + "/bomb.png", "wb").write(png)
open(work + "/deep.json", "w").write("[" * 60000 + "]" * 60000)
open(work + "/junk.jpg", "wb").write(b"\xff\xd8\xff" + bytes(range(256)) * 40)
PY

loop() { while [ $SECONDS -lt $end ]; do "$@"; done; }
uploads() {
  req -F "file=@$testdata/images/two_people.jpg" "$url/api/uploads"
  req -F "file=@$work/bomb.png" "$url/api/uploads"
  req -F "file=@$work/junk.jpg" "$url/api/uploads"
}
previews() { req -H 'Content-Type: application/json' -d "{\"sources\":[\"$source_id\"],\"target\":\"$target_id\"}" "$url/api/preview"; }
jobs() {
  req -H 'Content-Type: application/json' -d "{\"sources\":[\"$source_id\"],\"target\":\"$target_id\",\"options\":{\"blend\":\"affine\"}}" "$url/api/jobs"
  id=$(curl -s --max-time 60 -H 'Content-Type: application/json' -d "{\"sources\":[\"$source_id\"],\"target\":\"$video_id\",\"options\":{\"trim_frame_end\":15}}" "$url/api/jobs" | sed -n 's/.*"id":"\(j_[0-9a-f]*\)".*/\1/p')
  sleep 2
  [ -n "$id" ] && req -X DELETE "$url/api/jobs/$id"
  sleep 3
}
events() {
  req -H 'Content-Type: text/plain' -d '{"client":"c_0123456789abcdef01234567","events":[{"event":"ui.page","props":{"page":"workbench"}},{"event":"ui.action","props":{"control":"blend","action":"change","value":"secret_name_123"}}]}' "$url/api/events"
  sleep 0.2
}
streams() { curl -s -o /dev/null --max-time 5 "$url/api/insights/stream" || true; }
slow() {
  port=${url##*:}
  exec 3<>"/dev/tcp/127.0.0.1/$port" || return 0
  printf 'GET /healthz HTTP/1.1\r\n' >&3
  for _ in 1 2 3 4 5; do printf 'X-Slow: 1\r\n' >&3 2>/dev/null || break; sleep 1; done
  exec 3>&-
}
bad() {
  req -H 'Content-Type: application/json' --data-binary "@$work/deep.json" "$url/api/jobs"
  req -H 'Content-Type: multipart/form-data; boundary=xx' --data-binary $'--xx\r\nContent-Disposition: form-data; name="file"\r\n\r\nabc' "$url/api/uploads"
  req -H 'Content-Type: application/json' -d '{"sources":' "$url/api/preview"
  req "$url/index.html%00.svg"
}
for worker in uploads previews jobs events streams bad; do loop $worker & pids+=($!); done
for _ in 1 2 3 4 5 6; do loop slow & pids+=($!); done

peak=$rss_start
while [ $SECONDS -lt $end ]; do
  kill -0 "$server_pid" 2>/dev/null || { echo "soak: the server died" >&2; tail -20 "$work/log" >&2; exit 1; }
  r=$(rss); [ "$r" -gt "$peak" ] && peak=$r
  echo "$r" >> "$work/rss"
  sleep 1
done
for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
pids=()
# Every job ends done, failed or cancelled.
for _ in $(seq 120); do
  open=$( (curl -s "$url/api/jobs?limit=1000" | grep -o '"status":"\(queued\|running\)"' || true) | wc -l)
  [ "$open" -eq 0 ] && break
  sleep 1
done
states=$( (curl -s "$url/api/jobs?limit=1000" | grep -o '"status":"[a-z]*"' || true) | sort | uniq -c | tr -s ' ' | tr '\n' ';')
rss_end=$(rss)
fivexx=$(grep -c '^5' "$codes" || true)
echo "soak: ${seconds}s, $(wc -l < "$codes") requests; status codes: $(sort "$codes" | uniq -c | tr -s ' ' | tr '\n' ';')"
echo "soak: jobs: $states"
quarters=$(awk '{a[NR]=$1} END {printf "%s %s %s", a[int(NR/4)], a[int(NR/2)], a[int(3*NR/4)]}' "$work/rss")
echo "soak: RSS start ${rss_start} MB, peak ${peak} MB, end ${rss_end} MB (at 1/4, 1/2, 3/4 of the run: $quarters MB)"
kill -0 "$server_pid" 2>/dev/null || { echo "soak: the server died" >&2; exit 1; }
[ "$fivexx" -eq 0 ] || { echo "soak: $fivexx answers were 5xx" >&2; exit 1; }
[ "$open" -eq 0 ] || { echo "soak: $open jobs never ended" >&2; exit 1; }
echo "soak: passed (no crash, no 5xx, every job ended)"
