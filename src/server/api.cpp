#include "server/api.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <filesystem>
#include <regex>

#include <opencv2/imgcodecs.hpp>

#include "core/private_files.h"
#include "face/face_selector.h"
#include "server/ids.h"
#include "server/json_input.h"
#include "server/metrics.h"
#include "server/model_availability.h"
#include "server/options_json.h"
#include "server/public_message.h"
#include "server/run_defaults.h"
#include "server/ui_events.h"

namespace faceweave::server {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// Messages may quote what the client sent (a path, a Host, an Origin), cut to a length that can split a
// character: bytes that are not UTF-8 become U+FFFD instead of a 500 from the JSON writer.
std::string dump_json(const json& body) {
  return body.dump(-1, ' ', false, json::error_handler_t::replace);
}

HttpResponse json_response(int status, const json& body) {
  HttpResponse r;
  r.status = status;
  r.body = dump_json(body);
  return r;
}

HttpResponse from_status(const Status& s, const std::string& field = "") {
  return Api::error(Api::http_status(s.code()), status_code_name(s.code()), s.message(), field);
}

// Parses a JSON object body (nesting capped, json_input.h); an error response otherwise.
std::optional<HttpResponse> parse_body(const HttpRequest& req, json& out) {
  auto parsed = parse_json_input(req.body, "the body");
  if (!parsed)
    return Api::error(400, "invalid_argument",
                      parsed.status().message() + "; send a JSON object (docs/api.md)");
  out = std::move(parsed).value();
  if (!out.is_object()) return Api::error(400, "invalid_argument", "the body must be a JSON object");
  return std::nullopt;
}

std::optional<int64_t> query_int(const HttpRequest& req, const std::string& key, int64_t fallback,
                                 std::optional<HttpResponse>& error, int64_t min, int64_t max) {
  auto it = req.query.find(key);
  if (it == req.query.end()) return fallback;
  try {
    size_t used = 0;
    const long long v = std::stoll(it->second, &used);
    if (used == it->second.size() && v >= min && v <= max) return v;
  } catch (...) {
  }
  error = Api::error(
      400, "invalid_argument",
      key + " must be a whole number from " + std::to_string(min) + " to " + std::to_string(max), key);
  return std::nullopt;
}

std::string jpeg(const cv::Mat& image, int quality = 90) {
  std::vector<uchar> bytes;
  cv::imencode(".jpg", image, bytes, {cv::IMWRITE_JPEG_QUALITY, quality});
  return std::string(bytes.begin(), bytes.end());
}

// The sources and target of a preview or job: upload ids, checked and turned into paths.
struct Inputs {
  std::vector<std::string> source_ids, sources;
  std::string target_id, target;
  Upload target_upload;
};

std::optional<HttpResponse> read_inputs(const json& body, const UploadStore& uploads, Inputs& in) {
  if (!body.contains("sources") || !body["sources"].is_array() || body["sources"].empty())
    return Api::error(400, "invalid_argument",
                      "sources must be a non-empty list of upload ids (POST /api/uploads first)", "sources");
  if (body["sources"].size() > 16)
    return Api::error(400, "invalid_argument", "at most 16 sources", "sources");
  for (const auto& s : body["sources"]) {
    if (!s.is_string()) return Api::error(400, "invalid_argument", "sources must be upload ids", "sources");
    auto u = uploads.get(s.get<std::string>());
    if (!u) return Api::error(404, "not_found", u.status().message(), "sources");
    if (u->kind() != "image")
      return Api::error(400, "invalid_argument", "source " + u->id + " is a video; sources must be photos",
                        "sources");
    in.source_ids.push_back(u->id);
    in.sources.push_back(u->path);
  }
  if (!body.contains("target") || !body["target"].is_string())
    return Api::error(400, "invalid_argument", "target must be an upload id", "target");
  auto t = uploads.get(body["target"].get<std::string>());
  if (!t) return Api::error(404, "not_found", t.status().message(), "target");
  in.target_id = t->id;
  in.target = t->path;
  in.target_upload = *t;
  return std::nullopt;
}

ReferenceResolver upload_resolver(const UploadStore& uploads) {
  return [&uploads](const std::string& ref) -> Result<std::string> {
    auto u = uploads.get(ref);
    if (!u) return u.status();
    if (u->kind() != "image") return invalid_argument("reference_face_image must be a photo, not a video");
    return u->path;
  };
}

// The body of a preview or a job: JSON with sources, target and options, each checked.
// `defaults(body)` gives the defaults of the options the body leaves out (run_defaults.h).
std::optional<HttpResponse> read_swap_request(const HttpRequest& req, const UploadStore& uploads, json& body,
                                              Inputs& in, JobOptions& options,
                                              const std::function<json(const json&)>& defaults) {
  if (auto bad = parse_body(req, body)) return bad;
  if (auto bad = read_inputs(body, uploads, in)) return bad;
  if (body.contains("client") &&
      (!body["client"].is_string() || body["client"].get<std::string>().size() < 8 ||
       body["client"].get<std::string>().size() > 64))
    return Api::error(400, "invalid_argument", "client must be the browser's random id (8 to 64 characters)",
                      "client");
  FieldError fe;
  if (!parse_job_options(merged_options(defaults(body), body.value("options", json())), options, fe,
                         upload_resolver(uploads)))
    return from_status(fe.status, fe.field.empty() ? "options" : fe.field);
  return std::nullopt;
}

}  // namespace

