// Ships a node's telemetry to the fleet's PostgreSQL. The local events database is the outbox: events are
// committed there first (the recorder never waits for the network), then copied in batches with COPY into
// faceweave_events (partitioned by day), keyed by (node_id, seq, ts) where seq is the local event id (never
// reused). The highest shipped seq of each node is kept in PostgreSQL (faceweave_nodes), updated in the same
// transaction as the rows and under a per-node advisory lock, so a crash or restart of either side neither
// loses nor duplicates an event: the next run starts after what was committed. A node that cannot reach the
// database keeps recording locally and catches up later. Thread contract: one shipper per thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>

#include "faceweave/status.h"

namespace faceweave::fleet {

struct ShipOptions {
  std::string events_db;     // <data dir>/telemetry/events.db
  std::string database_url;  // postgres://...
  std::string node_id;       // empty: node_id() of the data dir
  int batch = 5000;          // rows per COPY and transaction
  // Partition maintenance (schema.h) before shipping: partitions made ahead, and those past the
  // retention dropped (0 keeps every day).
  bool maintain = true;
  int ahead_days = 3;
  int retention_days = 0;
};

struct ShipReport {
  std::string node_id;
  int64_t shipped = 0;      // rows copied by this call
  int64_t shipped_seq = 0;  // the highest seq of this node now in PostgreSQL
  int64_t batches = 0;
  int partitions_dropped = 0;  // by the maintenance of this call
};

// This node's id: <telemetry dir>/node_id, made (16 random hex digits) on first use.
Result<std::string> node_id(const std::string& telemetry_dir);

// Creates the fleet's events tables when missing (idempotent, safe from many nodes at once).
Status ensure_events_schema(const std::string& database_url);

// Ships every committed event after the node's watermark, batch by batch.
Result<ShipReport> ship_events(const ShipOptions& options);

// Partition maintenance alone (schema.h): returns how many day partitions were dropped.
Result<int> maintain_events(const std::string& database_url, int ahead_days, int retention_days);

// Ships in the background every `interval_ms`, backing off (up to a minute) while the database is
// unreachable; errors are logged, never fatal.
// With options.maintain, partition maintenance runs at start and then once an hour.
class BackgroundShipper {
 public:
  BackgroundShipper(ShipOptions options, int interval_ms);
  ~BackgroundShipper();  // a last shipment, then stops

 private:
  void loop();
  ShipOptions options_;
  int interval_ms_;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

}  // namespace faceweave::fleet
