// The route table of the REST API and the dispatch over it. Adding a route: one line in the table below
// (method, OpenAPI path template, handler) and its entry under `paths` in openapi.json; the OpenAPI test
// (tests/unit/server/openapi_test.cpp) fails while either is missing.
#include <algorithm>

#include "server/api.h"

namespace faceweave::server {

extern const char* const kOpenApiDocument;  // openapi.json, embedded by embed_text.cmake

const std::string& Api::openapi_document() {
  static const std::string kDocument = kOpenApiDocument;
  return kDocument;
}

const std::vector<Api::Route>& Api::routes() {
  // First match wins: a fixed path ("/api/insights/stream") goes before a template that also fits it.
  static const std::vector<Route> kRoutes = {
      {"GET", "/healthz", &Api::health},
      {"GET", "/readyz", &Api::ready},
      {"GET", "/metrics", &Api::metrics},
      {"GET", "/api/config", &Api::config},
      {"GET", "/api/openapi.json", &Api::openapi},
      {"POST", "/api/uploads", &Api::create_upload},
      {"GET", "/api/uploads/{id}", &Api::get_upload},
      {"GET", "/api/uploads/{id}/faces", &Api::upload_faces},
      {"GET", "/api/uploads/{id}/faces/{n}.jpg", &Api::upload_face_crop},
      {"GET", "/api/uploads/{id}/frame", &Api::upload_frame},
      {"POST", "/api/preview", &Api::preview},
      {"POST", "/api/jobs", &Api::create_job},
      {"GET", "/api/jobs", &Api::list_jobs},
      {"GET", "/api/jobs/{id}", &Api::get_job},
      {"DELETE", "/api/jobs/{id}", &Api::cancel_job},
      {"GET", "/api/jobs/{id}/result", &Api::job_result},
      {"POST", "/api/events", &Api::events},
      {"POST", "/api/inspect", &Api::inspect},
      {"GET", "/api/insights", &Api::insights},
      {"GET", "/api/insights/stream", &Api::insights},
      {"GET", "/api/insights/events", &Api::insights},
      {"GET", "/api/insights/experiments", &Api::insights},
      {"GET", "/api/insights/experiments/{name}", &Api::insights},
      {"GET", "/api/insights/{view}", &Api::insights},
  };
  return kRoutes;
}

bool Api::match_path(std::string_view pattern, std::string_view path, PathParams& params) {
  params.clear();
  while (!pattern.empty() && !path.empty()) {
    if (pattern[0] != '/' || path[0] != '/') return false;
    pattern.remove_prefix(1);
    path.remove_prefix(1);
    const std::string_view want = pattern.substr(0, pattern.find('/'));
    const std::string_view got = path.substr(0, path.find('/'));
    pattern.remove_prefix(want.size());
    path.remove_prefix(got.size());
    const size_t open = want.find('{');
    if (open == std::string_view::npos) {
      if (want != got) return false;
      continue;
    }
    // "{name}" with an optional fixed prefix and suffix in the same segment; the value is never empty.
    const size_t close = want.find('}', open);
    if (close == std::string_view::npos) return false;
    const std::string_view prefix = want.substr(0, open), suffix = want.substr(close + 1);
    if (got.size() <= prefix.size() + suffix.size() || !got.starts_with(prefix) || !got.ends_with(suffix))
      return false;
    params.emplace_back(got.substr(prefix.size(), got.size() - prefix.size() - suffix.size()));
  }
  return pattern.empty() && path.empty();
}

HttpResponse Api::route(const HttpRequest& req) {
  PathParams params;
  std::vector<std::string> methods;
  for (const Route& r : routes()) {
    if (!match_path(r.path, req.path, params)) continue;
    if (req.method == r.method) return (this->*r.handler)(req, params);
    methods.emplace_back(r.method);
  }
  if (!methods.empty()) {
    std::sort(methods.begin(), methods.end());
    methods.erase(std::unique(methods.begin(), methods.end()), methods.end());
    std::string allowed;
    for (const auto& m : methods) allowed += (allowed.empty() ? "" : ", ") + m;
    HttpResponse r =
        error(405, "method_not_allowed",
              req.method + " is not allowed on " + req.path.substr(0, 80) + " (use " + allowed + ")");
    r.headers.emplace_back("Allow", allowed);
    return r;
  }
  // Other paths under /api/insights get the analytics' own answer (a 404 that names the unknown view).
  if (Insights::owns(req.path)) return insights_.handle(req);
  return error(404, "not_found", "no route " + req.path.substr(0, 80) + " (docs/api.md lists the API)");
}

}  // namespace faceweave::server
