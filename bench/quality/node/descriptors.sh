#!/usr/bin/env bash
# Wrapper: install dependencies if needed (setup.sh), then run descriptors.mjs
# against the install in <repo>/build/quality-node.
#   bench/quality/node/descriptors.sh [--models DIR] OUT.json CHIP1.png [CHIP2.png ...]
set -euo pipefail

SRC="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$SRC/../../.." && pwd)"
export QUALITY_NODE_DIR="${QUALITY_NODE_DIR:-$ROOT/build/quality-node}"

"$SRC/setup.sh"
exec node "$SRC/descriptors.mjs" "$@"
