// GET /api/insights/experiments and /api/insights/experiments/{name} (docs/api.md, "Insights"): the
// experiments on defaults with their verdicts, and one experiment's A/B view. Each request opens its own
// connection to the events database (the experiments module reads raw events, not the shared rollups).
#include <cstdlib>

#include "faceweave/experiments.h"
#include "server/api.h"
#include "server/insights.h"

namespace faceweave::server {

using nlohmann::json;

HttpResponse experiments_response(const std::string& data_dir, const HttpRequest& req) {
  const std::string prefix = "/api/insights/experiments";
  std::string name = req.path.size() > prefix.size() + 1 ? req.path.substr(prefix.size() + 1) : "";
  int k = InsightsFilter::kDefaultK;
  if (auto it = req.query.find("k"); it != req.query.end()) {
    char* end = nullptr;
    long v = std::strtol(it->second.c_str(), &end, 10);
    if (it->second.empty() || *end != '\0' || v < 1 || v > 1000)
      return Api::error(400, "invalid_argument", "k must be a whole number from 1 to 1000", "k");
    k = int(v);
  }
  std::string format = "json";
  if (auto it = req.query.find("format"); it != req.query.end()) format = it->second;
  if (format != "json" && format != "csv")
    return Api::error(400, "invalid_argument", "format must be json or csv", "format");
  ExperimentAnalysisOptions o;
  o.k = k;
  if (auto it = req.query.find("metric"); it != req.query.end()) o.metric = it->second.substr(0, 64);
  auto store = data_dir.empty() ? Result<std::unique_ptr<ExperimentStore>>(not_found("no data dir"))
                                : ExperimentStore::open(data_dir, false);
  Result<InsightsTable> t = invalid_argument("");
  if (!store) {
    if (store.status().code() != StatusCode::kNotFound)
      return Api::error(500, "internal", store.status().message());
    if (!name.empty())
      return Api::error(404, "not_found", "no experiment named '" + name.substr(0, 24) + "'");
    InsightsTable empty;
    empty.view = "experiments";
    empty.title = "Experiments on defaults";
    empty.notes.push_back("no experiments yet: faceweave experiments create NAME --option OPTION --arms A,B");
    t = empty;
  } else if (name.empty()) {
    t = experiments_overview(**store, k);
  } else {
    auto e = (*store)->get(name);
    if (!e) return Api::error(404, "not_found", e.status().message(), "name");
    t = analyse_experiment((*store)->database(), *e, o);
  }
  if (!t) {
    const bool bad = t.status().code() == StatusCode::kInvalidArgument;
    return Api::error(bad ? 400 : 500, bad ? "invalid_argument" : "internal", t.status().message(),
                      bad ? "metric" : "");
  }
  HttpResponse r;
  if (format == "csv") {
    r.body = t->to_csv();
    r.content_type = "text/csv; charset=utf-8";
  } else {
    r.body = t->to_json().dump();
  }
  r.headers.emplace_back("Cache-Control", "no-store");
  return r;
}

}  // namespace faceweave::server
