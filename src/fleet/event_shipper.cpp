#include "fleet/event_shipper.h"

#include <pthread.h>
#include <sqlite3.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <random>

#include "core/log.h"
#include "core/private_files.h"
#include "fleet/schema.h"
#include "pg/connection.h"

namespace faceweave::fleet {
namespace {
namespace fs = std::filesystem;

const char* kColumns =
    "node_id, seq, ts, event, user_hash, session, app_version, platform, props, duration_ms, outcome, "
    "sample_rate";

// A value in COPY's text format: backslash, tab, newline and carriage return escaped.
void copy_field(std::string& out, const unsigned char* text) {
  if (!text) {
    out += "\\N";
    return;
  }
  for (const unsigned char* p = text; *p; ++p) {
    switch (*p) {
      case '\\':
        out += "\\\\";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        out += char(*p);
    }
  }
}

struct LocalDb {
  sqlite3* db = nullptr;
  ~LocalDb() { sqlite3_close_v2(db); }
};

struct Stmt {
  sqlite3_stmt* s = nullptr;
  ~Stmt() { sqlite3_finalize(s); }
};

}  // namespace

Result<std::string> node_id(const std::string& telemetry_dir) {
  const fs::path file = fs::path(telemetry_dir) / "node_id";
  std::ifstream in(file);
  std::string id;
  if (in >> id && id.size() == 16) return id;
  FW_RETURN_IF_ERROR(core::make_private_dir(telemetry_dir));
  std::random_device rd;
  static const char* kHex = "0123456789abcdef";
  id.clear();
  for (int i = 0; i < 16; ++i) id += kHex[rd() % 16];
  std::ofstream out(file, std::ios::trunc);
  out << id << "\n";
  if (!out) return io_error("cannot write " + file.string() + "; check the data dir is writable");
  return id;
}

Status ensure_events_schema(const std::string& database_url) {
  FW_ASSIGN_OR_RETURN(auto conn, pg::Connection::connect(database_url, "faceweave schema"));
  return ensure_schema(*conn);
}

Result<ShipReport> ship_events(const ShipOptions& options) {
  if (options.batch < 1) return invalid_argument("the shipping batch must hold at least one event");
  ShipReport report;
  const fs::path events_db(options.events_db);
  if (!options.node_id.empty()) {
    report.node_id = options.node_id;
  } else {
    FW_ASSIGN_OR_RETURN(report.node_id, node_id(events_db.parent_path().string()));
  }
  std::error_code ec;
  // Nothing recorded yet (or telemetry is off): no need to reach the database.
  if (!fs::exists(events_db, ec)) return report;
  FW_ASSIGN_OR_RETURN(auto conn,
                      pg::Connection::connect(options.database_url, "faceweave ship " + report.node_id));
  FW_RETURN_IF_ERROR(ensure_schema(*conn));
  FW_ASSIGN_OR_RETURN(const bool sketches, has_user_sketches(*conn));
  LocalDb local;
  if (sqlite3_open_v2(options.events_db.c_str(), &local.db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK)
    return io_error("cannot read the events database " + options.events_db + " (" + sqlite3_errmsg(local.db) +
                    ")");
  sqlite3_busy_timeout(local.db, 5000);
  Stmt read;
  if (sqlite3_prepare_v2(local.db,
                         "SELECT id, ts, event, user, session, app_version, platform, props, duration_ms, "
                         "outcome, sample_rate FROM events_view WHERE id > ? ORDER BY id LIMIT ?",
                         -1, &read.s, nullptr) != SQLITE_OK)
    return io_error("cannot read the events of " + options.events_db + " (" + sqlite3_errmsg(local.db) +
                    "); run any faceweave command once to upgrade it");
  auto rollback = [&conn] { (void)conn->exec_script("ROLLBACK"); };
  while (true) {
    // One transaction per batch: the rows and the watermark commit together, or neither does. The node's
    // advisory lock makes a second shipper of the same node (serve and `telemetry ship` at once) wait and
    // then start after what the first committed.
    FW_RETURN_IF_ERROR(conn->exec_script("BEGIN"));
    Status s = conn->exec("SELECT pg_advisory_xact_lock(hashtext($1))", {report.node_id}).status();
    auto mark =
        s.is_ok() ? conn->exec("SELECT shipped_seq FROM faceweave_nodes WHERE node_id = $1", {report.node_id})
                  : Result<pg::Rows>(s);
    if (!mark) {
      rollback();
      return mark.status();
    }
    const int64_t after = mark->size() ? mark->int64(0, 0) : 0;
    report.shipped_seq = after;
    sqlite3_reset(read.s);
    sqlite3_bind_int64(read.s, 1, after);
    sqlite3_bind_int(read.s, 2, options.batch);
    std::string data;
    int64_t rows = 0, last = after, first_ts = 0, last_ts = 0;
    int rc;
    while ((rc = sqlite3_step(read.s)) == SQLITE_ROW) {
      last = sqlite3_column_int64(read.s, 0);
      const int64_t ts = sqlite3_column_int64(read.s, 1);
      first_ts = rows == 0 ? ts : std::min(first_ts, ts);
      last_ts = rows == 0 ? ts : std::max(last_ts, ts);
      copy_field(data, reinterpret_cast<const unsigned char*>(report.node_id.c_str()));
      for (int c = 0; c < 11; ++c) {
        data += '\t';
        copy_field(data, sqlite3_column_text(read.s, c));
      }
      data += '\n';
      ++rows;
    }
    if (rc != SQLITE_DONE) {
      rollback();
      return io_error("reading the events of " + options.events_db + " failed (" + sqlite3_errmsg(local.db) +
                      ")");
    }
    if (rows == 0) {
      rollback();
      break;
    }
    s = conn->exec("SELECT faceweave_events_partitions($1, $2)",
                   {std::to_string(first_ts), std::to_string(last_ts)})
            .status();
    // Straight into the table: rows after the watermark are new, and the key (node_id, seq, ts) refuses any
    // that are not.
    if (s.is_ok())
      s = conn->copy_in(std::string("COPY faceweave_events (") + kColumns + ") FROM STDIN", data);
    if (s.is_ok()) s = add_to_rollups(*conn, report.node_id, after, last, sketches);
    if (s.is_ok())
      s = conn->exec(
                  "INSERT INTO faceweave_nodes (node_id, shipped_seq, shipped_at) VALUES ($1, $2, now()) "
                  "ON CONFLICT (node_id) DO UPDATE SET shipped_seq = excluded.shipped_seq, shipped_at = "
                  "now()",
                  {report.node_id, std::to_string(last)})
              .status();
    if (s.is_ok()) s = conn->exec_script("COMMIT");
    if (!s.is_ok()) {
      rollback();
      return s;
    }
    report.shipped += rows;
    report.shipped_seq = last;
    ++report.batches;
    if (rows < options.batch) break;
  }
  // After the rows, so days shipped late past the retention are dropped too (their rollups stay).
  if (options.maintain) {
    FW_ASSIGN_OR_RETURN(report.partitions_dropped,
                        maintain_partitions(*conn, {options.ahead_days, options.retention_days}));
  }
  return report;
}

BackgroundShipper::BackgroundShipper(ShipOptions options, int interval_ms)
    : options_(std::move(options)), interval_ms_(interval_ms) {
  thread_ = std::thread([this] { loop(); });
}

BackgroundShipper::~BackgroundShipper() {
  stopping_.store(true);
  if (thread_.joinable()) thread_.join();
}

Result<int> maintain_events(const std::string& database_url, int ahead_days, int retention_days) {
  FW_ASSIGN_OR_RETURN(auto conn, pg::Connection::connect(database_url, "faceweave maintenance"));
  FW_RETURN_IF_ERROR(ensure_schema(*conn));
  return maintain_partitions(*conn, {ahead_days, retention_days});
}

void BackgroundShipper::loop() {
  pthread_setname_np(pthread_self(), "fw-ship");
  int wait_ms = 0;
  int failures = 0;
  auto next_maintenance = std::chrono::steady_clock::now();
  ShipOptions ship = options_;
  ship.maintain = false;  // below, once an hour, even before this node has recorded anything
  while (true) {
    for (int waited = 0; waited < wait_ms && !stopping_.load(); waited += 100)
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    const bool last = stopping_.load();
    if (options_.maintain && !last && std::chrono::steady_clock::now() >= next_maintenance) {
      auto dropped = maintain_events(options_.database_url, options_.ahead_days, options_.retention_days);
      if (dropped) {
        next_maintenance = std::chrono::steady_clock::now() + std::chrono::hours(1);
        if (*dropped > 0)
          core::log_info("fleet telemetry retention: dropped " + std::to_string(*dropped) +
                         " day partition(s) older than " + std::to_string(options_.retention_days) + " days");
      }
    }
    auto shipped = ship_events(ship);
    if (shipped) {
      if (failures > 0) core::log_info("telemetry shipping works again: caught up");
      failures = 0;
      wait_ms = interval_ms_;
    } else {
      // Events stay in the local outbox; the next try catches up.
      if (failures++ == 0) core::log_warning("telemetry shipping paused: " + shipped.status().message());
      wait_ms = std::min(60000, interval_ms_ << std::min(failures, 6));
    }
    if (last) return;
  }
}

}  // namespace faceweave::fleet
