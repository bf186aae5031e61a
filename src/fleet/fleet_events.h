// The fleet's events, read back from PostgreSQL into an events database of the usual schema, so every
// analytics view (faceweave insights, /insights) shows the whole fleet with the same code as one node.
// The copy is made afresh each time (a scratch folder): fine for the history of a studio; past a few
// million events the views belong on PostgreSQL itself (docs/fleet.md says what is left).
#pragma once

#include <cstdint>
#include <string>

#include "faceweave/status.h"

namespace faceweave::fleet {

struct FleetCopy {
  std::string data_dir;  // <scratch>: its telemetry/events.db holds the fleet's events
  int64_t events = 0;
  int64_t nodes = 0;
};

// Copies every event of faceweave_events into <scratch_dir>/telemetry/events.db (replacing it).
Result<FleetCopy> copy_fleet_events(const std::string& database_url, const std::string& scratch_dir);

}  // namespace faceweave::fleet