Api::Api(ApiOptions options, const Engine& engine, JobStore& jobs, JobRunner& runner, UploadStore& uploads,
         Telemetry* telemetry)
    : options_(std::move(options)),
      engine_(engine),
      jobs_(jobs),
      runner_(runner),
      uploads_(uploads),
      telemetry_(telemetry),
      events_limiter_(options_.events_rate, options_.events_burst),
      insights_(options_.data_dir, options_.database_url) {}

HttpResponse Api::error(int status, const std::string& code, const std::string& message,
                        const std::string& field) {
  Metrics::global().record_http_error(status, code);
  json e{{"code", code}, {"message", message}};
  if (!field.empty()) e["field"] = field;
  return json_response(status, json{{"error", e}});
}

int Api::http_status(StatusCode code) {
  switch (code) {
    case StatusCode::kOk:
      return 200;
    case StatusCode::kInvalidArgument:
      return 400;
    case StatusCode::kNotFound:
      return 404;
    case StatusCode::kInvalidInput:
    case StatusCode::kUnsupported:
      return 415;
    case StatusCode::kNoFace:
      return 422;
    case StatusCode::kCancelled:
      return 409;
    case StatusCode::kModelError:
    case StatusCode::kPermissionDenied:
    case StatusCode::kIoError:
    case StatusCode::kInternal:
      return 500;
  }
  return 500;
}

bool Api::authorised(const HttpRequest& req) const {
  if (options_.token.empty()) return true;
  auto header = [&](const std::string& name) {
    auto it = req.headers.find(name);
    return it == req.headers.end() ? std::string() : it->second;
  };
  std::string given = header("x-faceweave-token");
  const std::string auth = header("authorization");
  if (given.empty() && auth.rfind("Bearer ", 0) == 0) given = auth.substr(7);
  if (given.empty()) {
    auto it = req.query.find("token");
    if (it != req.query.end()) given = it->second;
  }
  // The time taken says nothing about how much of the token matched, nor about its length.
  return constant_time_equal(given, options_.token);
}

std::optional<HttpResponse> Api::refusal(const HttpRequest& req) const {
  auto refused = guard_.check(req.method, req.headers);
  if (!refused) return std::nullopt;
  return error(refused->status, refused->code, refused->message);
}

HttpResponse Api::handle(const HttpRequest& req) {
  HttpResponse r = answer(req);
  // Clients learn what went wrong and what to do, never where the server keeps its files.
  const bool has_errors = r.status >= 400 || req.path.rfind("/api/jobs", 0) == 0;
  if (has_errors && r.content_type == "application/json" && !r.body.empty() && !r.stream) {
    json body = json::parse(r.body, nullptr, false);
    if (!body.is_discarded()) {
      scrub_error_messages(body, {options_.data_dir, options_.results_dir, engine_.options().models_dir,
                                  engine_.options().manifest_path});
      r.body = dump_json(body);
    }
  }
  return r;
}

