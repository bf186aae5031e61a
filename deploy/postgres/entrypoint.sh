#!/bin/sh
# Starts PostgreSQL 15 in the container. On the first start (an empty PGDATA) it makes the cluster: the
# superuser `postgres` logs in only over the local socket (peer), and POSTGRES_USER (default faceweave, not a
# superuser) owns the database POSTGRES_DB (default faceweave) and logs in over the network with the
# password in the file POSTGRES_PASSWORD_FILE (scram-sha-256). The superuser installs the hll extension in
# that database (the owner may not: hll is not a trusted extension). Then the server runs in the foreground;
# SIGINT (the image's stop signal) is PostgreSQL's fast shutdown.
set -eu
: "${PGDATA:=/var/lib/postgresql/data}"
user="${POSTGRES_USER:-faceweave}"
db="${POSTGRES_DB:-${user}}"
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  file="${POSTGRES_PASSWORD_FILE:-}"
  if [ -z "$file" ] || [ ! -s "$file" ]; then
    echo "faceweave-postgres: set POSTGRES_PASSWORD_FILE to a file holding the password of $user" \
      "(deploy/compose.fleet.yaml mounts the secret postgres_password)" >&2
    exit 1
  fi
  initdb -D "$PGDATA" -U postgres -E UTF8 --auth-local=peer --auth-host=scram-sha-256 >/dev/null
  printf 'host all all 0.0.0.0/0 scram-sha-256\nhost all all ::/0 scram-sha-256\n' >>"$PGDATA/pg_hba.conf"
  pg_ctl -D "$PGDATA" -o "-c listen_addresses='' -k /tmp" -w start >/dev/null
  # The password travels as a psql variable (:'pw' quotes it), never on a command line.
  printf '%s' "$(head -n1 "$file")" >/tmp/.pw
  psql -v ON_ERROR_STOP=1 -q -h /tmp -U postgres -d postgres -v user="$user" -v db="$db" <<'SQL'
\set pw `cat /tmp/.pw`
SET password_encryption = 'scram-sha-256';
CREATE ROLE :"user" LOGIN PASSWORD :'pw';
CREATE DATABASE :"db" OWNER :"user";
\connect :"db"
CREATE EXTENSION IF NOT EXISTS hll;
SQL
  rm -f /tmp/.pw
  pg_ctl -D "$PGDATA" -m fast -w stop >/dev/null
  echo "faceweave-postgres: made the cluster; $user owns the database $db" >&2
fi
exec postgres -D "$PGDATA" -c listen_addresses='*' -c unix_socket_directories=/var/run/postgresql "$@"
