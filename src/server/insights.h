// The analytics routes of the REST API (docs/api.md, "Insights") behind the /insights dashboard:
//
//   GET /api/insights                 the views with a one-line explanation, the versions with data, the
//                                     A/B metrics, and whether a telemetry database exists yet
//   GET /api/insights/{view}          one view as JSON (InsightsTable::to_json) or CSV (format=csv)
//   GET /api/insights/stream          server-sent events: `telemetry` when new events are stored, `job` when
//                                     a job changes state; keep-alive comments; ends on shutdown
//
// One Analytics object is shared by every request (it belongs to one thread at a time, so a mutex guards
// it). It is opened on the first request that finds the events database, so a server started before any
// telemetry exists answers empty states until the first event is stored. Parameters are checked here,
// before the database is touched, so bad input is a 400 naming the parameter and never a 500.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include "faceweave/analytics.h"

struct sqlite3;

namespace faceweave::server {

struct HttpRequest;
struct HttpResponse;

// GET /api/insights/experiments[/{name}] (insights_experiments.cpp).
HttpResponse experiments_response(const std::string& data_dir, const HttpRequest& request);

class Insights {
 public:
  explicit Insights(std::string data_dir);  // empty: no database (every view is an empty state)
  // A fleet node: the views show every node's events, read from the replica in <data_dir>/fleet-insights
  // that is brought up to date from PostgreSQL (fleet.h) at most every kFleetSync; view "users" is answered
  // by PostgreSQL's HyperLogLog sketches.
  Insights(std::string data_dir, std::string fleet_database_url);
  ~Insights();
  Insights(const Insights&) = delete;
  Insights& operator=(const Insights&) = delete;

  static bool owns(const std::string& path) { return path.rfind("/api/insights", 0) == 0; }
  HttpResponse handle(const HttpRequest& request);

  // A job changed state or progressed (JobRunner::on_change): open streams send a `job` event.
  void job_changed(const std::string& id);
  // Ends every open stream (the server is shutting down); new streams are refused with 503.
  void stop();

  // At most this many streams at once (each holds a server worker).
  static constexpr int kMaxStreams = 8;
  // How often a stream looks for new events and how long it stays silent before a keep-alive comment.
  static constexpr std::chrono::milliseconds kPollInterval{1000};
  static constexpr std::chrono::milliseconds kKeepAlive{5000};
  static constexpr std::chrono::milliseconds kFleetSync{2000};

 private:
  struct Stream;
  HttpResponse index();
  HttpResponse view(const std::string& name, const HttpRequest& request);
  HttpResponse events(const HttpRequest& request);  // GET /api/insights/events: the raw event explorer
  HttpResponse stream();
  // The largest event id in the database (0 when there is none), read at most once per kPollInterval.
  int64_t events_max_id();
  // The shared Analytics, opened when the database exists; null (and `why` set) otherwise.
  Analytics* analytics(std::string& why);
  // A fleet node: appends what the fleet shipped since the last sync (at most every kFleetSync); a failure
  // keeps the replica as it was and is returned.
  Status sync_fleet();
  HttpResponse fleet_users(const HttpRequest& request);

  std::string data_dir_;
  std::string database_path_;
  std::string fleet_url_, node_data_dir_;
  std::mutex sync_mutex_;
  std::chrono::steady_clock::time_point synced_at_{};
  Status sync_status_ = Status::ok();

  std::mutex analytics_mutex_;
  std::unique_ptr<Analytics> analytics_;

  std::mutex poll_mutex_;
  sqlite3* reader_ = nullptr;
  int64_t polled_max_id_ = 0;
  std::chrono::steady_clock::time_point polled_at_{};

  std::mutex live_mutex_;
  std::condition_variable live_cv_;
  bool stopping_ = false;
  int streams_ = 0;
  uint64_t job_seq_ = 0;
  std::string last_job_;
};

}  // namespace faceweave::server