HttpResponse Api::answer(const HttpRequest& req) {
  try {
    // Before the token: a request for another host name, or a cross-site change, is refused whatever it
    // carries.
    if (auto refused = refusal(req)) return *refused;
    // /api/config holds no secret and tells a client whether it needs the token, so it is open; so is
    // /api/openapi.json, the API's description.
    // /metrics too: it shows how the server is used (docs/api.md); Prometheus sends the token as a bearer.
    if (((req.path.rfind("/api/", 0) == 0 && req.path != "/api/config" && req.path != "/api/openapi.json") ||
         req.path == "/metrics") &&
        !authorised(req)) {
      HttpResponse r =
          error(401, "unauthorized",
                "this server needs its token: send 'Authorization: Bearer <token>' (the token given to "
                "faceweave serve with --token or FACEWEAVE_TOKEN)");
      r.headers.emplace_back("WWW-Authenticate", "Bearer");
      return r;
    }
    return route(req);
  } catch (const std::exception& e) {
    return error(500, "internal", std::string("unexpected error: ") + e.what() + "; please report it");
  }
}

HttpResponse Api::metrics(const HttpRequest&, const PathParams&) {
  return metrics_response(jobs_, telemetry_, options_.version, options_.database_url);
}

HttpResponse Api::openapi(const HttpRequest&, const PathParams&) {
  HttpResponse r;
  r.body = openapi_document();
  return r;
}

HttpResponse Api::insights(const HttpRequest& req, const PathParams&) {
  return insights_.handle(req);
}

HttpResponse Api::get_upload(const HttpRequest&, const PathParams& p) {
  auto upload = uploads_.get(p[0]);
  if (!upload) return from_status(upload.status());
  return json_response(200, upload->meta);
}

HttpResponse Api::upload_face_crop(const HttpRequest& req, const PathParams& p) {
  static const std::regex kIndex("^[0-9]{1,3}$");
  if (!std::regex_match(p[1], kIndex))
    return error(404, "not_found",
                 "no route " + req.path.substr(0, 80) + " (face crops are numbered 0 to 999)");
  auto upload = uploads_.get(p[0]);
  if (!upload) return from_status(upload.status());
  std::optional<HttpResponse> bad;
  auto frame = query_int(req, "frame", 0, bad, 0, 10'000'000);
  if (!frame) return *bad;
  auto crop = uploads_.face_crop(*upload, size_t(std::stoul(p[1])), *frame, engine_);
  if (!crop) return from_status(crop.status());
  HttpResponse r;
  r.content_type = "image/jpeg";
  r.body = std::move(*crop);
  r.headers.emplace_back("Cache-Control", "private, max-age=3600");
  return r;
}

HttpResponse Api::get_job(const HttpRequest&, const PathParams& p) {
  auto job = jobs_.get(p[0]);
  if (!job) return from_status(job.status());
  return json_response(200, job_json(*job));
}

HttpResponse Api::health(const HttpRequest&, const PathParams&) {
  json j{{"status", "ok"}, {"version", options_.version}};
  auto counts = jobs_.counts();
  if (counts) j["jobs"] = {{"queued", counts->first}, {"running", counts->second}};
  return json_response(200, j);
}

HttpResponse Api::config(const HttpRequest& req, const PathParams&) {
  json j{{"version", options_.version},
         {"auth_required", !options_.token.empty()},
         {"limits",
          {{"image_bytes", uploads_.limits().image_bytes},
           {"video_bytes", uploads_.limits().video_bytes},
           {"image_pixels", uploads_.limits().image_pixels}}},
         {"options", option_catalog()},
         {"unavailable", unavailable_option_values(engine_.options())},
         {"telemetry", telemetry_ ? telemetry_consent_name(telemetry_->consent()) : "off"}};
  // The defaults this browser gets: the profile's, and its arm of each running experiment (?client=ID).
  std::string client;
  if (auto it = req.query.find("client");
      it != req.query.end() && it->second.size() >= 8 && it->second.size() <= 64)
    client = it->second;
  apply_to_config(j, options_.defaults_profile, defaults_for(json{{"client", client}}));
  return json_response(200, j);
}

