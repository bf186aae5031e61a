// Views the fleet's PostgreSQL answers from its own rollups (schema.h), without reading events:
// distinct users over any range from the per-day HyperLogLog sketches (merged with hll_union_agg), and the
// counters behind /metrics of an API node. Without the hll extension, distinct users are counted exactly
// from the events (slower, and only over days whose partitions are kept), and the answer says so.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "faceweave/analytics.h"
#include "faceweave/status.h"

namespace faceweave::pg {
class Connection;
}

namespace faceweave::fleet {

// View "users": distinct users per day and over the whole range (ISO days, inclusive; empty: open).
Result<InsightsTable> distinct_users(pg::Connection& conn, const std::string& from, const std::string& to);

struct FleetMetrics {
  int64_t nodes = 0;
  std::map<std::string, int64_t> events;  // stored events per event name, every node, every day
  std::map<int, double> users;            // distinct users over the last 1, 7, 30 days (UTC, today included)
  bool exact_users = false;               // no hll extension: counted from the events
};
Result<FleetMetrics> fleet_metrics(pg::Connection& conn);

}  // namespace faceweave::fleet
