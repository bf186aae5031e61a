#!/usr/bin/env bash
# The demo: runs faceweave on the public-domain sample photos and prints where the outputs are.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bin="${1:-$repo/build/release/apps/faceweave/faceweave}"
samples="${FACEWEAVE_SAMPLES_DIR:-$repo/../shared/testdata/images}"
out="$repo/out/demo"
mkdir -p "$out"
for f in astronaut.png obama.jpg; do
  if [ ! -f "$samples/$f" ]; then
    echo "demo: sample $samples/$f is missing; set FACEWEAVE_SAMPLES_DIR to the folder with the sample images" >&2
    exit 1
  fi
done
"$bin" analyse "$samples/astronaut.png" --debug-out "$out/astronaut_analysis.png"
"$bin" analyse "$samples/obama.jpg" --json --debug-out "$out/obama_analysis.png" > "$out/obama_analysis.json"
echo
echo "demo outputs:"
ls -1 "$out" | sed "s|^|  $out/|"
