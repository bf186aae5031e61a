// TelemetryStore: reading, exporting and erasing stored events (faceweave telemetry status|show|export|
// forget|purge), and purge_telemetry for a data dir whose database may be damaged.
#include <sys/stat.h>
#include <unistd.h>

#include <charconv>
#include <filesystem>
#include <ostream>

#include "faceweave/telemetry.h"
#include "telemetry/database.h"
#include "telemetry/pseudonymiser.h"
#include "telemetry/retention.h"
#include "telemetry/rows.h"

namespace faceweave {
namespace {

uint64_t size_of(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? uint64_t(st.st_size) : 0;
}

std::string csv_field(std::string_view s) {
  if (s.find_first_of(",\"\n\r") == std::string_view::npos) return std::string(s);
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

std::string number(double v) {
  char buf[32];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}

std::string select_rows(std::string_view tail) {
  return "SELECT " + std::string(telemetry::kRowColumns) + " FROM events_view " + std::string(tail);
}

Result<int64_t> scalar(telemetry::Database& db, std::string_view sql) {
  FW_ASSIGN_OR_RETURN(telemetry::Statement s, db.prepare(sql));
  int rc = sqlite3_step(s.get());
  if (rc != SQLITE_ROW) return db.error(rc, "cannot read the telemetry database");
  return sqlite3_column_int64(s.get(), 0);
}

}  // namespace

TelemetryStore::~TelemetryStore() = default;

Result<std::unique_ptr<TelemetryStore>> TelemetryStore::open(const std::string& data_dir,
                                                             int busy_timeout_ms) {
  auto paths = telemetry::telemetry_paths(data_dir);
  std::unique_ptr<TelemetryStore> store(new TelemetryStore());
  store->data_dir_ = data_dir;
  FW_ASSIGN_OR_RETURN(store->db_, telemetry::Database::open(
                                      paths.database, {.create = false, .busy_timeout_ms = busy_timeout_ms}));
  // Erased rows are overwritten with zeros, not just unlinked from the b-tree.
  FW_RETURN_IF_ERROR(store->db_->exec("PRAGMA secure_delete=ON"));
  return store;
}

Result<TelemetryInfo> TelemetryStore::info() {
  auto paths = telemetry::telemetry_paths(data_dir_);
  TelemetryInfo info;
  info.data_dir = data_dir_;
  info.database_path = paths.database;
  info.database_exists = true;
  info.database_bytes = size_of(paths.database) + size_of(paths.database + "-wal");
  info.schema_version = db_->schema_version();
  FW_ASSIGN_OR_RETURN(info.events, scalar(*db_, "SELECT count(*) FROM events"));
  FW_ASSIGN_OR_RETURN(info.users, scalar(*db_, "SELECT count(DISTINCT user) FROM sessions"));
  FW_ASSIGN_OR_RETURN(info.sessions, scalar(*db_, "SELECT count(*) FROM sessions"));
  if (info.events > 0) {
    FW_ASSIGN_OR_RETURN(info.oldest_ms, scalar(*db_, "SELECT min(ts) FROM events"));
    FW_ASSIGN_OR_RETURN(info.newest_ms, scalar(*db_, "SELECT max(ts) FROM events"));
  }
  FW_ASSIGN_OR_RETURN(
      telemetry::Statement by_name,
      db_->prepare("SELECT n.name, count(*) FROM events e JOIN event_names n ON n.id = e.event "
                   "GROUP BY e.event ORDER BY n.name"));
  for (int rc; (rc = sqlite3_step(by_name.get())) != SQLITE_DONE;) {
    if (rc != SQLITE_ROW) return db_->error(rc, "cannot read the telemetry database");
    info.events_by_name[reinterpret_cast<const char*>(sqlite3_column_text(by_name.get(), 0))] =
        sqlite3_column_int64(by_name.get(), 1);
  }
  std::error_code ec;
  if (std::filesystem::is_directory(paths.archive_dir, ec)) {
    for (const auto& e : std::filesystem::directory_iterator(paths.archive_dir, ec)) {
      if (e.path().extension() != ".zst") continue;
      ++info.archive_files;
      info.archive_bytes += size_of(e.path().string());
    }
  }
  return info;
}

Result<std::vector<TelemetryEventRow>> TelemetryStore::last(size_t n) {
  std::vector<TelemetryEventRow> rows;
  FW_RETURN_IF_ERROR(telemetry::for_each_row(
      *db_, "SELECT * FROM (" + select_rows("ORDER BY id DESC LIMIT ?1") + ") ORDER BY id", int64_t(n),
      [&](const TelemetryEventRow& row) {
        rows.push_back(row);
        return true;
      }));
  return rows;
}

Status TelemetryStore::for_each(const std::function<void(const TelemetryEventRow&)>& fn) {
  return telemetry::for_each_row(*db_, select_rows("ORDER BY id"), 0, [&](const TelemetryEventRow& row) {
    fn(row);
    return true;
  });
}

Status TelemetryStore::export_events(std::ostream& out, std::string_view format) {
  if (format == "ndjson") {
    return for_each([&](const TelemetryEventRow& row) { out << telemetry_row_json(row) << '\n'; });
  }
  if (format == "csv") {
    out << "id,ts,event,user,session,app_version,duration_ms,outcome,sample_rate,props\n";
    return for_each([&](const TelemetryEventRow& row) {
      out << row.id << ',' << row.ts_ms << ',' << csv_field(row.event) << ',' << row.user << ','
          << row.session << ',' << csv_field(row.app_version) << ','
          << (row.duration_ms ? number(*row.duration_ms) : "") << ',' << row.outcome << ','
          << number(row.sample_rate) << ',' << csv_field(row.props) << '\n';
    });
  }
  return invalid_argument("unknown export format '" + std::string(format.substr(0, 20)) +
                          "' (use ndjson or csv)");
}

Result<int64_t> TelemetryStore::forget(std::string_view user) {
  auto paths = telemetry::telemetry_paths(data_dir_);
  std::string pseudonym;
  if (telemetry::is_pseudonym(user)) {
    pseudonym = std::string(user);
  } else {
    if (user.empty())
      return invalid_argument("forget needs a user: a pseudonym (64 hex digits) or a raw user id");
    auto secret = telemetry::Pseudonymiser::load(paths.secret);
    if (!secret)
      return not_found("cannot pseudonymise '" + std::string(user.substr(0, 40)) +
                       "': this install has no pseudonym secret (" + secret.status().message() +
                       "); pass the pseudonym shown by `faceweave telemetry show` instead");
    pseudonym = secret->pseudonym(user);
  }

  FW_RETURN_IF_ERROR(db_->exec("BEGIN IMMEDIATE"));
  auto body = [&]() -> Result<int64_t> {
    FW_ASSIGN_OR_RETURN(
        telemetry::Statement del,
        db_->prepare("DELETE FROM events WHERE session IN (SELECT id FROM sessions WHERE user = ?)"));
    sqlite3_bind_text(del.get(), 1, pseudonym.data(), int(pseudonym.size()), SQLITE_STATIC);
    int rc = sqlite3_step(del.get());
    if (rc != SQLITE_DONE) return db_->error(rc, "cannot erase telemetry events");
    int64_t removed = sqlite3_changes64(db_->handle());
    FW_ASSIGN_OR_RETURN(telemetry::Statement ses, db_->prepare("DELETE FROM sessions WHERE user = ?"));
    sqlite3_bind_text(ses.get(), 1, pseudonym.data(), int(pseudonym.size()), SQLITE_STATIC);
    rc = sqlite3_step(ses.get());
    if (rc != SQLITE_DONE) return db_->error(rc, "cannot erase telemetry sessions");
    FW_RETURN_IF_ERROR(telemetry::forget_in_archives(*db_, paths.archive_dir, pseudonym, &removed));
    FW_RETURN_IF_ERROR(db_->exec("COMMIT"));
    return removed;
  };
  auto removed = body();
  if (!removed) {
    sqlite3_exec(db_->handle(), "ROLLBACK", nullptr, nullptr, nullptr);
    return removed.status();
  }
  // The write-ahead log still holds the erased pages until a checkpoint folds it back and truncates it.
  (void)db_->exec("PRAGMA wal_checkpoint(TRUNCATE)");
  return removed;
}

Result<TelemetryRetentionReport> TelemetryStore::apply_retention(int days, std::string_view action,
                                                                 int64_t now_ms) {
  FW_ASSIGN_OR_RETURN(auto a, telemetry::parse_retention_action(action));
  return telemetry::apply_retention(*db_, telemetry::telemetry_paths(data_dir_).archive_dir, days, a, now_ms);
}

Status purge_telemetry(const std::string& data_dir) {
  namespace fs = std::filesystem;
  auto paths = telemetry::telemetry_paths(data_dir);
  std::error_code ec;
  if (telemetry::file_exists(paths.database)) {
    auto db = telemetry::Database::open(paths.database, {.create = false});
    if (db) {
      // Through SQL, so another process with the database open keeps a consistent file.
      Status s = (*db)->exec(
          "PRAGMA secure_delete=ON; BEGIN IMMEDIATE; DELETE FROM events; DELETE FROM sessions; "
          "DELETE FROM archives; COMMIT");
      if (!s.is_ok()) return s;
      (void)(*db)->exec("VACUUM");
      (void)(*db)->exec("PRAGMA wal_checkpoint(TRUNCATE)");
    } else if (db.status().code() == StatusCode::kInvalidInput) {
      // Damaged: nothing in it can be read anyway, so the files go.
      for (const char* suffix : {"", "-wal", "-shm", "-journal"}) fs::remove(paths.database + suffix, ec);
    } else {
      return db.status();
    }
  }
  if (fs::is_directory(paths.archive_dir, ec)) {
    for (const auto& e : fs::directory_iterator(paths.archive_dir, ec)) fs::remove(e.path(), ec);
  }
  if (fs::is_directory(paths.dir, ec)) {
    for (const auto& e : fs::directory_iterator(paths.dir, ec))
      if (e.path().filename().string().rfind("session", 0) == 0) fs::remove(e.path(), ec);
  }
  return Status::ok();
}

Result<std::string> telemetry_pseudonym(const std::string& data_dir, std::string_view user_id) {
  auto secret = telemetry::Pseudonymiser::load(telemetry::telemetry_paths(data_dir).secret);
  if (!secret) return secret.status();
  return secret->pseudonym(user_id.empty() ? telemetry::local_user_id() : std::string(user_id));
}

}  // namespace faceweave
