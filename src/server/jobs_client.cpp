// The job queue as `faceweave jobs` sees it: the same store and option checks as the server's.
#include <filesystem>

#include "core/private_files.h"
#include "faceweave/server.h"
#include "server/job_store.h"
#include "server/json_input.h"
#include "server/options_json.h"
#include "server/run_defaults.h"

namespace faceweave {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

Result<std::unique_ptr<server::JobStore>> open_store(const JobQueueLocation& queue) {
  const std::string dir = resolve_data_dir(queue.data_dir);
  if (queue.database_url.empty()) FW_RETURN_IF_ERROR(core::make_private_dir(dir));
  return server::open_job_store({dir, queue.database_url, "", 30, 3});
}

JobView view(const server::JobRecord& j) {
  JobView v;
  v.id = j.id;
  v.status = j.status;
  v.kind = j.kind;
  v.progress = j.progress;
  json full = server::job_json(j);
  v.created_at = full.value("created_at", "");
  v.output = j.request.value("output", "");
  v.error = j.error_message;
  full["output"] = v.output;
  v.json = full.dump();
  return v;
}

std::string unique_output(const fs::path& dir, const std::string& stem, const std::string& ext,
                          std::vector<std::string>& taken) {
  for (int n = 0;; ++n) {
    const fs::path p = dir / (stem + (n ? "-" + std::to_string(n) : "") + "." + ext);
    std::error_code ec;
    if (fs::exists(p, ec) || std::find(taken.begin(), taken.end(), p.string()) != taken.end()) continue;
    taken.push_back(p.string());
    return p.string();
  }
}

}  // namespace

