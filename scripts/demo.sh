#!/usr/bin/env bash
# The demo: swaps faces between two public-domain photos from Debian packages (Grace Hopper and the
# astronaut Eileen Collins), writes the results and a debug image under out/demo/, and prints where they are.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bin="${1:-$repo/build/release/apps/faceweave/faceweave}"
"$repo/scripts/fetch-samples.sh"
samples="$repo/.samples"
out="$repo/out/demo"
mkdir -p "$out"
"$bin" swap -s "$samples/grace_hopper.jpg" -t "$samples/astronaut.png" -o "$out/hopper_as_astronaut.png"
"$bin" swap -s "$samples/astronaut.png" -t "$samples/grace_hopper.jpg" -o "$out/astronaut_as_hopper.jpg" \
  --blend laplacian --face-enhancer detail
"$bin" swap -s "$samples/grace_hopper.jpg" -t "$samples/astronaut.png" -o "$out/hopper_as_astronaut_debug.png" \
  --processors face_swapper face_debugger
"$bin" analyse "$samples/grace_hopper.jpg" --json > "$out/grace_hopper_analysis.json"
echo
echo "demo outputs (sources: $samples):"
ls -1 "$out" | sed "s|^|  $out/|"