HttpResponse Api::create_upload(const HttpRequest& req, const PathParams&) {
  if (!req.upload)
    return error(400, "invalid_argument", "send the file as multipart/form-data in a part named 'file'",
                 "file");
  auto upload = uploads_.commit(*req.upload, engine_);
  if (!upload) {
    if (UploadStore::too_large(upload.status()))
      return error(413, "too_large", upload.status().message(), "file");
    if (upload.status().code() == StatusCode::kInvalidInput)
      return error(415, "unsupported_media", upload.status().message(), "file");
    return from_status(upload.status(), "file");
  }
  Metrics::global().record_upload(upload->kind(), upload->meta.value("bytes", int64_t(0)));
  return json_response(201, upload->meta);
}

HttpResponse Api::upload_faces(const HttpRequest& req, const PathParams& p) {
  auto found_upload = uploads_.get(p[0]);
  if (!found_upload) return from_status(found_upload.status());
  const Upload& upload = *found_upload;
  std::optional<HttpResponse> bad;
  auto frame = query_int(req, "frame", 0, bad, 0, 10'000'000);
  if (!frame) return *bad;
  json faces = upload.meta["faces"];
  if (*frame != 0) {
    auto image = load_frame(upload.path, *frame);
    if (!image) return from_status(image.status(), "frame");
    auto found = engine_.analyse(*image);
    if (!found) return from_status(found.status());
    faces = faces_json(*found);
  }
  // The faces in the selector's order, so `position` is what reference_face_position takes.
  const std::string order_name =
      req.query.count("order") ? req.query.at("order") : SwapOptions{}.face_selector_order;
  auto order = face::parse_selector_order(order_name);
  if (!order) return error(400, "invalid_argument", order.status().message(), "order");
  const std::vector<Face> as_faces = faces_from_json(faces);
  face::FaceSelectorOptions so;
  so.order = *order;
  auto selector = face::FaceSelector::create(so);
  std::vector<Face> ordered = selector->order(as_faces);
  json out = json::array();
  for (size_t pos = 0; pos < ordered.size(); ++pos) {
    // The ordered copies carry the very boxes read from `faces`, so equality finds each one's entry.
    for (size_t i = 0; i < as_faces.size(); ++i) {
      if (as_faces[i].box != ordered[pos].box) continue;
      const json& f = faces[i];
      json e = f;
      e["position"] = pos;
      e["crop"] = "/api/uploads/" + upload.id + "/faces/" + std::to_string(f["index"].get<int>()) + ".jpg" +
                  (*frame ? "?frame=" + std::to_string(*frame) : "");
      out.push_back(e);
      break;
    }
  }
  return json_response(200,
                       json{{"id", upload.id}, {"frame", *frame}, {"order", order_name}, {"faces", out}});
}

HttpResponse Api::upload_frame(const HttpRequest& req, const PathParams& p) {
  auto upload = uploads_.get(p[0]);
  if (!upload) return from_status(upload.status());
  std::optional<HttpResponse> bad;
  auto index = query_int(req, "index", 0, bad, 0, 10'000'000);
  if (!index) return *bad;
  auto image = load_frame(upload->path, *index);
  if (!image) return from_status(image.status(), "index");
  HttpResponse r;
  r.content_type = "image/jpeg";
  r.body = jpeg(*image);
  r.headers.emplace_back("Cache-Control", "private, max-age=3600");
  return r;
}

std::string Api::submitter_pseudonym(const RunDefaults& defaults) const {
  return telemetry_ && !defaults.client.empty() ? telemetry_->client_pseudonym(defaults.client)
                                                : std::string();
}

RunDefaults Api::defaults_for(const json& body) const {
  return run_defaults(options_.defaults_profile, options_.data_dir, telemetry_, body.value("options", json()),
                      body.value("client", std::string()));
}

