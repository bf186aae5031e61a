#!/usr/bin/env bash
# `make image`: builds localhost/faceweave:<version> (and :latest) with podman from deploy/image/Containerfile
# on the mmdebstrap base (deploy/image/base.sh). The checkout's verified model pack (FACEWEAVE_MODELS_SRC,
# default .models) is lent to the build as a read-only volume, so nothing is downloaded when it is complete.
# Prints the image name. Needs root (or rootful podman). JOBS: compile jobs in the build stage.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
export CONTAINERS_CONF="${CONTAINERS_CONF:-$here/containers.conf}"
version=$(sed -n 's/^project(faceweave VERSION \([0-9.]*\).*/\1/p' "$repo/CMakeLists.txt")
revision=$(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo unknown)
image="localhost/faceweave:$version"
base=$("$here/base.sh")

volume=()
models="${FACEWEAVE_MODELS_SRC:-$repo/.models}"
if [ -d "$models" ]; then volume=(--volume "$(realpath "$models"):/src-models:ro"); fi

# --format docker keeps HEALTHCHECK (the OCI image format has no field for it); --layers reuses every
# unchanged step.
podman build --format docker --layers -f "$here/Containerfile" \
  --build-arg BASE="$base" --build-arg VERSION="$version" --build-arg REVISION="$revision" \
  --build-arg JOBS="${JOBS:-$(nproc)}" "${volume[@]}" \
  -t "$image" -t localhost/faceweave:latest "$repo" >&2
echo "image: $image, $(podman image inspect -f '{{.Size}}' "$image" | awk '{printf "%.0f MB", $1/1e6}')" >&2
echo "$image"
