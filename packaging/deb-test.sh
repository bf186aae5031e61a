#!/usr/bin/env bash
# Installs the .deb into a clean Debian 12 made by mmdebstrap (apt resolves its Depends from the Debian
# mirror), then inside it: `faceweave --version`, and `faceweave serve` answering /healthz, /api/config and
# the web UI for a few seconds. Models are not in the package; the default pack is copied into the
# chroot's data dir (FACEWEAVE_MODELS_SRC, default .models). Needs root. Usage: deb-test.sh DEB
set -euo pipefail
deb=$(realpath "$1")
models=$(realpath "${FACEWEAVE_MODELS_SRC:-$(dirname "$0")/../.models}")
version=$(dpkg-deb -f "$deb" Version)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp "$deb" "$work/"

cat >"$work/check.sh" <<'INNER'
#!/bin/sh
set -eu
export FACEWEAVE_TELEMETRY=off HOME=/root
test "$(faceweave --version)" = "faceweave $1"
echo "ok - faceweave --version in Debian 12"
test -f /usr/share/man/man1/faceweave.1 && test -f /usr/share/bash-completion/completions/faceweave
faceweave serve --port 7861 >/tmp/serve.log 2>&1 &
pid=$!
i=0
until curl -sf http://127.0.0.1:7861/healthz >/tmp/health.json; do
  i=$((i + 1)); [ $i -lt 100 ] || { cat /tmp/serve.log; exit 1; }; sleep 0.2
done
grep -q "\"version\":\"$1\"" /tmp/health.json
curl -sf http://127.0.0.1:7861/api/config | grep '"auth_required":false' >/dev/null
curl -sf http://127.0.0.1:7861/ | grep -i '<html' >/dev/null
curl -sf http://127.0.0.1:7861/api/openapi.json | grep '"openapi": "3.1.0"' >/dev/null
kill "$pid"; wait "$pid" || true
echo "ok - faceweave serve in Debian 12: /healthz, /api/config, the web UI, /api/openapi.json"
INNER
chmod +x "$work/check.sh"

# The package goes in with the chroot's own apt, which resolves its Depends from the mirror.
mmdebstrap --mode=root --variant=apt --include=curl,ca-certificates \
  --customize-hook="copy-in $work/$(basename "$deb") /root" \
  --customize-hook="chroot \"\$1\" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q /root/$(basename "$deb")" \
  --customize-hook="mkdir -p \"\$1/root/.local/share/faceweave/models\"" \
  --customize-hook="cp -rL $models/. \"\$1/root/.local/share/faceweave/models/\"" \
  --customize-hook="cp $work/check.sh \"\$1/check.sh\"" \
  --customize-hook="mount -t proc proc \"\$1/proc\" && chroot \"\$1\" /check.sh $version; rc=\$?; umount \"\$1/proc\"; exit \$rc" \
  bookworm "$work/rootfs.tar" http://deb.debian.org/debian >"$work/mmdebstrap.log" 2>&1 ||
  { tail -40 "$work/mmdebstrap.log"; echo "FAIL - deb-test"; exit 1; }
grep '^ok - ' "$work/mmdebstrap.log"