HttpResponse Api::preview(const HttpRequest& req, const PathParams&) {
  json body;
  Inputs in;
  JobOptions options;
  RunDefaults defaults;
  auto resolve = [&](const json& b) {
    defaults = defaults_for(b);
    return defaults.defaults;
  };
  if (auto bad = read_swap_request(req, uploads_, body, in, options, resolve)) return *bad;
  // One run joins the preview's exposures, command and stage timings, and samples them together.
  std::optional<TelemetryRun> run;
  if (telemetry_) {
    // A browser's preview is that browser user's run, like its jobs.
    const std::string user = submitter_pseudonym(defaults);
    run.emplace(std::string_view(), user, "web");
    record_exposures(*telemetry_, defaults.exposures, user.empty() ? defaults.client : std::string());
  }
  int64_t frame = 0;
  if (body.contains("frame")) {
    if (!body["frame"].is_number_integer() || body["frame"].get<int64_t>() < 0)
      return error(400, "invalid_argument", "frame must be a whole number, 0 or more", "frame");
    frame = body["frame"].get<int64_t>();
    const int64_t frames = in.target_upload.meta.value("frames", int64_t(1));
    if (frames > 0 && frame >= frames)
      return error(400, "invalid_argument",
                   "frame " + std::to_string(frame) + " is past the end of the target (" +
                       std::to_string(frames) + " frames)",
                   "frame");
  }
  SwapRequest request;
  request.sources = in.sources;
  request.target = in.target;
  request.options = options.swap;
  const auto started = std::chrono::steady_clock::now();
  auto result = engine_.preview(request, frame);
  const double ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
  Metrics::global().record_run("preview", "image", result ? StatusCode::kOk : result.status().code(),
                               ms / 1000, result ? &result->report.stage_ms : nullptr);
  if (telemetry_) {
    telemetry_->record_command("preview", result ? StatusCode::kOk : result.status().code(), ms, 0,
                               int(body.value("options", json::object()).size()), "api",
                               engine_.provider().used);
    if (result)
      telemetry_->record_stages(result->report.stage_ms, result->report.output_width,
                                result->report.output_height, 1, "image", result->report.input_width,
                                result->report.input_height);
  }
  if (!result) return from_status(result.status());
  HttpResponse r;
  r.content_type = "image/jpeg";
  r.body = jpeg(result->image);
  r.headers.emplace_back("X-Faceweave-Faces-Swapped", std::to_string(result->report.faces_swapped));
  r.headers.emplace_back("X-Faceweave-Ms", std::to_string(int(ms)));
  r.headers.emplace_back("Cache-Control", "no-store");
  return r;
}

HttpResponse Api::create_job(const HttpRequest& req, const PathParams&) {
  if (draining()) {
    HttpResponse r = error(503, "unavailable",
                           "the server is stopping and takes no new jobs; send the job again in a moment "
                           "(to another server, or to this one once it has restarted)");
    r.headers.emplace_back("Retry-After", "10");
    return r;
  }
  json body;
  Inputs in;
  JobOptions options;
  RunDefaults defaults;
  auto resolve = [&](const json& b) {
    defaults = defaults_for(b);
    return defaults.defaults;
  };
  if (auto bad = read_swap_request(req, uploads_, body, in, options, resolve)) return *bad;
  const json raw_options = body.value("options", json::object());
  const std::string kind = in.target_upload.kind();
  std::string format =
      options.output_format.empty() ? in.target_upload.meta.value("format", "") : options.output_format;
  if (kind == "image" ? !is_image_format(format) : !is_video_format(format))
    return error(400, "invalid_argument",
                 "output_format " + format + " does not fit a" + (kind == "image" ? "n image" : " video") +
                     " target (images: jpg, png, webp, bmp; videos: mp4, mov, mkv, webm, avi)",
                 "output_format");
  if (Status s = core::make_private_dir(options_.results_dir); !s.is_ok())
    return error(500, "io_error", "cannot create the results folder; check the server's data dir");
  const std::string id = new_id('j');
  json request{{"sources", in.sources},
               {"target", in.target},
               {"source_ids", in.source_ids},
               {"target_id", in.target_id},
               {"options", raw_options},
               {"output", (fs::path(options_.results_dir) / (id + "." + format)).string()},
               {"origin", "api"}};
  // The defaults it runs with (the profile's and the experiments' arms) apart from the user's own options,
  // and the run id its exposures are recorded under, which the runner takes up for the job's events.
  if (!defaults.defaults.empty()) request["defaults"] = defaults.defaults;
  if (telemetry_) {
    // The job is the submitter's run: one run id for its exposures now and its options, command, stage
    // times and errors when the runner takes it up, and a browser's job is that browser user's (its
    // pseudonym and platform web), not the server's own user (docs/telemetry.md, "Runs").
    const std::string user = submitter_pseudonym(defaults);
    TelemetryRun run({}, user, "web");
    request["run"] = run.id();
    if (!user.empty()) {
      request["user"] = user;
      request["platform"] = "web";
    }
    record_exposures(*telemetry_, defaults.exposures, user.empty() ? defaults.client : std::string());
  }
  auto job = jobs_.submit(request, kind, id);
  if (!job) return from_status(job.status());
  runner_.wake();
  return json_response(201, job_json(*job));
}

