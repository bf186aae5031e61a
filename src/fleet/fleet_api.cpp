#include <filesystem>

#include "faceweave/fleet.h"
#include "faceweave/telemetry.h"
#include "fleet/event_shipper.h"
#include "fleet/fleet_events.h"
#include "fleet/fleet_views.h"
#include "pg/connection.h"

namespace faceweave {
namespace fs = std::filesystem;

Result<TelemetryShipReport> ship_telemetry(const std::string& data_dir, const std::string& database_url,
                                           int retention_days) {
  if (database_url.empty())
    return invalid_argument(
        "give the fleet's database: --database-url postgres://user:password@host:5432/db "
        "(or FACEWEAVE_DATABASE_URL)");
  fleet::ShipOptions options;
  options.events_db = (fs::path(resolve_data_dir(data_dir)) / "telemetry" / "events.db").string();
  options.database_url = database_url;
  options.retention_days = retention_days;
  FW_ASSIGN_OR_RETURN(auto report, fleet::ship_events(options));
  return TelemetryShipReport{report.node_id, report.shipped, report.shipped_seq, report.partitions_dropped};
}

Result<std::string> fleet_insights_dir(const std::string& data_dir, const std::string& database_url) {
  const std::string scratch = (fs::path(resolve_data_dir(data_dir)) / "fleet-insights").string();
  FW_ASSIGN_OR_RETURN(auto copy, fleet::copy_fleet_events(database_url, scratch));
  return copy.data_dir;
}

void interrupt_fleet_connections() {
  pg::interrupt_connections();
}

Result<InsightsTable> fleet_users(const std::string& database_url, const std::string& from,
                                  const std::string& to) {
  FW_ASSIGN_OR_RETURN(auto conn, pg::Connection::connect(database_url, "faceweave insights"));
  return fleet::distinct_users(*conn, from, to);
}

}  // namespace faceweave
