// Fleet telemetry (docs/fleet.md): a node's local events shipped to the fleet's PostgreSQL, and the fleet's
// events read back for the analytics views.
#pragma once

#include <cstdint>
#include <string>

#include "faceweave/analytics.h"
#include "faceweave/status.h"

namespace faceweave {

struct TelemetryShipReport {
  std::string node_id;
  int64_t shipped = 0;         // events copied by this call
  int64_t shipped_seq = 0;     // the node's highest event id now in PostgreSQL
  int partitions_dropped = 0;  // day partitions past the retention, dropped after shipping
};

// Ships the committed events of <data_dir>/telemetry/events.db not yet in PostgreSQL (exactly once), then
// makes the day partitions of the next days and, with retention_days > 0, drops those older than that.
Result<TelemetryShipReport> ship_telemetry(const std::string& data_dir, const std::string& database_url,
                                           int retention_days = 0);

// Brings the replica of the fleet's events in <data_dir>/fleet-insights (an events database of the usual
// schema) up to date, appending what was shipped since the last call, and returns that folder, for
// Analytics::open.
Result<std::string> fleet_insights_dir(const std::string& data_dir, const std::string& database_url);

// Makes every PostgreSQL connection attempt of this process give up within about a second: a node that is
// stopping (SIGTERM) never waits for a name lookup or a server that does not answer. Signal-safe.
void interrupt_fleet_connections();

// View "users" of the fleet: distinct users per day and over [from, to] (ISO days, inclusive, empty: open)
// from PostgreSQL's per-day HyperLogLog sketches; an exact count when the hll extension is missing (the
// table's summary.method says which).
Result<InsightsTable> fleet_users(const std::string& database_url, const std::string& from,
                                  const std::string& to);

}  // namespace faceweave
