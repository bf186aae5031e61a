#include "telemetry/database.h"

#include <sys/stat.h>

#include <vector>

#include "telemetry/paths.h"

namespace faceweave::telemetry {
namespace {

// Migration i takes a database from version i to i + 1. Never edit one that has shipped: add another.
const std::vector<std::string_view>& migrations() {
  static const std::vector<std::string_view> kMigrations = {
      R"sql(
CREATE TABLE meta(key TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE event_names(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
CREATE TABLE outcomes(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
CREATE TABLE sessions(
  id INTEGER PRIMARY KEY,
  session TEXT NOT NULL UNIQUE,
  user TEXT NOT NULL,
  app_version TEXT NOT NULL,
  started_ms INTEGER NOT NULL);
CREATE INDEX sessions_user ON sessions(user);
CREATE TABLE events(
  id INTEGER PRIMARY KEY,
  ts INTEGER NOT NULL,
  event INTEGER NOT NULL,
  session INTEGER NOT NULL,
  duration_ms REAL,
  outcome INTEGER NOT NULL,
  sample_rate REAL NOT NULL,
  props TEXT NOT NULL);
CREATE TABLE archives(
  file TEXT PRIMARY KEY,
  first_id INTEGER NOT NULL,
  last_id INTEGER NOT NULL,
  rows INTEGER NOT NULL,
  created_ms INTEGER NOT NULL);
CREATE VIEW events_view AS
  SELECT e.id, e.ts, n.name AS event, s.user, s.session, s.app_version, e.props, e.duration_ms,
         o.name AS outcome, e.sample_rate
  FROM events e JOIN event_names n ON n.id = e.event JOIN sessions s ON s.id = e.session
       JOIN outcomes o ON o.id = e.outcome;
INSERT INTO meta(key, value) VALUES ('last_event_id', 0), ('last_retention_ms', 0);
)sql",
      // 2: a coarse platform per session (allow-listed values, session.h); '' for older sessions.
      R"sql(
ALTER TABLE sessions ADD COLUMN platform TEXT NOT NULL DEFAULT '';
DROP VIEW events_view;
CREATE VIEW events_view AS
  SELECT e.id, e.ts, n.name AS event, s.user, s.session, s.app_version, e.props, e.duration_ms,
         o.name AS outcome, e.sample_rate, s.platform
  FROM events e JOIN event_names n ON n.id = e.event JOIN sessions s ON s.id = e.session
       JOIN outcomes o ON o.id = e.outcome;
)sql",
      // 3: experiments on defaults (src/experiments, docs/experiments.md): their definition, never a user.
      R"sql(
CREATE TABLE experiments(
  name TEXT PRIMARY KEY,
  spec TEXT NOT NULL,
  status TEXT NOT NULL,
  created_ms INTEGER NOT NULL,
  stopped_ms INTEGER,
  adopted TEXT);
)sql",
  };
  return kMigrations;
}

}  // namespace

bool is_busy(int rc) {
  int primary = rc & 0xff;
  return primary == SQLITE_BUSY || primary == SQLITE_LOCKED;
}

Database::~Database() {
  if (db_) sqlite3_close_v2(db_);
}

Status Database::error(int rc, std::string_view what) const {
  std::string detail = db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
  std::string where = "the telemetry database " + path_;
  std::string prefix = std::string(what) + ": ";
  switch (rc & 0xff) {
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return invalid_input(prefix + where + " is damaged (" + detail +
                           "); faceweave keeps working without telemetry. Run `faceweave telemetry purge` to "
                           "start a new one, or move the file away to keep it");
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return io_error(prefix + where + " is locked by another process (waited " +
                      std::to_string(busy_timeout_ms_) +
                      " ms); faceweave keeps working without telemetry. Close the program holding it (for "
                      "example an sqlite3 shell with an open transaction) and run again");
    case SQLITE_READONLY:
    case SQLITE_PERM:
    case SQLITE_CANTOPEN:
    case SQLITE_AUTH:
      return permission_denied(prefix + "cannot write " + where + " (" + detail +
                               "); faceweave keeps working without telemetry. Fix the folder's permissions "
                               "or choose another with --data-dir or FACEWEAVE_DATA_DIR");
    case SQLITE_FULL:
      return io_error(prefix + "the disk holding " + where +
                      " is full; faceweave keeps working without "
                      "telemetry. Free space, or erase old events with `faceweave telemetry purge`");
    case SQLITE_IOERR:
      return io_error(prefix + "reading or writing " + where + " failed (" + detail + ")");
    default:
      return internal_error(prefix + where + ": " + detail);
  }
}

Status Database::exec(std::string_view sql) {
  std::string text(sql);
  int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) return error(rc, "telemetry");
  return Status::ok();
}

