#include "fleet/fleet_views.h"

#include <regex>

#include "fleet/schema.h"
#include "pg/connection.h"

namespace faceweave::fleet {
namespace {

Status check_day(const std::string& day, const char* flag) {
  static const std::regex kDay(R"(\d{4}-\d{2}-\d{2})");
  if (day.empty() || std::regex_match(day, kDay)) return Status::ok();
  return invalid_argument(std::string(flag) + " must be a day as YYYY-MM-DD (got '" + day.substr(0, 40) +
                          "')");
}

const char* kExactNote =
    "exact count from the events: the fleet's PostgreSQL lacks the hll extension (install Debian's "
    "postgresql-15-hll and run CREATE EXTENSION hll as a superuser for HyperLogLog sketches); days whose "
    "partitions were dropped count no one";

}  // namespace

Result<InsightsTable> distinct_users(pg::Connection& conn, const std::string& from, const std::string& to) {
  FW_RETURN_IF_ERROR(check_day(from, "--from"));
  FW_RETURN_IF_ERROR(check_day(to, "--to"));
  FW_RETURN_IF_ERROR(ensure_schema(conn));
  FW_ASSIGN_OR_RETURN(const bool sketches, has_user_sketches(conn));
  const pg::Params range{from.empty() ? std::nullopt : std::optional<std::string>(from),
                         to.empty() ? std::nullopt : std::optional<std::string>(to)};
  // Per day and over the range: the sketches of every node and day merged (a union, never a sum), or
  // distinct pseudonyms of the kept events.
  const std::string per_day =
      sketches ? "SELECT day::text, round(hll_cardinality(hll_union_agg(users))) FROM faceweave_daily_users "
                 "WHERE ($1::date IS NULL OR day >= $1::date) AND ($2::date IS NULL OR day <= $2::date) "
                 "GROUP BY day ORDER BY day"
               : "SELECT faceweave_day(ts)::text, count(DISTINCT user_hash) FROM faceweave_events "
                 "WHERE user_hash <> '' AND ($1::date IS NULL OR faceweave_day(ts) >= $1::date) AND "
                 "($2::date IS NULL OR faceweave_day(ts) <= $2::date) GROUP BY 1 ORDER BY 1";
  const std::string total =
      sketches
          ? "SELECT coalesce(round(hll_cardinality(hll_union_agg(users))), 0) FROM faceweave_daily_users "
            "WHERE ($1::date IS NULL OR day >= $1::date) AND ($2::date IS NULL OR day <= $2::date)"
          : "SELECT count(DISTINCT user_hash) FROM faceweave_events WHERE user_hash <> '' AND "
            "($1::date IS NULL OR faceweave_day(ts) >= $1::date) AND "
            "($2::date IS NULL OR faceweave_day(ts) <= $2::date)";
  FW_ASSIGN_OR_RETURN(auto days, conn.exec(per_day, range));
  FW_ASSIGN_OR_RETURN(auto sum, conn.exec(total, range));
  InsightsTable t;
  t.view = "users";
  t.title = "Distinct users of the fleet per day (UTC) and over the range";
  t.columns = {"day", "users"};
  for (int i = 0; i < days.size(); ++i)
    t.rows.push_back(nlohmann::json::array({days.text(i, 0), days.int64(i, 1)}));
  t.summary["users"] = sum.size() ? sum.int64(0, 0) : 0;
  t.summary["days"] = days.size();
  t.summary["method"] = sketches ? "hll" : "exact";
  t.notes.push_back(sketches ? "HyperLogLog sketches per day and node (about 2% error); a person who uses "
                               "two nodes counts twice (pseudonyms are per node)"
                             : kExactNote);
  if (days.size() == 0) t.notes.push_back("no events in this range");
  return t;
}

Result<FleetMetrics> fleet_metrics(pg::Connection& conn) {
  FW_RETURN_IF_ERROR(ensure_schema(conn));
  FleetMetrics m;
  FW_ASSIGN_OR_RETURN(auto nodes, conn.exec("SELECT count(*) FROM faceweave_nodes"));
  m.nodes = nodes.int64(0, 0);
  FW_ASSIGN_OR_RETURN(
      auto events, conn.exec("SELECT event, sum(events) FROM faceweave_daily_events GROUP BY 1 ORDER BY 1"));
  for (int i = 0; i < events.size(); ++i) m.events[events.text(i, 0)] = events.int64(i, 1);
  FW_ASSIGN_OR_RETURN(const bool sketches, has_user_sketches(conn));
  m.exact_users = !sketches;
  for (int window : {1, 7, 30}) {
    const std::string since = "(now() AT TIME ZONE 'UTC')::date - " + std::to_string(window - 1);
    FW_ASSIGN_OR_RETURN(
        auto users,
        conn.exec(sketches ? "SELECT coalesce(hll_cardinality(hll_union_agg(users)), 0) FROM "
                             "faceweave_daily_users WHERE day >= " +
                                 since
                           : "SELECT count(DISTINCT user_hash) FROM faceweave_events WHERE user_hash <> '' "
                             "AND ts >= (" +
                                 since + " - date '1970-01-01')::bigint * 86400000"));
    m.users[window] = users.real(0, 0);
  }
  return m;
}

}  // namespace faceweave::fleet
