#!/usr/bin/env bash
# Video throughput with and without the provenance marks (docs/benchmarks.md "Provenance"): a 1080p H.264
# clip made from the test data (the astronaut motion clip scaled up), swapped three times each way,
# alternating, with the same encoder settings; prints the fps of each run and the median ratio.
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
run() {  # extra flags -> fps
  local start end
  start=$(date +%s.%N)
  "$bin" swap -s "$testdata/images/obama.jpg" -t "$work/clip.mp4" -o "$work/out.mp4" --progress none "$@" >/dev/null
  end=$(date +%s.%N)
  echo "$frames / ($end - $start)" | bc -l
}
marked=() plain=()
for i in 1 2 3; do
  plain+=("$(run --no-watermark --no-provenance)")
  marked+=("$(run)")
done
median() { printf '%s\n' "$@" | sort -n | sed -n 2p; }
pm=$(median "${plain[@]}") mm=$(median "${marked[@]}")
printf 'unmarked fps: %s\nmarked fps:   %s\n' "${plain[*]}" "${marked[*]}"
printf 'median unmarked %.2f fps, marked %.2f fps, cost %.1f%%\n' "$pm" "$mm" "$(echo "(1 - $mm / $pm) * 100" | bc -l)"
