#!/usr/bin/env bash
# `make image-test`: the image as a user runs it. Starts a container with a published port on 127.0.0.1,
# a token and a data volume; checks that without a token it refuses to start, that the HEALTHCHECK passes,
# then runs tests/deploy/image_api_check against it (upload two photos, run a job, download the result,
# the identity moved to the source); that the server runs as non-root, that SIGTERM stops it cleanly and
# the data volume holds the telemetry; that it works as deploy/k8s runs it (token in a secret file,
# read-only root, no capabilities); and, when podman-compose is installed, that deploy/compose.yaml brings
# up faceweave and a Prometheus that scrapes it.
# Usage: deploy/image/test.sh IMAGE CHECKER   (CHECKER: the built image_api_check)
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
export CONTAINERS_CONF="${CONTAINERS_CONF:-$here/containers.conf}"
image=$1 checker=$(realpath "$2")
run_id=$$
name=faceweave-test-$run_id volume=faceweave-test-$run_id
work=$(mktemp -d)
cleanup() {
  podman rm -f -v -t 0 "$name" "$name-secret" >/dev/null 2>&1 || true
  podman volume rm -f "$volume" >/dev/null 2>&1 || true
  if [ -n "${compose_up:-}" ]; then
    (cd "$repo/deploy" && podman-compose -p "fwtest$run_id" down -v >/dev/null 2>&1) || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL - $*" >&2; exit 1; }
# shellcheck source=deploy/test-lib.sh
. "$repo/deploy/test-lib.sh"
token=$(head -c 24 /dev/urandom | base64 | tr -d '/+=')

# 0. The image holds this checkout's version.
version=$(sed -n 's/^project(faceweave VERSION \([0-9.]*\).*/\1/p' "$repo/CMakeLists.txt")
got=$(podman run --rm --entrypoint faceweave "$image" --version 2>/dev/null) || true
[ "$got" = "faceweave $version" ] || fail "the image says '$got', this checkout is faceweave $version"
echo "ok - $got"

# 1. Bound to 0.0.0.0 in the container, it needs a token and says how to give one.
if out=$(podman run --rm "$image" 2>&1); then fail "the image started without a token"; fi
grep -q 'FACEWEAVE_TOKEN' <<<"$out" || fail "no hint at FACEWEAVE_TOKEN in: $out"
echo "ok - without a token the container refuses to start and says how to set one"

# 2. The container as the README runs it, plus a named data volume.
port=$(free_port)
podman volume create "$volume" >/dev/null
# (stderr to a file: without systemd, podman cannot schedule the HEALTHCHECK timer and says so each time;
# `podman healthcheck run` below runs the check itself.)
podman run -d --name "$name" -p "127.0.0.1:$port:7860" -e FACEWEAVE_TOKEN="$token" -e FACEWEAVE_TELEMETRY=usage \
  -v "$volume:/data" "$image" >/dev/null 2>>"$work/podman.err" || { cat "$work/podman.err"; fail "podman run"; }
wait_http "http://127.0.0.1:$port/readyz" 120 || { podman logs "$name"; fail "the server did not get ready"; }
podman healthcheck run "$name" >/dev/null || fail "HEALTHCHECK failed"
echo "ok - started, ready and healthy on 127.0.0.1:$port"

# 3. The API from outside: a real swap, judged on the host.
FACEWEAVE_IMAGE_URL="http://127.0.0.1:$port" FACEWEAVE_IMAGE_TOKEN="$token" FACEWEAVE_TELEMETRY=off \
  "$checker" --gtest_brief=1 || { podman logs "$name" | tail -20; fail "image_api_check"; }
echo "ok - upload, job, download: the identity moved to the source"

# 4. Non-root: the server process and the files it wrote.
uid=$(podman exec "$name" sh -c 'grep ^Uid: /proc/1/status' | awk '{print $2, $3}')
[ "$uid" = "10001 10001" ] || fail "the server runs as uid '$uid', not 10001"
echo "ok - the server runs as uid 10001 (non-root)"

# 5. SIGTERM: a clean stop (drained, telemetry flushed), then the telemetry is in the volume.
podman stop -t 40 "$name" >/dev/null 2>>"$work/podman.err"
code=$(podman inspect -f '{{.State.ExitCode}}' "$name")
[ "$code" = 0 ] || { podman logs "$name" | tail -20; fail "exit code $code after SIGTERM"; }
echo "ok - SIGTERM stops the server cleanly (exit 0)"
data=$(podman volume inspect -f '{{.Mountpoint}}' "$volume")
db="$data/telemetry/events.db"
[ -f "$db" ] || fail "no telemetry database in the data volume ($(ls -R "$data" | head -20))"
[ "$(stat -c %u "$db")" = 10001 ] || fail "the telemetry database is not owned by the container user"
runs=$(sqlite3 "file:$db?mode=ro" "SELECT count(*) FROM events_view WHERE event = 'command.run'")
[ "${runs:-0}" -ge 1 ] || fail "the volume's telemetry holds no command.run event"
echo "ok - the data volume holds the telemetry ($runs command.run event(s) in telemetry/events.db)"

# 6. As deploy/k8s runs it: the token from a mounted secret file, a read-only root filesystem, no
#    capabilities, no privilege escalation, the data dir a folder inside the volume; a real swap again.
printf '%s\n' "$token" >"$work/token" && chmod 0644 "$work/token"
port2=$(free_port)
podman run -d --name "$name-secret" -p "127.0.0.1:$port2:7860" --read-only --cap-drop=ALL \
  --security-opt no-new-privileges -e FACEWEAVE_TOKEN_FILE=/run/secrets/token -e FACEWEAVE_DATA_DIR=/data/node \
  -v "$work/token:/run/secrets/token:ro" "$image" >/dev/null 2>>"$work/podman.err"
wait_http "http://127.0.0.1:$port2/readyz" 120 || { podman logs "$name-secret"; fail "secret-file server not ready"; }
[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port2/api/jobs")" = 401 ] || fail "no token: not 401"
FACEWEAVE_IMAGE_URL="http://127.0.0.1:$port2" FACEWEAVE_IMAGE_TOKEN="$token" FACEWEAVE_TELEMETRY=off \
  "$checker" --gtest_brief=1 || { podman logs "$name-secret" | tail -20; fail "image_api_check (read-only)"; }
podman rm -f -v -t 30 "$name-secret" >/dev/null 2>>"$work/podman.err"
echo "ok - token from a secret file, read-only root, no capabilities: the swap works"

# 7. deploy/compose.yaml: faceweave and Prometheus, which scrapes its /metrics with the token.
if [ "${FACEWEAVE_SKIP_COMPOSE:-0}" = 1 ] || ! command -v podman-compose >/dev/null; then
  echo "skip - deploy/compose.yaml (podman-compose is not installed, or FACEWEAVE_SKIP_COMPOSE=1)"
  exit 0
fi
base=$("$here/base.sh")
podman build -q --layers --build-arg BASE="$base" -t localhost/faceweave-prometheus:latest \
  "$repo/deploy/prometheus" >/dev/null
fport=$(free_port) pport=$(free_port)
export FACEWEAVE_IMAGE="$image" FACEWEAVE_PORT=$fport PROMETHEUS_PORT=$pport FACEWEAVE_TOKEN_SECRET="$work/token"
compose_up=1
(cd "$repo/deploy" && podman-compose -p "fwtest$run_id" up -d >"$work/compose.log" 2>&1) ||
  { cat "$work/compose.log"; fail "podman-compose up"; }
wait_http "http://127.0.0.1:$fport/readyz" 120 || { cat "$work/compose.log"; fail "compose: faceweave not ready"; }
prometheus_scrapes_faceweave "$pport" || fail "compose: Prometheus does not scrape faceweave"
echo "ok - compose: faceweave ready, Prometheus scrapes its /metrics with the token"