HttpResponse Api::list_jobs(const HttpRequest& req, const PathParams&) {
  std::string status;
  if (auto it = req.query.find("status"); it != req.query.end()) {
    status = it->second;
    static const char* kStates[] = {"queued", "running", "done", "failed", "cancelled"};
    if (std::find(std::begin(kStates), std::end(kStates), status) == std::end(kStates))
      return error(400, "invalid_argument", "status must be queued, running, done, failed or cancelled",
                   "status");
  }
  std::optional<HttpResponse> bad;
  auto limit = query_int(req, "limit", 100, bad, 1, 1000);
  if (!limit) return *bad;
  auto jobs = jobs_.list(status, int(*limit));
  if (!jobs) return from_status(jobs.status());
  json out = json::array();
  for (const auto& j : *jobs) out.push_back(job_json(j));
  return json_response(200, json{{"jobs", out}});
}

// The result's download name follows the target's: holiday.mp4 -> holiday-faceweave.mp4 (letters, digits,
// '.', '_' and '-' kept, at most 60 characters); faceweave-<id><ext> once the upload is gone.
static std::string result_file_name(const UploadStore& uploads, const JobRecord& job,
                                    const std::string& ext) {
  std::string stem;
  if (auto target = uploads.get(job.request.value("target_id", "")))
    stem = fs::path(target->meta.value("name", "")).stem().string();
  std::string safe;
  for (char c : stem) {
    if (safe.size() >= 60) break;
    const bool plain = std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-';
    safe += plain ? c : '_';
  }
  if (safe.empty() || safe.find_first_not_of("._") == std::string::npos) return "faceweave-" + job.id + ext;
  return safe + "-faceweave" + ext;
}

HttpResponse Api::job_result(const HttpRequest&, const PathParams& p) {
  const std::string& id = p[0];
  auto job = jobs_.get(id);
  if (!job) return from_status(job.status());
  if (job->status != "done")
    return error(409, "conflict",
                 "job " + id + " is " + job->status + "; its result exists once it is done (GET /api/jobs/" +
                     id + ")");
  const std::string path = job->request.value("output", "");
  std::error_code ec;
  if (path.empty() || !fs::exists(path, ec))
    return error(404, "not_found", "the result of job " + id + " is no longer on the server");
  HttpResponse r;
  const std::string ext = fs::path(path).extension().string();
  static const std::map<std::string, std::string> kTypes = {
      {".jpg", "image/jpeg"},  {".png", "image/png"},        {".webp", "image/webp"},
      {".bmp", "image/bmp"},   {".mp4", "video/mp4"},        {".mov", "video/quicktime"},
      {".webm", "video/webm"}, {".mkv", "video/x-matroska"}, {".avi", "video/x-msvideo"}};
  auto type = kTypes.find(ext);
  r.content_type = type == kTypes.end() ? "application/octet-stream" : type->second;
  r.file = path;
  r.headers.emplace_back("Content-Disposition",
                         "attachment; filename=\"" + result_file_name(uploads_, *job, ext) + "\"");
  return r;
}

