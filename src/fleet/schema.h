// The fleet's telemetry tables on PostgreSQL (docs/fleet.md, "Fleet telemetry"):
//   faceweave_events        every node's events, partitioned by day of ts (faceweave_events_YYYYMMDD)
//   faceweave_nodes         each node's shipped watermark
//   faceweave_daily_events  rollup: events per day, node, event and outcome (stored and weighted counts)
//   faceweave_daily_users   rollup: a HyperLogLog sketch of the users per day and node (extension hll;
//                           absent when the server lacks it: distinct users are then counted exactly)
// The rollups are kept by the shipper in the transaction of each batch, so they count every event exactly
// once, and they outlive the day partitions that retention drops.
#pragma once

#include <string>

#include "faceweave/status.h"

namespace faceweave::pg {
class Connection;
}

namespace faceweave::fleet {

// Creates what is missing (idempotent, safe from many nodes at once); installs the hll extension when the
// server has it and the login may (otherwise the operator runs CREATE EXTENSION hll once).
Status ensure_schema(pg::Connection& conn);

// Whether faceweave_daily_users exists (the hll extension was available).
Result<bool> has_user_sketches(pg::Connection& conn);

// Adds the events of `node` with after < seq <= last (just copied, same transaction) to the rollups.
Status add_to_rollups(pg::Connection& conn, const std::string& node, int64_t after, int64_t last,
                      bool sketches);

struct Maintenance {
  int ahead_days = 3;      // day partitions made ahead of today (UTC)
  int retention_days = 0;  // day partitions older than this many days are dropped; 0 keeps them all
};
// Makes the partitions ahead and drops those past retention; returns how many were dropped.
Result<int> maintain_partitions(pg::Connection& conn, const Maintenance& m);

}  // namespace faceweave::fleet
