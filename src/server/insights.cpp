#include "server/insights.h"

#include <sqlite3.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>

#include "core/log.h"
#include "faceweave/fleet.h"
#include "server/api.h"

namespace faceweave::server {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// One line per view for the dashboard: what the chart answers. A view added to the analytics module later
// falls back to its table's title.
const std::map<std::string, std::string>& explanations() {
  static const std::map<std::string, std::string> kLines = {
      {"usage", "Share of each day's swap runs that set an option value: which options people use."},
      {"heatmap", "Swap runs by weekday and hour of day (UTC): when faceweave is used."},
      {"actions", "Actions per control in the web UI, and options set from the CLI or the API."},
      {"errors", "Failed swap runs per run, per day and version, in total and by error code."},
      {"latency", "Where processing time goes: each stage's share of the time, per output resolution."},
      {"defaults", "On-by-default options that users switched, as a share of active users."},
      {"funnel", "Users who uploaded, and of those who also previewed, ran a job and downloaded."},
      {"retention", "Of the users first seen in the range, the share active again in each later week."},
      {"ab", "Two versions compared on a rate metric: difference, confidence interval, verdict."},
      {"users", "Distinct active users per day and over the whole range (HyperLogLog, error 0.81%)."},
  };
  return kLines;
}

std::string explanation(const std::string& view) {
  auto it = explanations().find(view);
  return it == explanations().end() ? std::string() : it->second;
}

std::string joined(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& i : items) out += (out.empty() ? "" : ", ") + i;
  return out;
}

HttpResponse json_ok(const json& body) {
  HttpResponse r;
  r.body = body.dump();
  r.headers.emplace_back("Cache-Control", "no-store");
  return r;
}

const std::string* param(const HttpRequest& req, const std::string& key) {
  auto it = req.query.find(key);
  return it == req.query.end() ? nullptr : &it->second;
}

// A number parameter within [min, max] (open ends where `open` says so); an error response otherwise.
std::optional<HttpResponse> read_number(const HttpRequest& req, const std::string& key, double& out,
                                        double min, double max, bool open_min, bool open_max,
                                        const std::string& range) {
  const std::string* v = param(req, key);
  if (!v) return std::nullopt;
  double d = 0;
  bool ok = false;
  try {
    size_t used = 0;
    d = std::stod(*v, &used);
    ok = used == v->size() && std::isfinite(d);
  } catch (...) {
  }
  if (ok) ok = (open_min ? d > min : d >= min) && (open_max ? d < max : d <= max);
  if (!ok)
    return Api::error(400, "invalid_argument",
                      key + " must be a number " + range + " (got '" + v->substr(0, 24) + "')", key);
  out = d;
  return std::nullopt;
}

// Empty strings are fine (open-ended); anything else must be a valid day.
std::optional<HttpResponse> read_day(const HttpRequest& req, const std::string& key, std::string& out,
                                     int64_t& day) {
  const std::string* v = param(req, key);
  if (!v || v->empty()) return std::nullopt;
  auto parsed = parse_iso_day(*v, key);
  if (!parsed)
    return Api::error(400, "invalid_argument",
                      key + " must be a date as YYYY-MM-DD (got '" + v->substr(0, 24) + "')", key);
  out = *v;
  day = *parsed;
  return std::nullopt;
}

json empty_table(const std::string& view, const std::string& note) {
  InsightsTable t;
  t.view = view;
  t.title = explanation(view);
  t.notes.push_back(note);
  return t.to_json();
}

const char* kNoDatabase =
    "No telemetry has been recorded yet: use faceweave with telemetry on, or make demo data with "
    "'faceweave telemetry simulate --users 200 --days 28'.";

}  // namespace

struct Insights::Stream {
  explicit Stream(Insights* o) : owner(o) {}
  Insights* owner;
  bool greeted = false;
  int64_t last_id = 0;
  uint64_t job_seq = 0;
  std::chrono::steady_clock::time_point last_write = std::chrono::steady_clock::now();
  ~Stream() {
    std::lock_guard lock(owner->live_mutex_);
    --owner->streams_;
  }
};

Insights::Insights(std::string data_dir)
    : data_dir_(std::move(data_dir)),
      database_path_((fs::path(data_dir_) / "telemetry" / "events.db").string()) {}

