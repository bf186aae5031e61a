#!/usr/bin/env bash
# `make image`: builds localhost/faceweave:<version> (and :latest) with podman from deploy/image/Containerfile
# on the mmdebstrap base (deploy/image/base.sh). Prints the image name. Needs root (rootful podman).
#   FACEWEAVE_IMAGE_FROM=prebuilt (default): the image installs the .deb that `make deb` made from the
#     checkout's release build (FACEWEAVE_BUILD_DIR, default build/release), so nothing is compiled twice;
#   FACEWEAVE_IMAGE_FROM=source: the Containerfile's build stage compiles faceweave itself (JOBS jobs, ccache
#     in a build cache), as `docker build` does elsewhere.
# The model pack is the checkout's verified copy (FACEWEAVE_MODELS_SRC, default .models): nothing is
# downloaded when it is complete.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
export CONTAINERS_CONF="${CONTAINERS_CONF:-$here/containers.conf}"
version=$(sed -n 's/^project(faceweave VERSION \([0-9.]*\).*/\1/p' "$repo/CMakeLists.txt")
revision=$(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo unknown)
image="localhost/faceweave:$version"
from="${FACEWEAVE_IMAGE_FROM:-prebuilt}"
models=$(realpath "${FACEWEAVE_MODELS_SRC:-$repo/.models}")
base=$("$here/base.sh")

args=(--build-arg PACKAGE_FROM="$from")
# FACEWEAVE_IMAGE_NO_CACHE=1: every step again (the base, ccache and apt's download cache are kept).
if [ "${FACEWEAVE_IMAGE_NO_CACHE:-0}" = 1 ]; then args+=(--no-cache); fi
case "$from" in
  prebuilt)
    build_dir="${FACEWEAVE_BUILD_DIR:-$repo/build/release}"
    deb="$build_dir/packages/faceweave_${version}_$(dpkg --print-architecture).deb"
    [ -f "$deb" ] || { echo "image: $deb is missing; run make deb first (make image does)" >&2; exit 1; }
    ls "$models"/*.onnx >/dev/null 2>&1 ||
      { echo "image: no models in $models; run scripts/fetch-models.sh (make setup does)" >&2; exit 1; }
    stage=$(mktemp -d)
    trap 'rm -rf "$stage"' EXIT
    cp "$deb" "$stage/faceweave.deb"
    args+=(--build-context "prebuilt=$stage" --build-context "models=$models") ;;
  source)
    if [ -d "$models" ]; then args+=(--volume "$models:/src-models:ro"); fi
    # A build machine behind a TLS-intercepting proxy trusts its CA; npm in the build stage needs it too.
    if [ -f /etc/ssl/certs/ca-certificates.crt ]; then
      args+=(--volume /etc/ssl/certs/ca-certificates.crt:/host-ca/ca-certificates.crt:ro)
    fi
    args+=(--build-arg JOBS="${JOBS:-$(nproc)}") ;;
  *) echo "image: FACEWEAVE_IMAGE_FROM must be prebuilt or source" >&2; exit 2 ;;
esac

# --format docker keeps HEALTHCHECK (the OCI image format has no field for it); --layers reuses every
# unchanged step.
podman build --format docker --layers -f "$here/Containerfile" \
  --build-arg BASE="$base" --build-arg VERSION="$version" --build-arg REVISION="$revision" "${args[@]}" \
  -t "$image" -t localhost/faceweave:latest "$repo" >&2
echo "image: $image ($from), $(podman image inspect -f '{{.Size}}' "$image" | awk '{printf "%.0f MB", $1/1e6}')" >&2
echo "$image"
