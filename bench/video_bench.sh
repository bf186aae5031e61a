#!/usr/bin/env bash
# Video throughput and memory: makes a 1080p H.264 clip from the test data (the astronaut motion clip scaled
# up and looped), then measures in one run
#   - a plain transcode with the ffmpeg tool: -c:v libx264 -preset veryfast -crf N -c:a copy
#   - faceweave swap on the same clip with the same encoder settings (fps and the ratio to the transcode)
#   - faceweave's peak memory (max RSS) for 300 and 1200 frames, which must not grow with the length.
# Writes its table into docs/benchmarks.md (section "video") and prints it.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bin="${1:-$repo/build/release/apps/faceweave/faceweave}"
testdata="${FACEWEAVE_TESTDATA_DIR:-$repo/../shared/testdata}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
quality=64
crf=$(( (100 - quality) * 51 / 100 ))  # faceweave's mapping (docs/cli.md), rounded the same way for 64

make_clip() {  # frames out
  ffmpeg -v error -y -stream_loop -1 -i "$testdata/video/astronaut_synthetic_motion.mp4" -frames:v "$1" \
    -vf scale=1920:1080 -c:v libx264 -preset veryfast -crf 18 -pix_fmt yuv420p "$2"
}
make_clip 300 "$work/clip300.mp4"
make_clip 1200 "$work/clip1200.mp4"

seconds() { /usr/bin/time -f '%e %M' "$@" 2>&1 >/dev/null | tail -1; }

read -r t_plain _ < <(seconds ffmpeg -v error -y -i "$work/clip300.mp4" -c:v libx264 -preset veryfast -crf "$crf" -c:a copy "$work/plain.mp4")
read -r t_swap rss300 < <(seconds "$bin" swap -s "$testdata/images/obama.jpg" -t "$work/clip300.mp4" -o "$work/swap300.mp4" \
  --output-video-encoder libx264 --output-video-preset veryfast --output-video-quality "$quality" --progress none)
read -r t_swap1200 rss1200 < <(seconds "$bin" swap -s "$testdata/images/obama.jpg" -t "$work/clip1200.mp4" -o "$work/swap1200.mp4" \
  --output-video-encoder libx264 --output-video-preset veryfast --output-video-quality "$quality" --progress none)

# Telemetry overhead: the same 300-frame swap with telemetry off and with everything recorded.
swap300() {
  seconds "$bin" --telemetry "$1" --data-dir "$work/data" swap -s "$testdata/images/obama.jpg" -t "$work/clip300.mp4" \
    -o "$work/t_$1.mp4" --output-video-encoder libx264 --output-video-preset veryfast --output-video-quality "$quality" \
    --progress none
}
read -r t_off _ < <(swap300 off)
read -r t_all _ < <(swap300 all)
overhead=$(awk -v a="$t_off" -v b="$t_all" 'BEGIN { printf "%+.1f", (b - a) / a * 100 }')

fps() { awk -v n="$1" -v t="$2" 'BEGIN { printf "%.1f", n / t }'; }
ratio=$(awk -v a="$t_plain" -v b="$t_swap" 'BEGIN { printf "%.2f", a / b }')
cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')
table=$(cat <<TABLE
Measured $(date -u +%Y-%m-%d) on $cpu ($(nproc) cores). Command: \`bench/video_bench.sh\` (1080p H.264 clip of
the astronaut motion test video scaled up; libx264 veryfast, CRF $crf on both sides).

| run | frames | seconds | fps |
|---|---|---|---|
| plain transcode (ffmpeg tool) | 300 | $t_plain | $(fps 300 "$t_plain") |
| faceweave swap | 300 | $t_swap | $(fps 300 "$t_swap") |
| faceweave swap | 1200 | $t_swap1200 | $(fps 1200 "$t_swap1200") |

Swap throughput / plain transcode: **$ratio** (goal: at least 0.6).
Peak memory (max RSS): $((rss300 / 1024)) MiB for 300 frames, $((rss1200 / 1024)) MiB for 1200 frames.
Telemetry overhead on the 300-frame swap: ${t_off} s with \`--telemetry off\`, ${t_all} s with \`--telemetry all\`
(${overhead}%; run-to-run noise on this machine is a few percent, so only a large difference means anything).
TABLE
)
echo "$table"
# shellcheck source=bench/doc_section.sh
source "$repo/bench/doc_section.sh"
echo "$table" | write_section video "Video (bench/video_bench.sh)"