Insights::Insights(std::string data_dir, std::string fleet_database_url)
    : Insights(fleet_database_url.empty() ? data_dir : (fs::path(data_dir) / "fleet-insights").string()) {
  fleet_url_ = std::move(fleet_database_url);
  node_data_dir_ = std::move(data_dir);
}

Status Insights::sync_fleet() {
  if (fleet_url_.empty()) return Status::ok();
  std::lock_guard lock(sync_mutex_);
  const auto now = std::chrono::steady_clock::now();
  if (synced_at_ != std::chrono::steady_clock::time_point{} && now - synced_at_ < kFleetSync)
    return sync_status_;
  synced_at_ = now;
  auto dir = fleet_insights_dir(node_data_dir_, fleet_url_);
  if (!dir && sync_status_.is_ok())
    core::log_warning("the fleet's insights are not up to date: " + dir.status().message());
  sync_status_ = dir.status();
  return sync_status_;
}

HttpResponse Insights::fleet_users(const HttpRequest& req) {
  std::string from, to;
  int64_t from_day = 0, to_day = 0;
  if (auto bad = read_day(req, "from", from, from_day)) return *bad;
  if (auto bad = read_day(req, "to", to, to_day)) return *bad;
  auto t = faceweave::fleet_users(fleet_url_, from, to);
  if (!t) {
    const Status& s = t.status();
    return Api::error(s.code() == StatusCode::kInvalidArgument ? 400 : 503,
                      s.code() == StatusCode::kInvalidArgument ? "invalid_argument" : "unavailable",
                      s.message());
  }
  return json_ok(t->to_json());
}

Insights::~Insights() {
  stop();
  if (reader_) sqlite3_close(reader_);
}

void Insights::stop() {
  {
    std::lock_guard lock(live_mutex_);
    stopping_ = true;
  }
  live_cv_.notify_all();
}

void Insights::job_changed(const std::string& id) {
  {
    std::lock_guard lock(live_mutex_);
    ++job_seq_;
    last_job_ = id;
  }
  live_cv_.notify_all();
}

Analytics* Insights::analytics(std::string& why) {
  // Called with analytics_mutex_ held.
  const Status synced = sync_fleet();
  if (analytics_) return analytics_.get();
  if (!synced.is_ok()) {
    why = "The fleet's telemetry cannot be read: " + synced.message();
    return nullptr;
  }
  std::error_code ec;
  if (data_dir_.empty() || !fs::exists(database_path_, ec)) {
    why = kNoDatabase;
    return nullptr;
  }
  auto a = Analytics::open(data_dir_);
  if (!a) {
    why = a.status().code() == StatusCode::kNotFound
              ? std::string(kNoDatabase)
              : "The telemetry database cannot be read: " + a.status().message();
    return nullptr;
  }
  analytics_ = std::move(*a);
  return analytics_.get();
}

int64_t Insights::events_max_id() {
  std::lock_guard lock(poll_mutex_);
  const auto now = std::chrono::steady_clock::now();
  if (polled_at_ != std::chrono::steady_clock::time_point{} && now - polled_at_ < kPollInterval / 2)
    return polled_max_id_;
  polled_at_ = now;
  (void)sync_fleet();
  if (!reader_) {
    std::error_code ec;
    if (data_dir_.empty() || !fs::exists(database_path_, ec)) return polled_max_id_ = 0;
    if (sqlite3_open_v2(database_path_.c_str(), &reader_, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
      sqlite3_close(reader_);
      reader_ = nullptr;
      return polled_max_id_;
    }
    sqlite3_busy_timeout(reader_, 200);
  }
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(reader_, "SELECT coalesce(max(id), 0) FROM events", -1, &st, nullptr) == SQLITE_OK &&
      sqlite3_step(st) == SQLITE_ROW)
    polled_max_id_ = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  return polled_max_id_;
}

HttpResponse Insights::handle(const HttpRequest& req) {
  const std::string rest = req.path.substr(std::string("/api/insights").size());
  if (!rest.empty() && rest[0] != '/')
    return Api::error(404, "not_found",
                      "no route " + req.path.substr(0, 80) + " (docs/api.md lists the API)");
  if (req.method != "GET") {
    HttpResponse r = Api::error(405, "method_not_allowed",
                                req.method + " is not allowed on " + req.path.substr(0, 80) + " (use GET)");
    r.headers.emplace_back("Allow", "GET");
    return r;
  }
  if (rest.empty() || rest == "/") return index();
  const std::string name = rest.substr(1);
  if (name == "stream") return stream();
  if (name == "events") return events(req);
  // Experiments on defaults (insights_experiments.cpp): their own connection, not the shared Analytics.
  if (name == "experiments" || name.rfind("experiments/", 0) == 0)
    return experiments_response(data_dir_, req);
  return view(name, req);
}

