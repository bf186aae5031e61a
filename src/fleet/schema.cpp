#include "fleet/schema.h"

#include "pg/connection.h"

namespace faceweave::fleet {
namespace {

// The events table is partitioned by day of ts (UTC): old days are dropped whole, and a day's queries read
// one partition. The key includes ts, as a partitioned table's keys must; an event's ts never changes, so
// (node_id, seq) stays unique. A rollup made for a database that already holds events starts from them.
const char* kSchema = R"(
BEGIN;
SELECT pg_advisory_xact_lock(7240118);
CREATE TABLE IF NOT EXISTS faceweave_events (
  node_id text NOT NULL,
  seq bigint NOT NULL,
  ts bigint NOT NULL,
  event text NOT NULL,
  user_hash text NOT NULL,
  session text NOT NULL,
  app_version text NOT NULL,
  platform text NOT NULL DEFAULT '',
  props text NOT NULL,
  duration_ms double precision,
  outcome text NOT NULL,
  sample_rate double precision NOT NULL,
  PRIMARY KEY (node_id, seq, ts)) PARTITION BY RANGE (ts);
CREATE INDEX IF NOT EXISTS faceweave_events_ts ON faceweave_events (ts);
CREATE TABLE IF NOT EXISTS faceweave_nodes (
  node_id text PRIMARY KEY,
  shipped_seq bigint NOT NULL,
  shipped_at timestamptz NOT NULL);
-- The UTC day of a time in ms since 1970.
CREATE OR REPLACE FUNCTION faceweave_day(ts bigint) RETURNS date
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT date '1970-01-01' + floor(ts / 86400000.0)::integer $$;
-- The day partitions (faceweave_events_YYYYMMDD) of the events from from_ms to to_ms, made when missing;
-- the lock is only taken then, so shippers of days that exist never wait for each other.
CREATE OR REPLACE FUNCTION faceweave_events_partitions(from_ms bigint, to_ms bigint) RETURNS void
LANGUAGE plpgsql AS $fn$
DECLARE
  name text;
BEGIN
  -- d: days since 1970 (an integer loop variable); times in ms need bigint.
  FOR d IN floor(from_ms / 86400000.0)::integer .. floor(to_ms / 86400000.0)::integer LOOP
    name := 'faceweave_events_' || to_char(date '1970-01-01' + d, 'YYYYMMDD');
    IF to_regclass(name) IS NULL THEN
      PERFORM pg_advisory_xact_lock(7240119);
      EXECUTE format('CREATE TABLE IF NOT EXISTS %I PARTITION OF faceweave_events FOR VALUES FROM (%s) TO (%s)',
                     name, d::bigint * 86400000, (d::bigint + 1) * 86400000);
    END IF;
  END LOOP;
END
$fn$;
-- Retention: the partitions of the next ahead_days days are made, those of days before today - keep_days
-- dropped (keep_days 0 keeps everything). Returns how many were dropped.
CREATE OR REPLACE FUNCTION faceweave_events_maintain(ahead_days integer, keep_days integer) RETURNS integer
LANGUAGE plpgsql AS $fn$
DECLARE
  today date := (now() AT TIME ZONE 'UTC')::date;
  part record;
  dropped integer := 0;
BEGIN
  PERFORM faceweave_events_partitions((today - date '1970-01-01')::bigint * 86400000,
                                      (today - date '1970-01-01' + ahead_days)::bigint * 86400000);
  IF keep_days > 0 THEN
    FOR part IN
      SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
      WHERE i.inhparent = 'faceweave_events'::regclass AND c.relname ~ '^faceweave_events_[0-9]{8}$'
        AND to_date(substr(c.relname, 18), 'YYYYMMDD') < today - keep_days
    LOOP
      PERFORM pg_advisory_xact_lock(7240119);
      EXECUTE format('DROP TABLE IF EXISTS %I', part.relname);
      dropped := dropped + 1;
    END LOOP;
  END IF;
  RETURN dropped;
END
$fn$;
DO $do$
BEGIN
  IF to_regclass('faceweave_daily_events') IS NULL THEN
    CREATE TABLE faceweave_daily_events (
      day date NOT NULL,
      node_id text NOT NULL,
      event text NOT NULL,
      outcome text NOT NULL,
      events bigint NOT NULL,
      weighted double precision NOT NULL,
      PRIMARY KEY (day, node_id, event, outcome));
    INSERT INTO faceweave_daily_events
      SELECT faceweave_day(ts), node_id, event, outcome, count(*), coalesce(sum(1 / nullif(sample_rate, 0)), 0)
      FROM faceweave_events GROUP BY 1, 2, 3, 4;
  END IF;
  -- HyperLogLog (Debian postgresql-15-hll). A login that may not create it leaves it to the operator.
  IF to_regtype('hll') IS NULL AND EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'hll') THEN
    BEGIN
      CREATE EXTENSION IF NOT EXISTS hll;
    EXCEPTION WHEN insufficient_privilege THEN
      NULL;
    END;
  END IF;
  IF to_regtype('hll') IS NOT NULL AND to_regclass('faceweave_daily_users') IS NULL THEN
    CREATE TABLE faceweave_daily_users (
      day date NOT NULL,
      node_id text NOT NULL,
      users hll NOT NULL,
      PRIMARY KEY (day, node_id));
    INSERT INTO faceweave_daily_users
      SELECT faceweave_day(ts), node_id, hll_add_agg(hll_hash_text(user_hash))
      FROM faceweave_events WHERE user_hash <> '' GROUP BY 1, 2;
  END IF;
END
$do$;
COMMIT;
)";

}  // namespace

