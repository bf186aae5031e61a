// GET /readyz: whether this server should be sent traffic (orchestrators' readiness probe; /healthz only
// says the process is alive). Ready when the models are loaded (the engine verified each file's checksum
// when it loaded it, before the server started listening), the job database answers a query, and the
// server is not draining after SIGTERM. 200 when ready, 503 with the failing check otherwise.
#include "server/api.h"

namespace faceweave::server {

using json = nlohmann::json;

HttpResponse Api::ready(const HttpRequest&, const PathParams&) {
  json checks = json::object();
  bool ready = true;
  const ProviderInfo& provider = engine_.provider();
  checks["models"] = {{"status", "ok"}, {"provider", provider.used}};
  if (auto counts = jobs_.counts()) {
    checks["database"] = {{"status", "ok"}};
  } else {
    ready = false;
    checks["database"] = {
        {"status", "error"},
        {"message", "the job database does not answer (" + counts.status().message() +
                        "); check the data dir's disk for jobs.db, or that the PostgreSQL of --database-url "
                        "answers"}};
  }
  if (draining()) {
    ready = false;
    checks["draining"] = {
        {"status", "error"},
        {"message", "the server is stopping: it takes no new jobs; send them to another one"}};
  }
  HttpResponse r;
  r.status = ready ? 200 : 503;
  r.body = json{{"status", ready ? "ready" : "not_ready"}, {"version", options_.version}, {"checks", checks}}
               .dump();
  r.headers.emplace_back("Cache-Control", "no-store");
  return r;
}

}  // namespace faceweave::server
