#include "fleet/fleet_events.h"

#include <filesystem>
#include <map>

#include "core/private_files.h"
#include "fleet/event_shipper.h"
#include "pg/connection.h"
#include "telemetry/database.h"

namespace faceweave::fleet {
namespace fs = std::filesystem;
namespace {

constexpr int kBatch = 10000;  // rows read from PostgreSQL at a time

// What the replica holds: the source database and, per node, the highest seq copied.
const char* kMarks =
    "CREATE TABLE IF NOT EXISTS fleet_marks(node_id TEXT PRIMARY KEY, seq INTEGER NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS fleet_source(url TEXT NOT NULL)";

struct Inserter {
  telemetry::Database& db;
  telemetry::Statement add_name, add_outcome, add_session, add_event;
  int64_t next_id = 0;

  static void text(sqlite3_stmt* s, int i, const std::string& v) {
    sqlite3_bind_text(s, i, v.c_str(), int(v.size()), SQLITE_TRANSIENT);
  }
  Status step(sqlite3_stmt* s, const char* what) {
    const int rc = sqlite3_step(s);
    sqlite3_reset(s);
    if (rc != SQLITE_DONE) return db.error(rc, what);
    return Status::ok();
  }
  // Row: ts, event, user_hash, session, app_version, platform, props, duration_ms, outcome, sample_rate.
  Status add(const pg::Rows& rows, int i) {
    const std::string event = rows.text(i, 1), session = rows.text(i, 3), outcome = rows.text(i, 8);
    text(add_name.get(), 1, event);
    FW_RETURN_IF_ERROR(step(add_name.get(), "adding an event name"));
    text(add_outcome.get(), 1, outcome);
    FW_RETURN_IF_ERROR(step(add_outcome.get(), "adding an outcome"));
    text(add_session.get(), 1, session);
    text(add_session.get(), 2, rows.text(i, 2));
    text(add_session.get(), 3, rows.text(i, 4));
    sqlite3_bind_int64(add_session.get(), 4, rows.int64(i, 0));
    text(add_session.get(), 5, rows.text(i, 5));
    FW_RETURN_IF_ERROR(step(add_session.get(), "adding a session"));
    sqlite3_stmt* e = add_event.get();
    sqlite3_bind_int64(e, 1, ++next_id);
    sqlite3_bind_int64(e, 2, rows.int64(i, 0));
    text(e, 3, event);
    text(e, 4, session);
    if (rows.is_null(i, 7))
      sqlite3_bind_null(e, 5);
    else
      sqlite3_bind_double(e, 5, rows.real(i, 7));
    text(e, 6, outcome);
    sqlite3_bind_double(e, 7, rows.real(i, 9));
    text(e, 8, rows.text(i, 6));
    return step(e, "adding an event");
  }
};

Result<int64_t> scalar(telemetry::Database& db, const std::string& sql) {
  FW_ASSIGN_OR_RETURN(auto st, db.prepare(sql));
  const int rc = sqlite3_step(st.get());
  if (rc == SQLITE_ROW) return sqlite3_column_int64(st.get(), 0);
  if (rc == SQLITE_DONE) return int64_t(0);
  return db.error(rc, "reading the fleet replica");
}

}  // namespace

Result<FleetCopy> copy_fleet_events(const std::string& database_url, const std::string& scratch_dir) {
  FW_RETURN_IF_ERROR(ensure_events_schema(database_url));
  FW_ASSIGN_OR_RETURN(auto conn, pg::Connection::connect(database_url, "faceweave insights"));
  FW_ASSIGN_OR_RETURN(auto shipped, conn->exec("SELECT node_id, shipped_seq FROM faceweave_nodes"));
  const fs::path dir = fs::path(scratch_dir) / "telemetry";
  FW_RETURN_IF_ERROR(core::make_private_dir(scratch_dir));
  FW_RETURN_IF_ERROR(core::make_private_dir(dir.string()));
  const std::string source = pg::redact(database_url);
  std::unique_ptr<telemetry::Database> db;
  for (int attempt = 0; attempt < 2; ++attempt) {
    FW_ASSIGN_OR_RETURN(db, telemetry::Database::open((dir / "events.db").string(), {}));
    FW_RETURN_IF_ERROR(db->exec(kMarks));
    // The replica must come from this database and hold no more of a node than it has shipped (a fleet
    // database made afresh); otherwise it starts over.
    bool stale = false;
    {
      FW_ASSIGN_OR_RETURN(auto st, db->prepare("SELECT url FROM fleet_source"));
      if (sqlite3_step(st.get()) == SQLITE_ROW)
        stale = source != reinterpret_cast<const char*>(sqlite3_column_text(st.get(), 0));
    }
    std::map<std::string, int64_t> have;
    {
      FW_ASSIGN_OR_RETURN(auto st, db->prepare("SELECT node_id, seq FROM fleet_marks"));
      while (sqlite3_step(st.get()) == SQLITE_ROW)
        have[reinterpret_cast<const char*>(sqlite3_column_text(st.get(), 0))] =
            sqlite3_column_int64(st.get(), 1);
    }
    for (int i = 0; i < shipped.size(); ++i) {
      auto it = have.find(shipped.text(i, 0));
      if (it != have.end() && it->second > shipped.int64(i, 1)) stale = true;
    }
    if (!stale || attempt == 1) break;
    db.reset();
    std::error_code ec;
    for (const char* f : {"events.db", "events.db-wal", "events.db-shm"}) fs::remove(dir / f, ec);
  }
  FW_RETURN_IF_ERROR(db->exec("BEGIN IMMEDIATE"));
  auto rollback = [&db] { sqlite3_exec(db->handle(), "ROLLBACK", nullptr, nullptr, nullptr); };
  auto body = [&]() -> Result<FleetCopy> {
    FW_RETURN_IF_ERROR(db->exec("DELETE FROM fleet_source"));
    {
      FW_ASSIGN_OR_RETURN(auto st, db->prepare("INSERT INTO fleet_source(url) VALUES (?)"));
      Inserter::text(st.get(), 1, source);
      if (const int rc = sqlite3_step(st.get()); rc != SQLITE_DONE)
        return db->error(rc, "marking the replica");
    }
    FW_ASSIGN_OR_RETURN(auto add_name, db->prepare("INSERT OR IGNORE INTO event_names(name) VALUES (?)"));
    FW_ASSIGN_OR_RETURN(auto add_outcome, db->prepare("INSERT OR IGNORE INTO outcomes(name) VALUES (?)"));
    FW_ASSIGN_OR_RETURN(auto add_session,
                        db->prepare("INSERT OR IGNORE INTO sessions(session, user, app_version, started_ms, "
                                    "platform) VALUES (?, ?, ?, ?, ?)"));
    FW_ASSIGN_OR_RETURN(
        auto add_event,
        db->prepare("INSERT INTO events(id, ts, event, session, duration_ms, outcome, sample_rate, props) "
                    "VALUES (?, ?, (SELECT id FROM event_names WHERE name = ?), (SELECT id FROM sessions "
                    "WHERE session = ?), ?, (SELECT id FROM outcomes WHERE name = ?), ?, ?)"));
    FW_ASSIGN_OR_RETURN(auto mark, db->prepare("INSERT INTO fleet_marks(node_id, seq) VALUES (?, ?) ON "
                                               "CONFLICT(node_id) DO UPDATE SET seq = excluded.seq"));
    FW_ASSIGN_OR_RETURN(auto get_mark, db->prepare("SELECT seq FROM fleet_marks WHERE node_id = ?"));
    Inserter in{*db, std::move(add_name), std::move(add_outcome), std::move(add_session),
                std::move(add_event)};
    FW_ASSIGN_OR_RETURN(in.next_id, scalar(*db, "SELECT coalesce(max(id), 0) FROM events"));
    FW_ASSIGN_OR_RETURN(const int64_t last_id, db->last_event_id());
    in.next_id = std::max(in.next_id, last_id);
    FleetCopy copy{scratch_dir, 0, 0, shipped.size()};
    for (int n = 0; n < shipped.size(); ++n) {
      const std::string node = shipped.text(n, 0);
      Inserter::text(get_mark.get(), 1, node);
      int64_t after =
          sqlite3_step(get_mark.get()) == SQLITE_ROW ? sqlite3_column_int64(get_mark.get(), 0) : 0;
      sqlite3_reset(get_mark.get());
      // The node's events after what the replica holds, in seq order (the key's index), batch by batch.
      while (after < shipped.int64(n, 1)) {
        FW_ASSIGN_OR_RETURN(auto rows,
                            conn->exec("SELECT ts, event, user_hash, node_id || ':' || session, app_version, "
                                       "platform, props, duration_ms, outcome, sample_rate, seq "
                                       "FROM faceweave_events WHERE node_id = $1 AND seq > $2 AND seq <= $3 "
                                       "ORDER BY seq LIMIT " +
                                           std::to_string(kBatch),
                                       {node, std::to_string(after), shipped.text(n, 1)}));
        for (int i = 0; i < rows.size(); ++i) FW_RETURN_IF_ERROR(in.add(rows, i));
        copy.added += rows.size();
        // Days dropped by retention leave gaps: the node's watermark is where this sync stops.
        after = rows.size() == kBatch ? rows.int64(rows.size() - 1, 10) : shipped.int64(n, 1);
      }
      Inserter::text(mark.get(), 1, node);
      sqlite3_bind_int64(mark.get(), 2, after);
      FW_RETURN_IF_ERROR(in.step(mark.get(), "marking the replica"));
    }
    FW_RETURN_IF_ERROR(
        db->exec("UPDATE meta SET value = " + std::to_string(in.next_id) + " WHERE key = 'last_event_id'"));
    FW_ASSIGN_OR_RETURN(copy.events, scalar(*db, "SELECT count(*) FROM events"));
    return copy;
  };
  auto copy = body();
  if (!copy) {
    rollback();
    return copy.status();
  }
  FW_RETURN_IF_ERROR(db->exec("COMMIT"));
  return copy;
}

}  // namespace faceweave::fleet
