#include "telemetry/rows.h"

#include <nlohmann/json.hpp>

namespace faceweave {

std::string telemetry_row_json(const TelemetryEventRow& row) {
  nlohmann::ordered_json j;
  j["id"] = row.id;
  j["ts"] = row.ts_ms;
  j["event"] = row.event;
  j["user"] = row.user;
  j["session"] = row.session;
  j["app_version"] = row.app_version;
  // Props are stored as a JSON object; embed it as one (a damaged value is shown as the text it is).
  auto props = nlohmann::ordered_json::parse(row.props, nullptr, false);
  j["props"] = props.is_discarded() ? nlohmann::ordered_json(row.props) : props;
  j["duration_ms"] = row.duration_ms ? nlohmann::ordered_json(*row.duration_ms) : nlohmann::ordered_json();
  j["outcome"] = row.outcome;
  j["sample_rate"] = row.sample_rate;
  return j.dump();
}

namespace telemetry {

Status for_each_row(Database& db, std::string_view sql, int64_t param,
                    const std::function<bool(const TelemetryEventRow&)>& fn) {
  FW_ASSIGN_OR_RETURN(Statement stmt, db.prepare(sql));
  sqlite3_stmt* s = stmt.get();
  if (sqlite3_bind_parameter_count(s) > 0) sqlite3_bind_int64(s, 1, param);
  auto text = [s](int col) {
    const unsigned char* t = sqlite3_column_text(s, col);
    return t ? std::string(reinterpret_cast<const char*>(t), size_t(sqlite3_column_bytes(s, col)))
             : std::string();
  };
  TelemetryEventRow row;
  for (;;) {
    int rc = sqlite3_step(s);
    if (rc == SQLITE_DONE) return Status::ok();
    if (rc != SQLITE_ROW) return db.error(rc, "cannot read telemetry events");
    row.id = sqlite3_column_int64(s, 0);
    row.ts_ms = sqlite3_column_int64(s, 1);
    row.event = text(2);
    row.user = text(3);
    row.session = text(4);
    row.app_version = text(5);
    row.props = text(6);
    row.duration_ms.reset();
    if (sqlite3_column_type(s, 7) != SQLITE_NULL) row.duration_ms = sqlite3_column_double(s, 7);
    row.outcome = text(8);
    row.sample_rate = sqlite3_column_double(s, 9);
    if (!fn(row)) return Status::ok();
  }
}

}  // namespace telemetry
}  // namespace faceweave
