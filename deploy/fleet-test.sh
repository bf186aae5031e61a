#!/usr/bin/env bash
# `make stack-test`: deploy/compose.fleet.yaml brought up for real with podman-compose: PostgreSQL 15 (built
# from Debian's package), the API node (--max-concurrent-jobs 0), FACEWEAVE_WORKERS workers (3 here; the
# compose file's default is 2) and Prometheus. Checks that the API node gets ready once the database answers, runs
# tests/deploy/image_api_check against it (upload two photos, run a job, download the result, the identity
# moved to the source), that a worker ran the job and the API node none, that PostgreSQL is reachable only
# with the password, that Prometheus scrapes the API node, and that /readyz says not ready while PostgreSQL
# is stopped and ready again once it is back. Needs root (rootful podman) and the images: IMAGE, plus
# localhost/faceweave-postgres and localhost/faceweave-prometheus, which this script builds (cached layers).
# Usage: deploy/fleet-test.sh IMAGE CHECKER   (CHECKER: the built image_api_check)
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
export CONTAINERS_CONF="${CONTAINERS_CONF:-$here/image/containers.conf}"
image=$1 checker=$(realpath "$2")
project="fwfleet$$"
work=$(mktemp -d)
compose() { (cd "$here" && podman-compose -f compose.fleet.yaml -p "$project" "$@"); }
stop_timed() {  # CONTAINER SERVICE: stops it; a stop slower than 5 s is reported (docs/container.md)
  local t0 ms
  t0=$(date +%s%N)
  podman stop -t 30 "$1" >/dev/null 2>&1 || true
  ms=$((($(date +%s%N) - t0) / 1000000))
  [ "$ms" -lt 5000 ] || echo "note - stopping $2 ($1) took $ms ms" >&2
}
cleanup() {
  # The nodes (at once) before the database they use.
  for service in faceweave prometheus worker; do
    for c in $(podman ps -q --filter "label=io.podman.compose.project=$project" \
      --filter "label=com.docker.compose.service=$service"); do
      stop_timed "$c" "$service" &
    done
  done
  wait
  for c in $(podman ps -q --filter "label=io.podman.compose.project=$project"); do stop_timed "$c" postgres; done
  compose down -v >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
fail() {
  echo "FAIL - $*" >&2
  for c in $(podman ps -a --filter "label=io.podman.compose.project=$project" --format '{{.Names}}'); do
    echo "--- $c" >&2 && podman logs --tail 15 "$c" >&2 2>&1 || true
  done
  exit 1
}
# shellcheck source=deploy/test-lib.sh
. "$here/test-lib.sh"
command -v podman-compose >/dev/null || { echo "fleet-test: podman-compose is not installed" >&2; exit 1; }
start=$(date +%s)

base=$("$here/image/base.sh")
podman build -q --layers --build-arg BASE="$base" -t localhost/faceweave-postgres:latest "$here/postgres" >/dev/null
podman build -q --layers --build-arg BASE="$base" -t localhost/faceweave-prometheus:latest "$here/prometheus" >/dev/null
echo "ok - images: $image, localhost/faceweave-postgres, localhost/faceweave-prometheus ($(($(date +%s) - start)) s)"

token=$(head -c 24 /dev/urandom | base64 | tr -d '/+=')
password=$(head -c 24 /dev/urandom | base64 | tr -d '/+=')
printf '%s\n' "$token" >"$work/token" && printf '%s\n' "$password" >"$work/password"
chmod 0644 "$work/token" "$work/password"
fport=$(free_port) pport=$(free_port)
export FACEWEAVE_IMAGE="$image" FACEWEAVE_PORT=$fport PROMETHEUS_PORT=$pport FACEWEAVE_WORKERS=3 \
  FACEWEAVE_TOKEN_SECRET="$work/token" POSTGRES_PASSWORD_SECRET="$work/password"
compose up -d >"$work/compose.log" 2>&1 || { cat "$work/compose.log"; fail "podman-compose up"; }
wait_http "http://127.0.0.1:$fport/readyz" 180 || fail "the API node did not get ready"
up_s=$(($(date +%s) - start))
ready=$(curl -fsS "http://127.0.0.1:$fport/readyz")
grep -q '"database":{"status":"ok"}' <<<"$ready" || fail "readyz: $ready"
echo "ok - PostgreSQL, API node, 3 workers and Prometheus up; the API node is ready (${up_s} s since start)"

pg=$(podman ps --filter "label=io.podman.compose.project=$project" \
  --filter "label=com.docker.compose.service=postgres" --format '{{.Names}}')
psql_pg() { podman exec "$pg" psql -tAq -d faceweave -c "$1"; }
workers=$(podman ps --filter "label=io.podman.compose.project=$project" \
  --filter "label=com.docker.compose.service=worker" --format '{{.Names}}' | wc -l)
[ "$workers" = 3 ] || fail "$workers worker containers running, not 3"
# The workers are connected and waiting (each LISTENs on faceweave_jobs).
for _ in $(seq 100); do
  listeners=$(psql_pg "SELECT count(*) FROM pg_stat_activity WHERE application_name LIKE 'faceweave listen%'")
  [ "$listeners" -ge 3 ] && break
  sleep 0.3
done
[ "$listeners" -ge 3 ] || fail "$listeners worker(s) listen for jobs, not 3"
echo "ok - the 3 workers wait for jobs on PostgreSQL"

# A login needs the password: the network login of the faceweave role without it is refused.
if podman exec "$pg" sh -c 'PGPASSWORD=wrong psql -h 127.0.0.1 -U faceweave -d faceweave -c "SELECT 1"' \
  >/dev/null 2>&1; then
  fail "PostgreSQL took a wrong password"
fi
podman exec -e PGPASSWORD="$password" "$pg" psql -h 127.0.0.1 -U faceweave -d faceweave -tAc "SELECT 1" \
  >/dev/null || fail "PostgreSQL refused the right password"
echo "ok - PostgreSQL takes the faceweave role's password and refuses a wrong one"

# The image has the hll extension and its first start created it in the faceweave database, so the fleet's
# distinct users come from HyperLogLog sketches (docs/fleet.md).
[ "$(psql_pg "SELECT extname FROM pg_extension WHERE extname = 'hll'")" = hll ] ||
  fail "the hll extension is not installed in the faceweave database"
echo "ok - the hll extension is installed in the faceweave database"

FACEWEAVE_IMAGE_URL="http://127.0.0.1:$fport" FACEWEAVE_IMAGE_TOKEN="$token" FACEWEAVE_TELEMETRY=off \
  "$checker" --gtest_brief=1 || fail "image_api_check"
echo "ok - upload, job, download through the API node: the identity moved to the source"

# The job ran on a worker (its lease token names the worker's container), never on the API node.
ran=$(psql_pg "SELECT worker FROM faceweave_jobs WHERE status = 'done'")
[ "$(wc -l <<<"$ran")" -ge 1 ] && [ -n "$ran" ] || fail "no done job in faceweave_jobs"
api_host=$(podman ps --filter "label=io.podman.compose.project=$project" \
  --filter "label=com.docker.compose.service=faceweave" --format '{{.ID}}' | cut -c1-12)
worker_hosts=$(for c in $(podman ps -q --filter "label=io.podman.compose.project=$project" \
  --filter "label=com.docker.compose.service=worker"); do echo "$(podman exec "$c" cat /etc/hostname)"; done)
while read -r w; do
  host=${w%%:*}
  grep -qx "$host" <<<"$worker_hosts" || fail "job run by '$w', not by a worker ($worker_hosts)"
  [ "$host" != "$api_host" ] || fail "the API node ran a job"
done <<<"$ran"
echo "ok - the job ran on a worker: $(tr '\n' ' ' <<<"$ran")"

prometheus_scrapes_faceweave "$pport" || fail "Prometheus does not scrape the API node"
echo "ok - Prometheus scrapes the API node's /metrics with the token"

# PostgreSQL stopped: the API node stays alive but is not ready; back: ready again.
podman stop -t 20 "$pg" >/dev/null 2>&1
code=""
for _ in $(seq 50); do
  code=$(curl -s -o "$work/readyz" -w '%{http_code}' "http://127.0.0.1:$fport/readyz" || true)
  [ "$code" = 503 ] && break
  sleep 0.2
done
[ "$code" = 503 ] || fail "readyz said $code with PostgreSQL stopped"
grep -q '"database":{"message"' "$work/readyz" || fail "readyz does not name the database: $(cat "$work/readyz")"
[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$fport/healthz")" = 200 ] ||
  fail "healthz is not 200 with PostgreSQL stopped"
podman start "$pg" >/dev/null 2>&1
wait_http "http://127.0.0.1:$fport/readyz" 60 || fail "not ready again after PostgreSQL came back"
echo "ok - /readyz: 503 naming the database while PostgreSQL is stopped, 200 once it is back"
echo "ok - fleet stack test passed in $(($(date +%s) - start)) s"