HttpResponse Insights::events(const HttpRequest& req) {
  EventQuery q;
  int64_t from_day = 0, to_day = 0;
  if (auto bad = read_day(req, "from", q.from, from_day)) return *bad;
  if (auto bad = read_day(req, "to", q.to, to_day)) return *bad;
  if (const std::string* v = param(req, "event")) q.event = v->substr(0, 64);
  double limit = 50, offset = 0;
  if (auto bad = read_number(req, "limit", limit, 1, 1000, false, false, "of whole rows from 1 to 1000"))
    return *bad;
  if (auto bad = read_number(req, "offset", offset, 0, 1e15, false, false, "of 0 or more rows")) return *bad;
  q.limit = int64_t(limit);
  q.offset = int64_t(offset);
  // prop=KEY:VALUE (one filter; the CLI takes several).
  if (const std::string* v = param(req, "prop")) {
    auto colon = v->find(':');
    if (colon == std::string::npos)
      return Api::error(400, "invalid_argument", "prop must be KEY:VALUE, e.g. prop=fallback:true", "prop");
    q.props.emplace_back(v->substr(0, colon), v->substr(colon + 1));
  }
  std::lock_guard lock(analytics_mutex_);
  std::string why;
  Analytics* a = analytics(why);
  if (!a) return json_ok(empty_table("events", why));
  auto t = a->events(q);
  if (!t) {
    const Status& s = t.status();
    if (s.code() == StatusCode::kInvalidArgument) {
      const std::string& m = s.message();
      std::string field = m.find("event") != std::string::npos  ? "event"
                          : m.find("prop") != std::string::npos ? "prop"
                                                                : "";
      return Api::error(400, "invalid_argument", m, field);
    }
    return Api::error(Api::http_status(s.code()), status_code_name(s.code()), s.message());
  }
  return json_ok(t->to_json());
}

HttpResponse Insights::index() {
  json views = json::array();
  for (const auto& v : Analytics::views()) views.push_back({{"name", v}, {"explanation", explanation(v)}});
  json body{{"views", views},
            {"ab_metrics", Analytics::ab_metrics()},
            {"versions", json::array()},
            {"profiles", json::array()},
            {"platforms", json::array()}};
  std::lock_guard lock(analytics_mutex_);
  std::string why;
  Analytics* a = analytics(why);
  body["database"] = a != nullptr;
  body["notes"] = json::array();
  if (!a) {
    body["notes"].push_back(why);
  } else if (auto versions = a->versions()) {
    body["versions"] = *versions;
    if (versions->empty()) body["notes"].push_back("The telemetry database has no events yet.");
    if (auto platforms = a->platforms()) body["platforms"] = *platforms;
    if (auto profiles = a->profiles()) body["profiles"] = *profiles;
  } else {
    return Api::error(Api::http_status(versions.status().code()), status_code_name(versions.status().code()),
                      versions.status().message());
  }
  body["events_max_id"] = events_max_id();
  return json_ok(body);
}