Result<std::vector<JobView>> submit_jobs(const JobQueueLocation& queue, const JobSubmitRequest& request) {
  if (request.sources.empty()) return invalid_argument("give at least one source photo (-s)");
  if (request.targets.empty()) return invalid_argument("give at least one target (-t)");
  // The same checks as the API's and `faceweave swap`'s.
  server::JobOptions options{request.options, request.video, request.output_format};
  json options_json = server::job_options_to_json(options);
  if (!request.options_json.empty()) {
    auto parsed = server::parse_json_input(request.options_json, "--options");
    if (!parsed || !parsed->is_object())
      return invalid_argument(
          (parsed ? std::string("--options is not a JSON object") : parsed.status().message()) +
          "; give a JSON object such as '{\"blend\": \"affine\"}'");
    // Flags given beside --options win over its keys: every value the flags changed from its default.
    const json defaults = server::job_options_to_json(server::JobOptions{});
    json merged = std::move(parsed).value();
    for (auto& [key, value] : options_json.items())
      if (!defaults.contains(key) || defaults[key] != value) merged[key] = value;
    options_json = std::move(merged);
    if (!request.output_format.empty()) options_json["output_format"] = request.output_format;
  }
  // A flag the user gave at its built-in default is still theirs: kept, so no default replaces it.
  const json catalog = server::option_catalog();
  for (const auto& key : request.given)
    if (!options_json.contains(key) && catalog.contains(key)) options_json[key] = catalog[key]["default"];
  // The profile's and the experiments' defaults, as `faceweave swap` and the API resolve them.
  std::optional<DefaultsProfile> profile;
  if (request.defaults_profile) profile = *request.defaults_profile;
  const server::RunDefaults defaults =
      server::run_defaults(profile, resolve_data_dir(queue.data_dir), request.telemetry, options_json, "");
  server::JobOptions checked;
  server::FieldError error;
  if (!server::parse_job_options(server::merged_options(defaults.defaults, options_json), checked, error,
                                 [](const std::string& path) -> Result<std::string> {
                                   auto info = probe_media(path);
                                   if (!info) return info.status();
                                   return fs::absolute(path).string();
                                 }))
    return error.field.empty() ? error.status
                               : Status(error.status.code(), error.field + ": " + error.status.message());
  json stored_options = options_json;
  if (!checked.swap.reference_face_image.empty())
    stored_options["reference_face_image"] = checked.swap.reference_face_image;
  std::vector<std::string> sources;
  for (const auto& s : request.sources) {
    FW_ASSIGN_OR_RETURN(auto info, probe_media(s));
    if (info.kind != "image") return invalid_argument("source " + s + " is a video; sources must be photos");
    sources.push_back(fs::absolute(s).string());
  }
  struct Planned {
    std::vector<std::string> sources;
    std::string target, kind, stem, ext;
  };
  std::vector<Planned> planned;
  for (const auto& t : request.targets) {
    FW_ASSIGN_OR_RETURN(auto info, probe_media(t));
    std::string ext = checked.output_format.empty() ? info.format : checked.output_format;
    if (info.kind == "image" ? !server::is_image_format(ext) : !server::is_video_format(ext))
      return invalid_argument("--output-format " + ext + " does not fit the " + info.kind + " target " + t);
    const std::string target = fs::absolute(t).string();
    const std::string tstem = fs::path(t).stem().string();
    if (request.combine) {
      planned.push_back({sources, target, info.kind, tstem, ext});
    } else {
      for (const auto& s : sources)
        planned.push_back({{s}, target, info.kind, tstem + "-" + fs::path(s).stem().string(), ext});
    }
  }
  const std::string dir_name =
      request.output_dir.empty()
          ? (fs::path(queue.media_dir.empty() ? resolve_data_dir(queue.data_dir)
                                              : fs::absolute(queue.media_dir).string()) /
             "results")
                .string()
          : fs::absolute(request.output_dir).string();
  std::error_code ec;
  if (request.output_dir.empty()) {
    FW_RETURN_IF_ERROR(core::make_private_dir(dir_name));  // the server's own results folder
  } else {
    fs::create_directories(dir_name, ec);
    if (ec) return io_error("cannot create the output folder " + dir_name + " (" + ec.message() + ")");
  }
  FW_ASSIGN_OR_RETURN(auto store, open_store(queue));
  std::vector<JobView> out;
  // A queued or running job's output does not exist yet but is spoken for: an earlier submit of the same
  // target must not be overwritten by this one.
  std::vector<std::string> taken;
  for (const char* status : {"queued", "running"}) {
    FW_ASSIGN_OR_RETURN(auto pending, store->list(status, 100000));
    for (const auto& j : pending) taken.push_back(j.request.value("output", ""));
  }
  for (const auto& p : planned) {
    json req{{"sources", p.sources},
             {"target", p.target},
             {"options", stored_options},
             {"output", unique_output(dir_name, p.stem, p.ext, taken)},
             {"origin", "cli"}};
    // Like an API job: the defaults apart from the user's options, and the run its exposures belong to.
    if (!defaults.defaults.empty()) req["defaults"] = defaults.defaults;
    std::optional<TelemetryRun> run;
    if (request.telemetry && !defaults.exposures.empty()) {
      run.emplace();
      req["run"] = run->id();
    }
    FW_ASSIGN_OR_RETURN(auto job, store->submit(req, p.kind));
    if (run) record_exposures(*request.telemetry, defaults.exposures);
    out.push_back(view(job));
  }
  return out;
}

Result<std::vector<JobView>> list_jobs(const JobQueueLocation& queue, const std::string& status, int limit) {
  FW_ASSIGN_OR_RETURN(auto store, open_store(queue));
  FW_ASSIGN_OR_RETURN(auto jobs, store->list(status, limit));
  std::vector<JobView> out;
  for (const auto& j : jobs) out.push_back(view(j));
  return out;
}

Result<JobView> show_job(const JobQueueLocation& queue, const std::string& id) {
  FW_ASSIGN_OR_RETURN(auto store, open_store(queue));
  FW_ASSIGN_OR_RETURN(auto job, store->get(id));
  return view(job);
}

Result<JobView> cancel_job(const JobQueueLocation& queue, const std::string& id) {
  FW_ASSIGN_OR_RETURN(auto store, open_store(queue));
  FW_ASSIGN_OR_RETURN(auto job, store->cancel(id));
  return view(job);
}

}  // namespace faceweave
