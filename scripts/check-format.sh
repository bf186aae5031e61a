#!/usr/bin/env bash
# Fails when any tracked C++ file is not clang-format clean; prints the files to fix (`make format` fixes them).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bad=()
while IFS= read -r f; do
  if ! clang-format --dry-run --Werror "$f" >/dev/null 2>&1; then bad+=("$f"); fi
done < <(git ls-files '*.cpp' '*.h' '*.hpp')
if ((${#bad[@]})); then
  echo "check-format: these files are not clang-format clean (run 'make format'):" >&2
  printf '  %s\n' "${bad[@]}" >&2
  exit 1
fi
echo "check-format: all C++ files are clang-format clean"