HttpResponse Insights::view(const std::string& name, const HttpRequest& req) {
  if (name == "users" && !fleet_url_.empty()) return fleet_users(req);
  const auto& views = Analytics::views();
  if (name.find('/') != std::string::npos || std::find(views.begin(), views.end(), name) == views.end())
    return Api::error(404, "not_found",
                      "unknown view '" + name.substr(0, 40) + "'; the views are: " + joined(views), "view");

  InsightsFilter filter;
  int64_t from_day = 0, to_day = 0;
  if (auto bad = read_day(req, "from", filter.from, from_day)) return *bad;
  if (auto bad = read_day(req, "to", filter.to, to_day)) return *bad;
  if (!filter.from.empty() && !filter.to.empty() && from_day > to_day)
    return Api::error(400, "invalid_argument",
                      "from (" + filter.from + ") is after to (" + filter.to + "); swap them", "from");
  if (const std::string* v = param(req, "version")) filter.version = *v;
  if (const std::string* v = param(req, "platform")) filter.platform = *v;
  if (filter.version.size() > 64)
    return Api::error(400, "invalid_argument", "version is too long", "version");
  if (filter.platform.size() > 64)
    return Api::error(400, "invalid_argument", "platform is too long", "platform");

  std::string format = "json";
  if (const std::string* v = param(req, "format")) format = *v;
  if (format != "json" && format != "csv")
    return Api::error(400, "invalid_argument", "format must be json or csv", "format");

  AbOptions ab;
  std::string by;
  if (const std::string* v = param(req, "by")) by = *v;
  const bool ab_by = name == "ab";
  if (ab_by && !by.empty() && by != "version" && by != "profile")
    return Api::error(400, "invalid_argument",
                      "by must be version (the default) or profile: what the A/B's arms are", "by");
  if (const std::string* v = param(req, "metric")) {
    if (v->size() > 80) return Api::error(400, "invalid_argument", "metric is too long", "metric");
    if (Status s = Analytics::check_ab_metric(*v, ab_by ? by : std::string()); !s.is_ok())
      return Api::error(400, "invalid_argument", s.message(), "metric");
    ab.metric = *v;
  }
  if (const std::string* v = param(req, "a")) ab.a = *v;
  if (const std::string* v = param(req, "b")) ab.b = *v;
  if (ab.a.size() > 64 || ab.b.size() > 64)
    return Api::error(400, "invalid_argument", "a and b are app versions or profiles; this one is too long",
                      ab.a.size() > 64 ? "a" : "b");
  if (auto bad = read_number(req, "alpha", ab.alpha, 0, 1, true, true, "between 0 and 1")) return *bad;
  if (auto bad = read_number(req, "power", ab.power, 0, 1, true, true, "between 0 and 1")) return *bad;
  if (auto bad = read_number(req, "mde", ab.mde, 0, 1, false, true, "from 0 (the default) to below 1"))
    return *bad;
  if (auto bad = read_number(req, "min_sample", ab.min_sample, 0, 1e12, false, false, "of 0 or more"))
    return *bad;
  if (auto bad =
          read_number(req, "expected_share_a", ab.expected_share_a, 0, 1, true, true, "between 0 and 1"))
    return *bad;
  if (const std::string* v = param(req, "media")) {
    if (*v != "image" && *v != "video" && !v->empty())
      return Api::error(400, "invalid_argument", "media must be image or video", "media");
    filter.media = *v;
  }
  if (const std::string* v = param(req, "by"); v && !ab_by) {
    if (*v != "resolution" && *v != "input" && !v->empty())
      return Api::error(400, "invalid_argument",
                        "by must be resolution (the output's) or input (the target's)", "by");
    filter.by = *v;
  }
  if (ab_by) filter.by = by;
  if (const std::string* v = param(req, "with")) {
    if (v->size() > 80 || (!v->empty() && v->find('=') == std::string::npos))
      return Api::error(400, "invalid_argument", "with must be OPTION=VALUE (e.g. color_match=none)", "with");
    filter.with = *v;
  }
  double k = InsightsFilter::kDefaultK;
  if (auto bad = read_number(req, "k", k, 1, 1000, false, false, "of whole users from 1 to 1000"))
    return *bad;
  if (k != std::floor(k))
    return Api::error(400, "invalid_argument", "k must be a whole number from 1 to 1000", "k");
  filter.k = int(k);
  double weeks = 8;
  if (auto bad = read_number(req, "weeks", weeks, 1, 52, false, false, "of whole weeks from 1 to 52"))
    return *bad;
  if (weeks != std::floor(weeks))
    return Api::error(400, "invalid_argument", "weeks must be a whole number from 1 to 52", "weeks");

  json table;
  std::string csv;
  {
    std::lock_guard lock(analytics_mutex_);
    std::string why;
    Analytics* a = analytics(why);
    if (!a) {
      table = empty_table(name, why);
    } else {
      auto t = a->view(name, filter, ab, int(weeks));
      if (!t) {
        const Status& s = t.status();
        // A/B without named arms in a range where fewer than two versions have runs: nothing to compare,
        // an empty state rather than bad input (every parameter was checked above).
        // By profile the version and platform filters apply, so a filter can leave fewer than two.
        const bool nothing_to_compare =
            name == "ab" && s.code() == StatusCode::kInvalidArgument && ab.a.empty() && ab.b.empty() &&
            ((filter.version.empty() && filter.platform.empty()) ||
             (filter.by == "profile" && s.message().find("needs two profiles") != std::string::npos));
        if (nothing_to_compare) {
          table = empty_table(name, "Nothing to compare: " + s.message());
        } else if (s.code() == StatusCode::kInvalidArgument) {
          // The analytics module names what it refused in its message (a platform filter, a version of an
          // A/B arm); the field is the parameter that carried it.
          std::string field;
          const std::string& m = s.message();
          if (!filter.platform.empty() && m.find("platform") != std::string::npos) {
            field = "platform";
          } else if (name == "ab" && !filter.version.empty() && m.find("version") != std::string::npos &&
                     m.find("--a") != std::string::npos) {
            field = "version";  // ab compares versions: a and b, not the version filter
          } else if (name == "ab" && m.find("--a") != std::string::npos) {
            field = "b";
          }
          return Api::error(400, "invalid_argument", s.message(), field);
        } else if (s.code() == StatusCode::kNotFound) {
          table = empty_table(name, s.message());
        } else {
          return Api::error(Api::http_status(s.code()), status_code_name(s.code()), s.message());
        }
      } else {
        if (t->rows.empty() && t->notes.empty()) {
          std::string note = "No events match these filters.";
          if (!filter.version.empty()) {
            auto versions = a->versions();
            if (versions && std::find(versions->begin(), versions->end(), filter.version) == versions->end())
              note = "Version " + filter.version + " has no data; versions with data: " + joined(*versions) +
                     ".";
          }
          t->notes.push_back(note);
        }
        if (format == "csv")
          csv = t->to_csv();
        else
          table = t->to_json();
      }
    }
  }
  if (format == "json") return json_ok(table);
  if (csv.empty()) {  // the empty state: the header of no columns
    InsightsTable t;
    csv = t.to_csv();
  }
  HttpResponse r;
  r.content_type = "text/csv; charset=utf-8";
  r.body = std::move(csv);
  std::string file = "faceweave-insights-" + name;
  if (!filter.from.empty()) file += "-from-" + filter.from;
  if (!filter.to.empty()) file += "-to-" + filter.to;
  r.headers.emplace_back("Content-Disposition", "attachment; filename=\"" + file + ".csv\"");
  r.headers.emplace_back("Cache-Control", "no-store");
  return r;
}

