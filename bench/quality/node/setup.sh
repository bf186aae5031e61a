#!/usr/bin/env bash
# Install the Node.js dependencies of descriptors.mjs (face-api.js, pure-JS
# TF.js CPU backend, pngjs, weights) into <repo>/build/quality-node from the
# committed lockfile. Idempotent: does nothing when that lockfile is already
# installed there. Usage: bench/quality/node/setup.sh [--force]
set -euo pipefail

SRC="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$SRC/../../.." && pwd)"
DEST="${QUALITY_NODE_DIR:-$ROOT/build/quality-node}"
STAMP="$DEST/node_modules/.faceweave-installed"

command -v node >/dev/null 2>&1 || { echo "setup.sh: node not found (need Node.js >= 18)" >&2; exit 1; }
command -v npm >/dev/null 2>&1 || { echo "setup.sh: npm not found" >&2; exit 1; }

if [[ "${1:-}" != "--force" && -f "$STAMP" ]] \
   && cmp -s "$SRC/package.json" "$DEST/package.json" \
   && cmp -s "$SRC/package-lock.json" "$DEST/package-lock.json" \
   && cmp -s "$SRC/package-lock.json" "$STAMP"; then
  exit 0
fi

mkdir -p "$DEST"
cp "$SRC/package.json" "$SRC/package-lock.json" "$DEST/"
echo "setup.sh: npm ci in $DEST" >&2
# stdout -> stderr so callers can keep stdout clean
(cd "$DEST" && npm ci --no-audit --no-fund 1>&2)
cp "$SRC/package-lock.json" "$STAMP"
