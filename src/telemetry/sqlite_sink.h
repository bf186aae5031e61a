// Stores batches of events into the events database: one IMMEDIATE transaction per batch, prepared
// multi-row INSERTs (256, 16 and 1 rows per statement), explicit ids continuing from meta.last_event_id, and
// each batch's sessions resolved (and created) inside the same transaction. Used by the writer thread only.
// Checkpoints run on a Checkpointer thread of their own.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "telemetry/checkpointer.h"
#include "telemetry/database.h"
#include "telemetry/recorder.h"

namespace faceweave::telemetry {

class SqliteSink : public EventSink {
 public:
  static Result<std::unique_ptr<SqliteSink>> open(const std::string& path, const DatabaseOptions& options);

  Result<IdRange> write(std::span<const Event> events, std::span<const Identity> identities,
                        std::vector<TelemetryEventRow>* rows) override;

  Database& database() { return *db_; }

 private:
  static constexpr int kColumns = 8;
  static constexpr size_t kChunkRows[] = {256, 16, 1};

  Status write_in_transaction(std::span<const Event> events, std::span<const Identity> identities,
                              std::vector<TelemetryEventRow>* rows, IdRange* ids);
  Result<int64_t> session_row(const Identity& identity, int64_t now_ms);

  std::unique_ptr<Checkpointer> checkpointer_;  // declared before db_: the hook it installs dies with db_
  std::unique_ptr<Database> db_;
  Statement insert_[3];
  Statement begin_, commit_, rollback_, last_id_, save_last_id_, upsert_session_, find_session_;
  std::string props_;                  // the props JSON of one chunk, back to back
  std::vector<size_t> props_offsets_;  // where each row's props start in props_
  std::vector<int64_t> session_of_slot_;
};

}  // namespace faceweave::telemetry
