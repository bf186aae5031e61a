// Fleet telemetry (docs/fleet.md): a node's local events shipped to the fleet's PostgreSQL, and the fleet's
// events read back for the analytics views.
#pragma once

#include <cstdint>
#include <string>

#include "faceweave/status.h"

namespace faceweave {

struct TelemetryShipReport {
  std::string node_id;
  int64_t shipped = 0;      // events copied by this call
  int64_t shipped_seq = 0;  // the node's highest event id now in PostgreSQL
};

// Ships the committed events of <data_dir>/telemetry/events.db not yet in PostgreSQL (exactly once).
Result<TelemetryShipReport> ship_telemetry(const std::string& data_dir, const std::string& database_url);

// Copies the fleet's events into <data_dir>/fleet-insights (an events database of the usual schema) and
// returns that folder, for Analytics::open.
Result<std::string> fleet_insights_dir(const std::string& data_dir, const std::string& database_url);

}  // namespace faceweave
