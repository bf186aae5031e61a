#!/usr/bin/env bash
# A throwaway PostgreSQL 15 cluster for tests and demos (docs/fleet.md): initdb in a fresh folder, listening
# on a unix socket in that folder and on 127.0.0.1 at a free port, trust authentication (only there: never
# use this for real data). About a second.
#
#   eval "$(scripts/start-postgres.sh)"        # sets FACEWEAVE_DATABASE_URL and FACEWEAVE_PG_DIR
#   scripts/start-postgres.sh --restart "$FACEWEAVE_PG_DIR"   # same port; clients see their connections drop
#   scripts/start-postgres.sh --stop "$FACEWEAVE_PG_DIR"
#
# Run as root, the cluster belongs to the `postgres` user (PostgreSQL refuses to run as root).
set -euo pipefail

bindir="${FACEWEAVE_PG_BINDIR:-/usr/lib/postgresql/15/bin}"
if [ ! -x "$bindir/initdb" ]; then
  echo "start-postgres: $bindir/initdb not found; install postgresql-15 (scripts/install-deps.sh)" >&2
  exit 1
fi

as_owner() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

if [ "${1:-}" = "--restart" ]; then
  dir="${2:?usage: start-postgres.sh --restart DIR}"
  as_owner "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -m fast -w -t 30 restart >/dev/null
  exit 0
fi

if [ "${1:-}" = "--stop" ]; then
  dir="${2:?usage: start-postgres.sh --stop DIR}"
  if [ -f "$dir/data/postmaster.pid" ]; then
    as_owner "$bindir/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
  fi
  rm -rf "$dir"
  exit 0
fi

dir="${1:-$(mktemp -d "${TMPDIR:-/tmp}/faceweave-pg-XXXXXX")}"
mkdir -p "$dir"
if [ "$(id -u)" -eq 0 ]; then chown postgres: "$dir"; fi
chmod 0700 "$dir"

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

as_owner "$bindir/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --no-sync >"$dir/initdb.log" 2>&1 || {
  cat "$dir/initdb.log" >&2
  exit 1
}
# One role must log in with a password, so a refused login can be tried: password_check (password "right").
sed -i '0,/^local/s//host all password_check 127.0.0.1\/32 scram-sha-256\nlocal/' "$dir/data/pg_hba.conf"
# fsync off: a test cluster is thrown away, and a crash of the machine loses nothing of value. Another
# cluster started at the same moment may take the same free port: then try another.
for attempt in 1 2 3; do
  port="${FACEWEAVE_PG_PORT:-$(free_port)}"
  if as_owner "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 \
    -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c max_connections=200" \
    start >/dev/null; then
    break
  fi
  if [ "$attempt" = 3 ]; then
    cat "$dir/server.log" >&2
    exit 1
  fi
done
as_owner "$bindir/psql" -q -h "$dir" -p "$port" -U postgres -d postgres \
  -c "SET password_encryption = 'scram-sha-256'; CREATE ROLE password_check LOGIN PASSWORD 'right'" >/dev/null
echo "FACEWEAVE_DATABASE_URL=postgres://postgres@127.0.0.1:$port/postgres; export FACEWEAVE_DATABASE_URL"
echo "FACEWEAVE_PG_DIR=$dir; export FACEWEAVE_PG_DIR"