HttpResponse Api::cancel_job(const HttpRequest&, const PathParams& p) {
  const std::string& id = p[0];
  auto job = jobs_.cancel(id);
  if (!job) {
    if (job.status().code() == StatusCode::kInvalidArgument)
      return error(409, "conflict", job.status().message());
    return from_status(job.status());
  }
  if (job->status == "running") {
    runner_.cancel(id);
    runner_.wait_stopped(id, 10000);
    auto after = jobs_.get(id);
    if (after) job = std::move(after);
    // It finished before the cancel reached it: the job was not cancelled, and its result stands.
    if (job->status == "done" || job->status == "failed")
      return error(409, "conflict",
                   "job " + id + " " + (job->status == "done" ? "finished" : "failed") +
                       " before the cancel took effect; GET /api/jobs/" + id + " shows it");
  }
  return json_response(200, job_json(*job));
}

HttpResponse Api::events(const HttpRequest& req, const PathParams&) {
  double retry = 0;
  if (!events_limiter_.allow(req.remote_addr, &retry)) {
    Metrics::global().record_client_rate_limited();
    HttpResponse r = error(429, "rate_limited", "too many event batches from this client; retry shortly");
    r.headers.emplace_back("Retry-After", std::to_string(std::max(1, int(std::ceil(retry)))));
    return r;
  }
  json body;
  if (auto bad = parse_body(req, body)) return *bad;
  static const std::regex kClient("^[A-Za-z0-9_-]{8,64}$");
  if (!body.contains("client") || !body["client"].is_string() ||
      !std::regex_match(body["client"].get<std::string>(), kClient))
    return error(400, "invalid_argument", "client must be the browser's random id (8 to 64 of [A-Za-z0-9_-])",
                 "client");
  if (!body.contains("events") || !body["events"].is_array())
    return error(400, "invalid_argument", "events must be a list", "events");
  if (body["events"].size() > options_.events_per_batch)
    return error(400, "invalid_argument",
                 "at most " + std::to_string(options_.events_per_batch) + " events a batch", "events");
  const std::string client = body["client"].get<std::string>();
  json rejected = json::array();
  int accepted = 0;
  for (size_t i = 0; i < body["events"].size(); ++i) {
    const json& e = body["events"][i];
    auto reject = [&](const std::string& why) { rejected.push_back({{"index", i}, {"message", why}}); };
    if (!e.is_object() || !e.contains("event") || !e["event"].is_string()) {
      reject("each event needs an 'event' name");
      continue;
    }
    const std::string name = e["event"].get<std::string>();
    if (name.rfind("ui.", 0) != 0) {
      reject("the browser may send only ui.* events (got '" + name.substr(0, 40) + "')");
      continue;
    }
    const json props = e.value("props", json::object());
    if (!props.is_object()) {
      reject("props must be an object");
      continue;
    }
    // Only the words of the UI's own controls (ui_events.h): never free text such as a name.
    if (const std::string why = UiEventVocabulary::standard().check(name, props); !why.empty()) {
      reject(why);
      continue;
    }
    std::vector<std::string> keys, texts;
    keys.reserve(props.size());
    texts.reserve(props.size());
    std::vector<TelemetryProp> list;
    bool ok = true;
    for (const auto& [k, v] : props.items()) {
      keys.push_back(k);
      const std::string_view key = keys.back();
      if (v.is_boolean()) {
        list.emplace_back(key, v.get<bool>());
      } else if (v.is_number_integer()) {
        list.emplace_back(key, static_cast<long long>(v.get<int64_t>()));
      } else if (v.is_number()) {
        list.emplace_back(key, v.get<double>());
      } else if (v.is_string()) {
        texts.push_back(v.get<std::string>());
        list.emplace_back(key, std::string_view(texts.back()));
      } else {
        reject("property " + k.substr(0, 24) + " must be a number, a boolean or a word");
        ok = false;
        break;
      }
    }
    if (!ok) continue;
    Status s = telemetry_ ? telemetry_->record_client(client, name, list) : Status::ok();
    if (!s.is_ok()) {
      reject(s.message());
      continue;
    }
    ++accepted;
  }
  Metrics::global().record_client_events(accepted, int64_t(rejected.size()));
  return json_response(202, json{{"accepted", accepted}, {"rejected", rejected}});
}

}  // namespace faceweave::server
