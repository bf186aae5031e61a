// POST /api/inspect: is an uploaded file, or a job's result, marked as synthetic (docs/api.md)?
// Body {"upload": "<upload id>"} or {"job": "<job id>"}; the answer is `faceweave inspect --json`'s.
#include <filesystem>

#include "server/api.h"
#include "server/json_input.h"

namespace faceweave::server {

using json = nlohmann::json;

HttpResponse Api::inspect(const HttpRequest& req, const PathParams&) {
  auto parsed = parse_json_input(req.body, "the body");
  if (!parsed || !parsed->is_object())
    return error(400, "invalid_argument",
                 "send a JSON object {\"upload\": \"<upload id>\"} or {\"job\": \"<job id>\"} (docs/api.md)");
  const json& body = *parsed;
  const bool by_upload = body.contains("upload"), by_job = body.contains("job");
  if (by_upload == by_job)
    return error(400, "invalid_argument", "give exactly one of upload (an upload id) or job (a job id)",
                 by_upload ? "job" : "upload");
  const char* field = by_upload ? "upload" : "job";
  if (!body[field].is_string())
    return error(400, "invalid_argument", std::string(field) + " must be a string", field);
  const std::string id = body[field].get<std::string>();
  std::string path;
  if (by_upload) {
    auto upload = uploads_.get(id);
    if (!upload)
      return error(http_status(upload.status().code()), status_code_name(upload.status().code()),
                   upload.status().message(), field);
    path = upload->path;
  } else {
    auto job = jobs_.get(id);
    if (!job)
      return error(http_status(job.status().code()), status_code_name(job.status().code()),
                   job.status().message(), field);
    if (job->status != "done")
      return error(409, "conflict", "job " + id + " is " + job->status + "; inspect it once it is done",
                   field);
    path = job->request.value("output", "");
    std::error_code ec;
    if (path.empty() || !std::filesystem::exists(path, ec))
      return error(404, "not_found", "the result of job " + id + " is no longer on the server", field);
  }
  auto r = engine_.inspect(path);
  if (!r)
    return error(http_status(r.status().code()), status_code_name(r.status().code()), r.status().message());
  HttpResponse resp;
  resp.body = r->to_json().dump();
  return resp;
}

}  // namespace faceweave::server
