#!/usr/bin/env bash
# Video throughput with and without the provenance marks (docs/benchmarks.md "Provenance"): a 1080p H.264
# clip made from the test data (the astronaut motion clip scaled up), swapped three times each way,
# alternating, with the same encoder settings. Prints wall-clock fps, CPU seconds (user + system) and the
# output's size per run, and the medians' ratios; on a shared machine the CPU time is the steadier of the two.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bin="${1:-$repo/build/release/apps/faceweave/faceweave}"
frames="${2:-120}"
testdata="${FACEWEAVE_TESTDATA_DIR:-$repo/../shared/testdata}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export FACEWEAVE_TELEMETRY=off
ffmpeg -v error -y -stream_loop -1 -i "$testdata/video/astronaut_synthetic_motion.mp4" -frames:v "$frames" \
  -vf scale=1920:1080 -c:v libx264 -preset veryfast -crf 18 -pix_fmt yuv420p "$work/clip.mp4"
run() {  # extra flags -> "fps cpu_seconds bytes"
  local t
  t=$(/usr/bin/time -f '%e %U %S' "$bin" swap -s "$testdata/images/obama.jpg" -t "$work/clip.mp4" \
    -o "$work/out.mp4" --progress none "$@" 2>&1 >/dev/null | tail -1)
  read -r wall user sys <<<"$t"
  echo "$(echo "$frames / $wall" | bc -l) $(echo "$user + $sys" | bc -l) $(stat -c %s "$work/out.mp4")"
}
pf=() pc=() ps=() mf=() mc=() ms=()
for i in 1 2 3; do
  read -r f c b < <(run --no-watermark --no-provenance); pf+=("$f"); pc+=("$c"); ps+=("$b")
  read -r f c b < <(run); mf+=("$f"); mc+=("$c"); ms+=("$b")
done
median() { printf '%s\n' "$@" | sort -n | sed -n 2p; }
printf 'unmarked: fps %s | cpu s %s | bytes %s\nmarked:   fps %s | cpu s %s | bytes %s\n' \
  "${pf[*]}" "${pc[*]}" "${ps[*]}" "${mf[*]}" "${mc[*]}" "${ms[*]}"
a=$(median "${pf[@]}") b=$(median "${mf[@]}") c=$(median "${pc[@]}") d=$(median "${mc[@]}")
printf 'median fps unmarked %.2f, marked %.2f (throughput cost %.1f%%); CPU s unmarked %.1f, marked %.1f (%.1f%%)\n' \
  "$a" "$b" "$(echo "(1 - $b / $a) * 100" | bc -l)" "$c" "$d" "$(echo "($d / $c - 1) * 100" | bc -l)"
e=$(median "${ps[@]}") g=$(median "${ms[@]}")
printf 'median output size unmarked %s, marked %s bytes (%.1f%%)\n' "$e" "$g" "$(echo "($g / $e - 1) * 100" | bc -l)"
