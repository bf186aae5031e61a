#include "telemetry/retention.h"

#include <ctime>
#include <filesystem>
#include <set>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/log.h"
#include "telemetry/archive.h"
#include "telemetry/rows.h"

namespace faceweave::telemetry {
namespace {

constexpr int64_t kDayMs = 24LL * 60 * 60 * 1000;

std::string utc_date(int64_t ms) {
  std::time_t t = std::time_t(ms / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[16];
  std::strftime(buf, sizeof buf, "%Y%m%d", &tm);
  return buf;
}

Result<std::set<std::string>> registered_archives(Database& db) {
  FW_ASSIGN_OR_RETURN(Statement s, db.prepare("SELECT file FROM archives"));
  std::set<std::string> files;
  for (int rc; (rc = sqlite3_step(s.get())) != SQLITE_DONE;) {
    if (rc != SQLITE_ROW) return db.error(rc, "cannot read the telemetry archive list");
    files.insert(reinterpret_cast<const char*>(sqlite3_column_text(s.get(), 0)));
  }
  return files;
}

// A file left by a retention run that crashed before its commit holds events that are still in the
// database; removing it keeps every event in exactly one place.
Status remove_unregistered_archives(Database& db, const std::string& archive_dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_directory(archive_dir, ec)) return Status::ok();
  FW_ASSIGN_OR_RETURN(auto files, registered_archives(db));
  for (const auto& entry : fs::directory_iterator(archive_dir, ec)) {
    std::string name = entry.path().filename().string();
    if (name.rfind("events-", 0) != 0) continue;
    if (!files.count(name)) fs::remove(entry.path(), ec);
  }
  return Status::ok();
}

Status step_done(Database& db, Statement& s, std::string_view what) {
  int rc = sqlite3_step(s.get());
  if (rc != SQLITE_DONE && rc != SQLITE_ROW) return db.error(rc, what);
  return Status::ok();
}

}  // namespace

Result<RetentionAction> parse_retention_action(std::string_view name) {
  if (name == "archive") return RetentionAction::kArchive;
  if (name == "delete") return RetentionAction::kDelete;
  return invalid_argument("unknown telemetry retention action '" + std::string(name) +
                          "' (use archive or delete)");
}

Result<TelemetryRetentionReport> apply_retention(Database& db, const std::string& archive_dir, int days,
                                                 RetentionAction action, int64_t now_ms,
                                                 const std::atomic<bool>* cancel) {
  TelemetryRetentionReport report;
  if (days <= 0) return report;
  const int64_t cutoff = now_ms - int64_t(days) * kDayMs;
  FW_RETURN_IF_ERROR(db.exec("BEGIN IMMEDIATE"));
  auto body = [&]() -> Status {
    FW_RETURN_IF_ERROR(remove_unregistered_archives(db, archive_dir));
    FW_ASSIGN_OR_RETURN(Statement count,
                        db.prepare("SELECT count(*), min(id), max(id) FROM events WHERE ts < ?"));
    sqlite3_bind_int64(count.get(), 1, cutoff);
    int rc = sqlite3_step(count.get());
    if (rc != SQLITE_ROW) return db.error(rc, "cannot apply telemetry retention");
    int64_t n = sqlite3_column_int64(count.get(), 0);
    int64_t first = sqlite3_column_int64(count.get(), 1), last = sqlite3_column_int64(count.get(), 2);
    if (n > 0 && action == RetentionAction::kArchive) {
      FW_RETURN_IF_ERROR(make_private_dirs(archive_dir));
      std::string name = "events-" + utc_date(now_ms) + "-" + std::to_string(first) + "-" +
                         std::to_string(last) + ".ndjson.zst";
      std::string path = (std::filesystem::path(archive_dir) / name).string();
      ZstdLineWriter out;
      FW_RETURN_IF_ERROR(out.open(path));
      Status write_status;
      int64_t written = 0;
      FW_RETURN_IF_ERROR(for_each_row(
          db,
          std::string("SELECT ") + std::string(kRowColumns) + " FROM events_view WHERE ts < ?1 ORDER BY id",
          cutoff, [&](const TelemetryEventRow& row) {
            if (cancel && cancel->load()) {
              write_status = Status(StatusCode::kCancelled, "retention cancelled");
              return false;
            }
            write_status = out.add_line(telemetry_row_json(row));
            ++written;
            return write_status.is_ok();
          }));
      FW_RETURN_IF_ERROR(write_status);
      FW_RETURN_IF_ERROR(out.finish());
      FW_ASSIGN_OR_RETURN(Statement reg,
                          db.prepare("INSERT OR REPLACE INTO archives(file, first_id, last_id, rows, "
                                     "created_ms) VALUES (?, ?, ?, ?, ?)"));
      sqlite3_bind_text(reg.get(), 1, name.data(), int(name.size()), SQLITE_STATIC);
      sqlite3_bind_int64(reg.get(), 2, first);
      sqlite3_bind_int64(reg.get(), 3, last);
      sqlite3_bind_int64(reg.get(), 4, written);
      sqlite3_bind_int64(reg.get(), 5, now_ms);
      FW_RETURN_IF_ERROR(step_done(db, reg, "cannot register a telemetry archive"));
      report.archive_path = path;
      report.moved = written;
      // Events whose session was erased have no user to show; they are deleted, not archived.
      report.deleted = n - written;
    } else {
      report.deleted = n;
    }
    if (n > 0) {
      FW_ASSIGN_OR_RETURN(Statement del, db.prepare("DELETE FROM events WHERE ts < ?"));
      sqlite3_bind_int64(del.get(), 1, cutoff);
      FW_RETURN_IF_ERROR(step_done(db, del, "cannot apply telemetry retention"));
      FW_RETURN_IF_ERROR(
          db.exec("DELETE FROM sessions WHERE id NOT IN (SELECT DISTINCT session FROM events)"));
    }
    FW_ASSIGN_OR_RETURN(Statement mark,
                        db.prepare("UPDATE meta SET value = ? WHERE key = 'last_retention_ms'"));
    sqlite3_bind_int64(mark.get(), 1, now_ms);
    FW_RETURN_IF_ERROR(step_done(db, mark, "cannot apply telemetry retention"));
    return db.exec("COMMIT");
  };
  Status s = body();
  if (!s.is_ok()) {
    sqlite3_exec(db.handle(), "ROLLBACK", nullptr, nullptr, nullptr);
    return s;
  }
  return report;
}

void run_retention_if_due(const Paths& paths, int days, RetentionAction action, int busy_timeout_ms,
                          const std::atomic<bool>* cancel) {
  if (days <= 0) return;
  auto db = Database::open(paths.database, {.create = false, .busy_timeout_ms = busy_timeout_ms});
  if (!db) return;  // the writer reports database problems; retention stays quiet
  Database& d = **db;
  int64_t now = unix_ms();
  auto last = d.prepare("SELECT value FROM meta WHERE key = 'last_retention_ms'");
  if (!last) return;
  if (sqlite3_step(last->get()) == SQLITE_ROW && now - sqlite3_column_int64(last->get(), 0) < kDayMs) return;
  *last = Statement();
  auto report = apply_retention(d, paths.archive_dir, days, action, now, cancel);
  if (!report) {
    if (report.status().code() != StatusCode::kCancelled)
      core::log_warning("telemetry retention did not run: " + report.status().message());
    return;
  }
  if (report->moved || report->deleted)
    core::log_info("telemetry retention: " + std::to_string(report->moved) + " events archived, " +
                   std::to_string(report->deleted) + " deleted (older than " + std::to_string(days) +
                   " days)");
}

Status forget_in_archives(Database& db, const std::string& archive_dir, std::string_view pseudonym,
                          int64_t* removed) {
  FW_ASSIGN_OR_RETURN(auto files, registered_archives(db));
  for (const auto& name : files) {
    std::string path = (std::filesystem::path(archive_dir) / name).string();
    std::vector<std::string> kept;
    int64_t dropped = 0;
    Status read = read_zstd_lines(path, [&](std::string_view line) {
      auto j = nlohmann::json::parse(line, nullptr, false);
      if (!j.is_discarded() && j.is_object() && j.value("user", std::string()) == pseudonym) {
        ++dropped;
        return;
      }
      kept.emplace_back(line);
    });
    if (read.code() == StatusCode::kNotFound) continue;
    FW_RETURN_IF_ERROR(read);
    if (dropped == 0) continue;
    if (kept.empty()) {
      std::filesystem::remove(path);
      FW_ASSIGN_OR_RETURN(Statement del, db.prepare("DELETE FROM archives WHERE file = ?"));
      sqlite3_bind_text(del.get(), 1, name.data(), int(name.size()), SQLITE_STATIC);
      FW_RETURN_IF_ERROR(step_done(db, del, "cannot update the telemetry archive list"));
    } else {
      ZstdLineWriter out;
      FW_RETURN_IF_ERROR(out.open(path));
      for (const auto& line : kept) FW_RETURN_IF_ERROR(out.add_line(line));
      FW_RETURN_IF_ERROR(out.finish());
      FW_ASSIGN_OR_RETURN(Statement upd, db.prepare("UPDATE archives SET rows = ? WHERE file = ?"));
      sqlite3_bind_int64(upd.get(), 1, int64_t(kept.size()));
      sqlite3_bind_text(upd.get(), 2, name.data(), int(name.size()), SQLITE_STATIC);
      FW_RETURN_IF_ERROR(step_done(db, upd, "cannot update the telemetry archive list"));
    }
    *removed += dropped;
  }
  return Status::ok();
}

}  // namespace faceweave::telemetry
