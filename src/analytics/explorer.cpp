// The raw event explorer (Analytics::events): stored events filtered by name, property values and day,
// newest first, a page at a time. It reads events_view directly (not the rollups), and never shows the
// pseudonym or the session.
#include <string>

#include "analytics/internal.h"
#include "telemetry/event.h"

namespace faceweave {

using analytics::column_text;
using analytics::Query;
using nlohmann::json;

namespace {

constexpr int64_t kMsPerDay = 86'400'000;

bool is_key(const std::string& k) {
  if (k.empty() || k.size() > telemetry::kMaxWordLength) return false;
  for (char c : k)
    if (!((c >= 'a' && c <= 'z') || c == '_')) return false;
  return true;
}

std::string utc_time(int64_t ms) {
  int64_t day = ms >= 0 ? ms / kMsPerDay : (ms - kMsPerDay + 1) / kMsPerDay;
  int64_t rest = (ms - day * kMsPerDay) / 1000;
  char buf[16];
  std::snprintf(buf, sizeof buf, "%02d:%02d:%02d", int(rest / 3600), int(rest / 60 % 60), int(rest % 60));
  return iso_day(day) + "T" + buf + "Z";
}

}  // namespace

Result<InsightsTable> Analytics::events(const EventQuery& q) {
  if (!q.event.empty() && telemetry::event_kind_from_name(q.event) == telemetry::EventKind::kCount) {
    std::string list;
    for (size_t i = 0; i < telemetry::kEventKindCount; ++i)
      list += (i ? ", " : "") + std::string(telemetry::event_spec(telemetry::EventKind(i)).name);
    return invalid_argument("unknown event '" + q.event.substr(0, 40) + "'; choose one of: " + list);
  }
  if (q.props.size() > 4) return invalid_argument("at most 4 property filters (--prop KEY=VALUE)");
  for (const auto& [k, v] : q.props) {
    if (!is_key(k))
      return invalid_argument("--prop needs KEY=VALUE with a property name of [a-z_], not '" +
                              k.substr(0, 40) + "'");
    if (v.size() > 64) return invalid_argument("--prop values are at most 64 characters");
  }
  if (q.limit < 1 || q.limit > 1000) return invalid_argument("--limit must be from 1 to 1000");
  if (q.offset < 0) return invalid_argument("--offset cannot be negative");
  int64_t t0 = std::numeric_limits<int64_t>::min(), t1 = std::numeric_limits<int64_t>::max();
  if (!q.from.empty()) {
    FW_ASSIGN_OR_RETURN(int64_t d, parse_iso_day(q.from, "--from"));
    t0 = d * kMsPerDay;
  }
  if (!q.to.empty()) {
    FW_ASSIGN_OR_RETURN(int64_t d, parse_iso_day(q.to, "--to"));
    t1 = (d + 1) * kMsPerDay - 1;
  }
  if (t0 > t1) return invalid_argument("--from " + q.from + " is after --to " + q.to);

  std::string where = " WHERE (:event = '' OR event = :event) AND ts BETWEEN :t0 AND :t1";
  for (size_t i = 0; i < q.props.size(); ++i)
    where += " AND CAST(json_extract(props, :k" + std::to_string(i) + ") AS TEXT) = :v" + std::to_string(i);
  auto bind = [&](Query& s) {
    s.bind(":event", q.event).bind(":t0", t0).bind(":t1", t1);
    for (size_t i = 0; i < q.props.size(); ++i) {
      // Booleans are stored as JSON true/false, which json_extract gives as 1/0.
      std::string v = q.props[i].second == "true"    ? "1"
                      : q.props[i].second == "false" ? "0"
                                                     : q.props[i].second;
      std::string k = "$." + q.props[i].first;
      s.bind((":k" + std::to_string(i)).c_str(), k).bind((":v" + std::to_string(i)).c_str(), v);
    }
  };
  InsightsTable t;
  t.view = "events";
  t.title = "Raw events, newest first" + (q.event.empty() ? std::string() : " (" + q.event + ")");
  t.columns = {"id",    "time",        "event",   "version",    "platform",
               "props", "duration_ms", "outcome", "sample_rate"};
  int64_t matching = 0;
  FW_ASSIGN_OR_RETURN(Query qc, Query::make(*db_, "SELECT count(*) FROM events_view" + where));
  bind(qc);
  FW_RETURN_IF_ERROR(qc.each([&](sqlite3_stmt* s) { matching = sqlite3_column_int64(s, 0); }));
  FW_ASSIGN_OR_RETURN(Query qr,
                      Query::make(*db_,
                                  "SELECT id, ts, event, app_version, platform, props, duration_ms, "
                                  "outcome, sample_rate FROM events_view" +
                                      where + " ORDER BY id DESC LIMIT :limit OFFSET :offset"));
  bind(qr);
  qr.bind(":limit", q.limit).bind(":offset", q.offset);
  FW_RETURN_IF_ERROR(qr.each([&](sqlite3_stmt* s) {
    json props = json::parse(column_text(s, 5), nullptr, false);
    std::string platform = column_text(s, 4);
    t.rows.push_back(json::array(
        {sqlite3_column_int64(s, 0), utc_time(sqlite3_column_int64(s, 1)), column_text(s, 2),
         column_text(s, 3), platform.empty() ? "unknown" : platform,
         props.is_discarded() ? json::object() : props,
         sqlite3_column_type(s, 6) == SQLITE_NULL ? json(nullptr) : json(sqlite3_column_double(s, 6)),
         column_text(s, 7), sqlite3_column_double(s, 8)}));
  }));
  t.summary["matching"] = matching;
  t.summary["limit"] = q.limit;
  t.summary["offset"] = q.offset;
  t.summary["next_offset"] =
      q.offset + int64_t(t.rows.size()) < matching ? json(q.offset + int64_t(t.rows.size())) : json(nullptr);
  if (t.rows.empty()) t.notes.push_back("no stored events match these filters");
  return t;
}

}  // namespace faceweave
