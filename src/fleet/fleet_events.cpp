#include "fleet/fleet_events.h"

#include <filesystem>
#include <set>

#include "core/private_files.h"
#include "fleet/event_shipper.h"
#include "pg/connection.h"
#include "telemetry/database.h"

namespace faceweave::fleet {
namespace fs = std::filesystem;

Result<FleetCopy> copy_fleet_events(const std::string& database_url, const std::string& scratch_dir) {
  FW_RETURN_IF_ERROR(ensure_events_schema(database_url));
  FW_ASSIGN_OR_RETURN(auto conn, pg::Connection::connect(database_url, "faceweave insights"));
  FW_ASSIGN_OR_RETURN(auto rows,
                      conn->exec("SELECT ts, event, user_hash, node_id || ':' || session, app_version, "
                                 "platform, props, duration_ms, outcome, sample_rate, node_id "
                                 "FROM faceweave_events ORDER BY ts, node_id, seq"));
  const fs::path dir = fs::path(scratch_dir) / "telemetry";
  FW_RETURN_IF_ERROR(core::make_private_dir(scratch_dir));
  FW_RETURN_IF_ERROR(core::make_private_dir(dir.string()));
  std::error_code ec;
  for (const char* f : {"events.db", "events.db-wal", "events.db-shm"}) fs::remove(dir / f, ec);
  FW_ASSIGN_OR_RETURN(auto db, telemetry::Database::open((dir / "events.db").string(), {}));
  FW_RETURN_IF_ERROR(db->exec("BEGIN"));
  FW_ASSIGN_OR_RETURN(auto add_name, db->prepare("INSERT OR IGNORE INTO event_names(name) VALUES (?)"));
  FW_ASSIGN_OR_RETURN(auto add_outcome, db->prepare("INSERT OR IGNORE INTO outcomes(name) VALUES (?)"));
  FW_ASSIGN_OR_RETURN(auto add_session,
                      db->prepare("INSERT OR IGNORE INTO sessions(session, user, app_version, started_ms, "
                                  "platform) VALUES (?, ?, ?, ?, ?)"));
  FW_ASSIGN_OR_RETURN(
      auto add_event,
      db->prepare("INSERT INTO events(id, ts, event, session, duration_ms, outcome, sample_rate, props) "
                  "VALUES (?, ?, (SELECT id FROM event_names WHERE name = ?), (SELECT id FROM sessions WHERE "
                  "session = ?), ?, (SELECT id FROM outcomes WHERE name = ?), ?, ?)"));
  auto text = [](sqlite3_stmt* s, int i, const std::string& v) {
    sqlite3_bind_text(s, i, v.c_str(), int(v.size()), SQLITE_TRANSIENT);
  };
  auto step = [&db](sqlite3_stmt* s, const char* what) -> Status {
    const int rc = sqlite3_step(s);
    sqlite3_reset(s);
    if (rc != SQLITE_DONE) return db->error(rc, what);
    return Status::ok();
  };
  std::set<std::string> nodes;
  for (int i = 0; i < rows.size(); ++i) {
    const std::string event = rows.text(i, 1), session = rows.text(i, 3), outcome = rows.text(i, 8);
    nodes.insert(rows.text(i, 10));
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
    sqlite3_bind_int64(e, 1, i + 1);
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
    FW_RETURN_IF_ERROR(step(e, "adding an event"));
  }
  FW_RETURN_IF_ERROR(
      db->exec("UPDATE meta SET value = " + std::to_string(rows.size()) + " WHERE key = 'last_event_id'"));
  FW_RETURN_IF_ERROR(db->exec("COMMIT"));
  return FleetCopy{scratch_dir, rows.size(), int64_t(nodes.size())};
}

}  // namespace faceweave::fleet
