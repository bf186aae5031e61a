#!/usr/bin/env bash
# The base image every stage of the Containerfile starts from: a minimal Debian 12 (mmdebstrap
# --variant=minbase) made from the same Debian apt sources this machine uses, imported into podman as
# localhost/faceweave-base:bookworm. No registry is needed. Made once and kept: it is made again only when
# the apt sources change, or with FACEWEAVE_REBUILD_BASE=1. Needs root (mmdebstrap --mode=root).
# Usage: deploy/image/base.sh  (prints the image name)
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
export CONTAINERS_CONF="${CONTAINERS_CONF:-$here/containers.conf}"
image=localhost/faceweave-base:bookworm

# Debian's own sources only (deb822 or one-line format); other repositories of the host stay out.
sources_dir=$(mktemp -d)
sources=$sources_dir/debian.sources
trap 'rm -rf "$sources_dir"' EXIT
if [ -f /etc/apt/sources.list.d/debian.sources ]; then
  grep -v '^#' /etc/apt/sources.list.d/debian.sources >"$sources"
else
  printf 'Types: deb\nURIs: http://deb.debian.org/debian\nSuites: bookworm bookworm-updates\nComponents: main\n\n' >"$sources"
  printf 'Types: deb\nURIs: http://deb.debian.org/debian-security\nSuites: bookworm-security\nComponents: main\n' >>"$sources"
fi
stamp=$(cat "$sources" "$here/base.sh" | sha256sum | cut -c1-16)

if [ "${FACEWEAVE_REBUILD_BASE:-0}" != 1 ] &&
  [ "$(podman image inspect -f '{{index .Labels "org.faceweave.base"}}' "$image" 2>/dev/null)" = "$stamp" ]; then
  echo "$image"
  exit 0
fi

echo "base: mmdebstrap --variant=minbase bookworm (a few minutes)" >&2
tar=$(mktemp --suffix=.tar)
trap 'rm -rf "$sources_dir" "$tar"' EXIT
# No recommends, no documentation, man pages or translations: the image stays small.
mmdebstrap --mode=root --variant=minbase --format=tar \
  --aptopt='APT::Install-Recommends "false"' \
  --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-include=/usr/share/doc/*/copyright' \
  --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/locale/*' \
  --dpkgopt='path-exclude=/usr/share/info/*' \
  --customize-hook='rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/*.bin' \
  bookworm "$tar" "$sources" >&2
podman import --change 'CMD ["/bin/bash"]' --change "LABEL org.faceweave.base=$stamp" \
  --change 'ENV LANG=C.UTF-8' "$tar" "$image" >/dev/null
echo "base: $image ($(podman image inspect -f '{{.Size}}' "$image") bytes)" >&2
echo "$image"
