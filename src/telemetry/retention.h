// Retention and erasure: events older than the retention limit leave the database, either into a
// zstd-compressed NDJSON archive in the data dir or deleted; sessions (the only place pseudonyms live) go
// with their last event. Erasing a user removes their events and sessions from the database and their lines
// from every archive.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>

#include "faceweave/telemetry.h"
#include "telemetry/database.h"
#include "telemetry/paths.h"

namespace faceweave::telemetry {

enum class RetentionAction { kArchive, kDelete };
Result<RetentionAction> parse_retention_action(std::string_view name);

// Moves or deletes events with ts < now_ms - days. One transaction: the archive file appears (renamed
// into place) before the events are deleted, and is registered in the same transaction, so a crash leaves
// either both or the events still in the database (a file nobody registered is removed next time).
// `cancel` (may be null) aborts cleanly.
Result<TelemetryRetentionReport> apply_retention(Database& db, const std::string& archive_dir, int days,
                                                 RetentionAction action, int64_t now_ms,
                                                 const std::atomic<bool>* cancel = nullptr);

// At most once a day (meta.last_retention_ms): opens its own connection and applies retention. Problems
// are logged, never returned: retention must not stop telemetry.
void run_retention_if_due(const Paths& paths, int days, RetentionAction action, int busy_timeout_ms,
                          const std::atomic<bool>* cancel);

// Removes `pseudonym`'s lines from every archive in `archive_dir`; adds the number removed to `*removed`.
Status forget_in_archives(Database& db, const std::string& archive_dir, std::string_view pseudonym,
                          int64_t* removed);

}  // namespace faceweave::telemetry