Status ensure_schema(pg::Connection& conn) {
  Status s = conn.exec_script(kSchema);
  if (!s.is_ok()) (void)conn.exec_script("ROLLBACK");
  return s;
}

Result<bool> has_user_sketches(pg::Connection& conn) {
  FW_ASSIGN_OR_RETURN(auto rows, conn.exec("SELECT to_regclass('faceweave_daily_users') IS NOT NULL"));
  return rows.size() == 1 && rows.boolean(0, 0);
}

Status add_to_rollups(pg::Connection& conn, const std::string& node, int64_t after, int64_t last,
                      bool sketches) {
  const pg::Params params{node, std::to_string(after), std::to_string(last)};
  FW_RETURN_IF_ERROR(
      conn.exec("INSERT INTO faceweave_daily_events (day, node_id, event, outcome, events, weighted) "
                "SELECT faceweave_day(ts), node_id, event, outcome, count(*), coalesce(sum(1 / "
                "nullif(sample_rate, 0)), 0) "
                "FROM faceweave_events WHERE node_id = $1 AND seq > $2 AND seq <= $3 GROUP BY 1, 2, 3, 4 "
                "ON CONFLICT (day, node_id, event, outcome) DO UPDATE SET "
                "events = faceweave_daily_events.events + excluded.events, "
                "weighted = faceweave_daily_events.weighted + excluded.weighted",
                params)
          .status());
  if (!sketches) return Status::ok();
  return conn
      .exec(
          "INSERT INTO faceweave_daily_users (day, node_id, users) "
          "SELECT faceweave_day(ts), node_id, hll_add_agg(hll_hash_text(user_hash)) FROM faceweave_events "
          "WHERE node_id = $1 AND seq > $2 AND seq <= $3 AND user_hash <> '' GROUP BY 1, 2 "
          "ON CONFLICT (day, node_id) DO UPDATE SET users = hll_union(faceweave_daily_users.users, "
          "excluded.users)",
          params)
      .status();
}

Result<int> maintain_partitions(pg::Connection& conn, const Maintenance& m) {
  if (m.ahead_days < 0 || m.ahead_days > 366 || m.retention_days < 0)
    return invalid_argument(
        "partition maintenance needs 0..366 days ahead and a retention of 0 or more days");
  FW_ASSIGN_OR_RETURN(auto rows, conn.exec("SELECT faceweave_events_maintain($1, $2)",
                                           {std::to_string(m.ahead_days), std::to_string(m.retention_days)}));
  return int(rows.int64(0, 0));
}

}  // namespace faceweave::fleet