HttpResponse Insights::stream() {
  {
    std::lock_guard lock(live_mutex_);
    if (stopping_) return Api::error(503, "unavailable", "the server is shutting down");
    if (streams_ >= kMaxStreams)
      return Api::error(503, "unavailable",
                        "too many live streams are open (" + std::to_string(kMaxStreams) +
                            "); close a dashboard tab or retry later");
    ++streams_;
  }
  auto s = std::make_shared<Stream>(this);
  s->last_id = events_max_id();
  {
    std::lock_guard lock(live_mutex_);
    s->job_seq = job_seq_;
  }
  HttpResponse r;
  r.content_type = "text/event-stream";
  r.headers.emplace_back("Cache-Control", "no-store");
  r.headers.emplace_back("X-Accel-Buffering", "no");
  r.stream = [s](std::string& out) {
    Insights& self = *s->owner;
    if (!s->greeted) {
      s->greeted = true;
      out = "retry: 3000\nevent: hello\ndata: " + json{{"events_max_id", s->last_id}}.dump() + "\n\n";
      s->last_write = std::chrono::steady_clock::now();
      return true;
    }
    std::string job;
    {
      std::unique_lock lock(self.live_mutex_);
      self.live_cv_.wait_for(lock, kPollInterval,
                             [&] { return self.stopping_ || self.job_seq_ != s->job_seq; });
      if (self.stopping_) return false;
      if (self.job_seq_ != s->job_seq) {
        s->job_seq = self.job_seq_;
        job = self.last_job_;
      }
    }
    if (!job.empty()) out += "event: job\ndata: " + json{{"id", job}}.dump() + "\n\n";
    const int64_t max_id = self.events_max_id();
    if (max_id != s->last_id) {
      out += "event: telemetry\ndata: " +
             json{{"events_max_id", max_id}, {"new", std::max<int64_t>(0, max_id - s->last_id)}}.dump() +
             "\n\n";
      s->last_id = max_id;
    }
    const auto now = std::chrono::steady_clock::now();
    if (out.empty() && now - s->last_write >= kKeepAlive) out = ": keep-alive\n\n";
    if (!out.empty()) s->last_write = now;
    return true;
  };
  return r;
}

}  // namespace faceweave::server
