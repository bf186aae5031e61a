#!/usr/bin/env bash
# Fetches the demo's public-domain sample photos from Debian packages into .samples/ (git-ignored):
# Grace Hopper from python-matplotlib-data and the astronaut Eileen Collins from python3-skimage. The
# packages are downloaded and unpacked in a temporary folder (apt-get download + dpkg -x), never installed.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dest="$repo/.samples"
mkdir -p "$dest"

fetch() {  # package path-inside-package file-name
  local pkg=$1 path=$2 name=$3
  if [ -s "$dest/$name" ]; then echo "fetch-samples: $name ok"; return; fi
  if [ -s "$path" ]; then cp "$path" "$dest/$name"; echo "fetch-samples: $name copied from $path"; return; fi
  local work
  work=$(mktemp -d)
  (cd "$work" && apt-get download "$pkg" >/dev/null 2>&1) || {
    [ "$(id -u)" -eq 0 ] && apt-get update -q >/dev/null && (cd "$work" && apt-get download "$pkg" >/dev/null)
  }
  dpkg -x "$work"/"$pkg"_*.deb "$work/root"
  if [ ! -s "$work/root$path" ]; then
    echo "fetch-samples: $pkg does not contain $path" >&2
    rm -rf "$work"
    exit 1
  fi
  cp "$work/root$path" "$dest/$name.partial" && mv "$dest/$name.partial" "$dest/$name"
  rm -rf "$work"
  echo "fetch-samples: $name extracted from Debian's $pkg"
}

fetch python-matplotlib-data /usr/share/matplotlib/mpl-data/sample_data/grace_hopper.jpg grace_hopper.jpg
fetch python3-skimage /usr/lib/python3/dist-packages/skimage/data/astronaut.png astronaut.png
