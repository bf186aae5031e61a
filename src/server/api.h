// The REST API (docs/api.md) as a plain function from request to response: no sockets here, so every route
// is testable in-process. The transport (http_server.cpp) streams uploads to a staged file, fills an
// HttpRequest, calls Api::handle and writes the HttpResponse back.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "faceweave/engine.h"
#include "faceweave/telemetry.h"
#include "server/insights.h"
#include "server/job_runner.h"
#include "server/job_store.h"
#include "server/rate_limiter.h"
#include "server/request_guard.h"
#include "server/run_defaults.h"
#include "server/uploads.h"

namespace faceweave::server {

struct HttpRequest {
  std::string method;
  std::string path;
  std::map<std::string, std::string> query;
  std::map<std::string, std::string> headers;  // names in lower case
  std::string body;
  std::string remote_addr;
  std::optional<StagedUpload> upload;  // POST /api/uploads: the `file` part, already on disk
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::string file;  // when set, the body is this file's content
  std::vector<std::pair<std::string, std::string>> headers;
  // When set, the body is streamed (server-sent events): called again and again, each call appends the
  // next chunk to `out` (possibly nothing after waiting a while); false ends the stream.
  std::function<bool(std::string& out)> stream;
};

struct ApiOptions {
  std::string token;        // empty: no authentication (loopback only)
  std::string results_dir;  // where job outputs go
  std::string version;
  double events_rate = 20;  // /api/events batches per second per client address
  double events_burst = 40;
  size_t events_per_batch = 50;
  std::string data_dir;  // the analytics routes read <data_dir>/telemetry/events.db
  std::optional<DefaultsProfile> defaults_profile;  // replaces built-in defaults (docs/experiments.md)
  // A fleet node (docs/fleet.md): /api/insights and /metrics show every node's telemetry from PostgreSQL.
  std::string database_url;
};

// The parts of a request path that fill a route's {placeholders}, in order.
using PathParams = std::vector<std::string>;

class Api {
 public:
  // One route: a method and an OpenAPI path template ("/api/jobs/{id}"; a placeholder may carry a fixed
  // suffix in its segment, "{n}.jpg"), and the member that answers it. routes.cpp holds the table;
  // src/server/openapi.json documents every entry (a test holds the two equal).
  using Handler = HttpResponse (Api::*)(const HttpRequest&, const PathParams&);
  struct Route {
    const char* method;
    const char* path;
    Handler handler;
  };
  // Every route, in matching order: the first whose method and path match answers.
  static const std::vector<Route>& routes();
  // Whether `path` fits the template `pattern`; the placeholders' values go to `params`.
  static bool match_path(std::string_view pattern, std::string_view path, PathParams& params);
  // The OpenAPI 3.1 document of this API (src/server/openapi.json, embedded at build time).
  static const std::string& openapi_document();

  Api(ApiOptions options, const Engine& engine, JobStore& jobs, JobRunner& runner, UploadStore& uploads,
      Telemetry* telemetry);

  HttpResponse handle(const HttpRequest& request);
  bool authorised(const HttpRequest& request) const;
  // The Host and Origin checks (request_guard.h), set once the server knows its port; before that, and in
  // tests that never set it, nothing is checked. Not thread-safe: set before serving.
  void set_guard(RequestGuard guard) { guard_ = std::move(guard); }
  // The guard's refusal of a request, as the API's error response; nullopt when it may go on.
  std::optional<HttpResponse> refusal(const HttpRequest& request) const;
  // Both the guard and the token let the request in (the transport streams an upload only then).
  bool admits(const HttpRequest& request) const { return !refusal(request) && authorised(request); }
  Insights& insights() { return insights_; }
  // Draining (the server got SIGTERM): new jobs are refused with 503 and /readyz says 503, while running
  // jobs finish and clients can still poll and download. Thread-safe.
  void set_draining(bool draining) { draining_.store(draining); }
  bool draining() const { return draining_.load(); }

  static HttpResponse error(int status, const std::string& code, const std::string& message,
                            const std::string& field = "");
  // The HTTP status for an engine Status.
  static int http_status(StatusCode code);

 private:
  HttpResponse answer(const HttpRequest& request);  // handle() before error messages lose server paths
  HttpResponse route(const HttpRequest& request);
  // The handlers of the route table (routes.cpp), one per route.
  HttpResponse health(const HttpRequest& request, const PathParams& params);
  HttpResponse ready(const HttpRequest& request, const PathParams& params);  // ready_route.cpp
  HttpResponse metrics(const HttpRequest& request, const PathParams& params);
  HttpResponse config(const HttpRequest& request, const PathParams& params);
  HttpResponse openapi(const HttpRequest& request, const PathParams& params);
  HttpResponse create_upload(const HttpRequest& request, const PathParams& params);
  HttpResponse get_upload(const HttpRequest& request, const PathParams& params);
  HttpResponse upload_faces(const HttpRequest& request, const PathParams& params);
  HttpResponse upload_face_crop(const HttpRequest& request, const PathParams& params);
  HttpResponse upload_frame(const HttpRequest& request, const PathParams& params);
  HttpResponse preview(const HttpRequest& request, const PathParams& params);
  // The defaults of a preview or job with this body (the profile's, the experiments' arms).
  RunDefaults defaults_for(const nlohmann::json& body) const;
  // The pseudonym of the browser user a run is for (its `client`), empty for the server's own user.
  std::string submitter_pseudonym(const RunDefaults& defaults) const;
  HttpResponse create_job(const HttpRequest& request, const PathParams& params);
  HttpResponse list_jobs(const HttpRequest& request, const PathParams& params);
  HttpResponse get_job(const HttpRequest& request, const PathParams& params);
  HttpResponse job_result(const HttpRequest& request, const PathParams& params);
  HttpResponse cancel_job(const HttpRequest& request, const PathParams& params);
  HttpResponse events(const HttpRequest& request, const PathParams& params);
  HttpResponse insights(const HttpRequest& request, const PathParams& params);
  HttpResponse inspect(const HttpRequest& request, const PathParams& params);  // inspect_route.cpp

  ApiOptions options_;
  const Engine& engine_;
  JobStore& jobs_;
  JobRunner& runner_;
  UploadStore& uploads_;
  Telemetry* telemetry_;
  RateLimiter events_limiter_;
  Insights insights_;
  RequestGuard guard_;
  std::atomic<bool> draining_{false};
};

}  // namespace faceweave::server