Result<Statement> Database::prepare(std::string_view sql, bool persistent) {
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v3(db_, sql.data(), int(sql.size()), persistent ? SQLITE_PREPARE_PERSISTENT : 0,
                              &stmt, nullptr);
  if (rc != SQLITE_OK) {
    sqlite3_finalize(stmt);
    return error(rc, "telemetry");
  }
  return Statement(stmt);
}

Result<std::unique_ptr<Database>> Database::open(const std::string& path, const DatabaseOptions& options) {
  bool exists = file_exists(path);
  if (!exists && !options.create) return not_found("there is no telemetry database at " + path);
  std::unique_ptr<Database> db(new Database());
  db->path_ = path;
  db->busy_timeout_ms_ = options.busy_timeout_ms;
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (options.create ? SQLITE_OPEN_CREATE : 0);
  int rc = sqlite3_open_v2(path.c_str(), &db->db_, flags, nullptr);
  if (rc != SQLITE_OK) return db->error(rc, "cannot open the telemetry database");
  // SQLite creates files with the process umask; events are personal data, so only the owner may read them
  // (the -wal and -shm files SQLite adds later copy this mode).
  ::chmod(path.c_str(), 0600);  // also an older database a wider umask left readable
  sqlite3_extended_result_codes(db->db_, 1);
  sqlite3_busy_timeout(db->db_, options.busy_timeout_ms);
  FW_RETURN_IF_ERROR(db->configure(options, !exists));
  FW_RETURN_IF_ERROR(db->migrate());
  FW_RETURN_IF_ERROR(db->load_ids());
  return db;
}

