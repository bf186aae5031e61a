#!/usr/bin/env bash
# Installs everything faceweave needs to build, test and run on Debian 12, then the default model pack.
# Idempotent: packages already present are skipped, models already verified are kept.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

packages=(
  build-essential cmake ninja-build pkg-config clang-format ccache  # ccache: later builds reuse objects
  libopencv-dev libopencv-contrib-dev
  libdlib-dev libdlib-data libblas-dev liblapack-dev
  libavformat-dev libavcodec-dev libavutil-dev libswscale-dev libswresample-dev
  libsqlite3-dev nlohmann-json3-dev libcpp-httplib-dev libcli11-dev
  libssl-dev libcurl4-openssl-dev libzstd-dev libconcurrentqueue-dev libspdlog-dev libfmt-dev
  libgtest-dev libgmock-dev googletest libbenchmark-dev ffmpeg time
  python3-onnx python3-numpy wrk
  chromium sqlite3  # the browser test (tests/browser): headless chromium; sqlite3 reads the events database
  prometheus python3-yaml  # promtool (only in Debian's prometheus) checks GET /metrics; PyYAML: deploy/grafana
  python3-dev python3-pybind11 python3-pytest python3-opencv  # the Python module (python/) and its tests
  dpkg-dev mmdebstrap  # make deb (dpkg-shlibdeps, dpkg-deb) and make deb-test (a clean Debian 12)
  podman buildah podman-compose runc curl  # make image / image-test (deploy/image), deploy/compose.yaml
  golang-github-containernetworking-plugin-dnsname  # compose services find each other by name (CNI DNS)
  python3-kubernetes  # deploy.k8s: the Kubernetes manifests checked against the API's types, offline
  zsh groff-base  # cli.conventions: the generated zsh completion and man page are exercised
  clang libclang-rt-14-dev  # make fuzz / fuzz-ci: clang with libFuzzer and the sanitizer runtimes
  libexiv2-dev libimage-exiftool-perl  # provenance metadata (exiv2) and the tests that read it back (exiftool)
  postgresql-15 libpq-dev  # a fleet's job queue and events (docs/fleet.md); tests start a throwaway cluster
  postgresql-15-hll  # HyperLogLog sketches of a fleet's distinct users per day (docs/fleet.md)
  ca-certificates
)

missing=()
# Node.js and npm may come from elsewhere than Debian; only ask apt for them when they are absent.
if ! command -v npm >/dev/null 2>&1; then packages+=(nodejs npm); fi
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if ((${#missing[@]})); then
  echo "install-deps: installing ${missing[*]}"
  sudo_cmd=()
  if [ "$(id -u)" -ne 0 ]; then sudo_cmd=(sudo); fi
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get update -q
  "${sudo_cmd[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
else
  echo "install-deps: all system packages present"
fi

if [ "${FACEWEAVE_SKIP_MODELS:-0}" != "1" ]; then
  "$here/fetch-models.sh"
fi
