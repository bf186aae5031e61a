// The REST API (docs/api.md) as a plain function from request to response: no sockets here, so every route
// is testable in-process. The transport (http_server.cpp) streams uploads to a staged file, fills an
// HttpRequest, calls Api::handle and writes the HttpResponse back.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "faceweave/engine.h"
#include "faceweave/telemetry.h"
#include "server/insights.h"
#include "server/job_runner.h"
#include "server/job_store.h"
#include "server/rate_limiter.h"
#include "server/request_guard.h"
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
};

class Api {
 public:
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

  static HttpResponse error(int status, const std::string& code, const std::string& message,
                            const std::string& field = "");
  // The HTTP status for an engine Status.
  static int http_status(StatusCode code);

 private:
  HttpResponse route(const HttpRequest& request);
  HttpResponse config() const;
  HttpResponse health();
  HttpResponse create_upload(const HttpRequest& request);
  HttpResponse upload_faces(const Upload& upload, const HttpRequest& request);
  HttpResponse upload_frame(const Upload& upload, const HttpRequest& request);
  HttpResponse preview(const HttpRequest& request);
  HttpResponse create_job(const HttpRequest& request);
  HttpResponse list_jobs(const HttpRequest& request);
  HttpResponse job_result(const std::string& id);
  HttpResponse inspect(const HttpRequest& request);  // POST /api/inspect (inspect_route.cpp)
  HttpResponse cancel_job(const std::string& id);
  HttpResponse events(const HttpRequest& request);

  ApiOptions options_;
  const Engine& engine_;
  JobStore& jobs_;
  JobRunner& runner_;
  UploadStore& uploads_;
  Telemetry* telemetry_;
  RateLimiter events_limiter_;
  Insights insights_;
  RequestGuard guard_;
};

}  // namespace faceweave::server
