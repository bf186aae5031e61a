// Reading stored events back through events_view, in id order, as TelemetryEventRow.
#pragma once

#include <cstdint>
#include <functional>
#include <string_view>

#include "faceweave/telemetry.h"
#include "telemetry/database.h"

namespace faceweave::telemetry {

// The view's columns, in TelemetryEventRow order.
inline constexpr std::string_view kRowColumns =
    "id, ts, event, user, session, app_version, props, duration_ms, outcome, sample_rate";

// Runs `sql` (which selects kRowColumns, with at most one integer parameter `?1` = `param`) and hands
// each row to `fn`; `fn` returning false stops early.
Status for_each_row(Database& db, std::string_view sql, int64_t param,
                    const std::function<bool(const TelemetryEventRow&)>& fn);

}  // namespace faceweave::telemetry
