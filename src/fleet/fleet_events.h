// The fleet's events, read back from PostgreSQL into an events database of the usual schema, so every
// analytics view (faceweave insights, /insights of an API node) shows the whole fleet with the same code as
// one node. The copy is a replica kept in <scratch>/telemetry/events.db: each sync appends only the events
// shipped since the last one (per node, after the highest seq it holds), and the analytics rollups fold only
// those. Counters that PostgreSQL answers from its own rollups (events per day, distinct users from
// HyperLogLog sketches) are in fleet_views.h.
#pragma once

#include <cstdint>
#include <string>

#include "faceweave/status.h"

namespace faceweave::fleet {

struct FleetCopy {
  std::string data_dir;  // <scratch>: its telemetry/events.db holds the fleet's events
  int64_t events = 0;    // events in the replica
  int64_t added = 0;     // of which this sync added
  int64_t nodes = 0;
};

// Brings <scratch_dir>/telemetry/events.db up to date with faceweave_events. A replica of another database
// (another URL, or a fleet database made afresh) is replaced.
Result<FleetCopy> copy_fleet_events(const std::string& database_url, const std::string& scratch_dir);

}  // namespace faceweave::fleet