Status Database::configure(const DatabaseOptions& options, bool is_new) {
  // Large pages suit an append-only table; the size can only be chosen before the first table exists.
  if (is_new) FW_RETURN_IF_ERROR(exec("PRAGMA page_size=16384"));
  // The first statement that reads the file: a damaged header shows up here as SQLITE_NOTADB.
  FW_ASSIGN_OR_RETURN(Statement wal, prepare("PRAGMA journal_mode=WAL"));
  int rc = sqlite3_step(wal.get());
  if (rc != SQLITE_ROW) return error(rc, "cannot open the telemetry database");
  std::string mode = reinterpret_cast<const char*>(sqlite3_column_text(wal.get(), 0));
  if (mode != "wal") return io_error("the telemetry database " + path_ + " cannot use write-ahead logging");
  // NORMAL in WAL mode: a commit survives the process being killed at any point; FULL also survives
  // losing power, at an fsync per commit.
  FW_RETURN_IF_ERROR(exec(options.sync_full ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL"));
  // Checkpoints every 64 MB of log instead of SQLite's 16 MB: a quarter of the checkpoints (each one two
  // fsyncs and a re-read of the log) lifts sustained ingest by about a third (docs/benchmarks.md); the log
  // file is cut back to 64 MB after each checkpoint.
  FW_RETURN_IF_ERROR(
      exec("PRAGMA temp_store=MEMORY; PRAGMA cache_size=-16384; PRAGMA wal_autocheckpoint=4096; "
           "PRAGMA journal_size_limit=67108864"));
  return Status::ok();
}

Status Database::migrate() {
  auto read_version = [this]() -> Result<int> {
    sqlite3_stmt* s = nullptr;
    int rc = sqlite3_prepare_v2(db_, "SELECT version FROM schema_version", -1, &s, nullptr);
    if (rc != SQLITE_OK) {
      sqlite3_finalize(s);
      // No table yet: a new database. Anything else (damage, a lock) is a real error.
      std::string msg = sqlite3_errmsg(db_);
      if ((rc & 0xff) == SQLITE_ERROR && msg.find("no such table") != std::string::npos) return 0;
      return error(rc, "cannot read the telemetry schema");
    }
    Statement stmt(s);
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) return sqlite3_column_int(s, 0);
    if (rc == SQLITE_DONE) return 0;
    return error(rc, "cannot read the telemetry schema");
  };
  FW_ASSIGN_OR_RETURN(int version, read_version());
  const int latest = int(migrations().size());
  if (version > latest)
    return unsupported("the telemetry database " + path_ + " has schema version " + std::to_string(version) +
                       ", newer than this faceweave knows (" + std::to_string(latest) +
                       "); telemetry is off for this run. Update faceweave, or use another --data-dir");
  if (version < latest) {
    FW_RETURN_IF_ERROR(exec("BEGIN IMMEDIATE"));
    // Another process may have migrated while this one waited for the lock.
    auto again = read_version();
    Status s = again.status();
    if (s.is_ok()) {
      version = *again;
      if (version == 0) s = exec("CREATE TABLE IF NOT EXISTS schema_version(version INTEGER NOT NULL)");
      for (int v = version; s.is_ok() && v < latest; ++v) s = exec(migrations()[size_t(v)]);
      if (s.is_ok()) s = exec("DELETE FROM schema_version");
      if (s.is_ok()) s = exec("INSERT INTO schema_version(version) VALUES (" + std::to_string(latest) + ")");
      if (s.is_ok()) s = exec("COMMIT");
    }
    if (!s.is_ok()) {
      sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
      return s;
    }
  }
  schema_version_ = latest;
  return Status::ok();
}

Status Database::load_ids() {
  auto ids_for = [this](const char* table, const std::vector<std::string_view>& names,
                        int64_t* out) -> Status {
    std::string select = std::string("SELECT id FROM ") + table + " WHERE name = ?";
    std::string insert = std::string("INSERT OR IGNORE INTO ") + table + "(name) VALUES (?)";
    FW_ASSIGN_OR_RETURN(Statement sel, prepare(select));
    bool inserting = false;
    for (size_t i = 0; i < names.size(); ++i) {
      for (int attempt = 0; attempt < 2; ++attempt) {
        sqlite3_reset(sel.get());
        sqlite3_bind_text(sel.get(), 1, names[i].data(), int(names[i].size()), SQLITE_STATIC);
        int rc = sqlite3_step(sel.get());
        if (rc == SQLITE_ROW) {
          out[i] = sqlite3_column_int64(sel.get(), 0);
          break;
        }
        if (rc != SQLITE_DONE) return error(rc, "cannot read the telemetry schema");
        if (attempt == 1) return internal_error("telemetry: could not register " + std::string(names[i]));
        // Only a new name needs the write lock, so a reader does not wait for a busy writer.
        if (!inserting) {
          FW_RETURN_IF_ERROR(exec("BEGIN IMMEDIATE"));
          inserting = true;
        }
        FW_ASSIGN_OR_RETURN(Statement ins, prepare(insert));
        sqlite3_bind_text(ins.get(), 1, names[i].data(), int(names[i].size()), SQLITE_STATIC);
        rc = sqlite3_step(ins.get());
        if (rc != SQLITE_DONE) {
          sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
          return error(rc, "cannot write the telemetry schema");
        }
      }
    }
    if (inserting) return exec("COMMIT");
    return Status::ok();
  };
  std::vector<std::string_view> events;
  for (size_t i = 0; i < kEventKindCount; ++i) events.push_back(event_spec(EventKind(i)).name);
  FW_RETURN_IF_ERROR(ids_for("event_names", events, event_ids_.data()));
  std::vector<std::string_view> outcomes;
  for (size_t i = 0; i < outcome_ids_.size(); ++i) outcomes.push_back(status_code_name(StatusCode(i)));
  return ids_for("outcomes", outcomes, outcome_ids_.data());
}

Result<int64_t> Database::last_event_id() {
  FW_ASSIGN_OR_RETURN(Statement s, prepare("SELECT max((SELECT value FROM meta WHERE key = 'last_event_id'), "
                                           "coalesce((SELECT max(id) FROM events), 0))"));
  int rc = sqlite3_step(s.get());
  if (rc != SQLITE_ROW) return error(rc, "cannot read the telemetry database");
  return sqlite3_column_int64(s.get(), 0);
}

}  // namespace faceweave::telemetry
