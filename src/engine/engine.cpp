#include "faceweave/engine.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>

#include "core/image_io.h"
#include "core/install_paths.h"
#include "face/draw.h"
#include "face/face_analyser.h"
#include "face/head_turn.h"
#include "infer/downloader.h"
#include "infer/model_registry.h"
#include "pipeline/image_swap.h"
#include "pipeline/video_swap.h"

#ifndef FACEWEAVE_DEFAULT_MODELS_DIR
#define FACEWEAVE_DEFAULT_MODELS_DIR ".models"
#endif
#ifndef FACEWEAVE_DEFAULT_MANIFEST
#define FACEWEAVE_DEFAULT_MANIFEST "models/manifest.json"
#endif

namespace faceweave {
namespace {
std::string env_or(const char* name, const std::string& fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::string(v) : fallback;
}

// The build's models folder when it exists; an installed faceweave keeps models in its data dir.
std::string default_models_dir() {
  std::error_code ec;
  if (std::filesystem::exists(FACEWEAVE_DEFAULT_MODELS_DIR, ec) ||
      core::installed_data_path("manifest.json").empty())
    return FACEWEAVE_DEFAULT_MODELS_DIR;
  const std::string data = env_or("FACEWEAVE_DATA_DIR", "");
  if (!data.empty()) return data + "/models";
  return env_or("HOME", ".") + "/.local/share/faceweave/models";
}

Result<std::unique_ptr<infer::ModelRegistry>> open_registry(const EngineOptions& options) {
  return infer::ModelRegistry::create({options.manifest_path, options.models_dir});
}
}  // namespace

EngineOptions resolve_paths(EngineOptions options) {
  if (options.models_dir.empty()) options.models_dir = env_or("FACEWEAVE_MODELS_DIR", default_models_dir());
  if (options.manifest_path.empty())
    options.manifest_path =
        env_or("FACEWEAVE_MANIFEST", core::build_or_installed(FACEWEAVE_DEFAULT_MANIFEST, "manifest.json"));
  return options;
}

Result<std::vector<ModelInfo>> list_models(const EngineOptions& raw) {
  EngineOptions options = resolve_paths(raw);
  FW_ASSIGN_OR_RETURN(auto registry, open_registry(options));
  std::vector<ModelInfo> out;
  for (const auto& e : registry->entries()) {
    auto state = registry->check(e);
    ModelInfo info{e.name,
                   e.role,
                   e.pack,
                   state.path,
                   e.source,
                   e.licence,
                   state.present,
                   state.verified,
                   e.sha256.empty() ? e.crc32 : e.sha256,
                   state.actual_sha256,
                   infer::fix_command_for(e)};
    info.pinned = state.pinned;
    info.unsupported = e.unsupported;
    info.downloadable = !e.url.empty() && e.unsupported.empty();
    out.push_back(std::move(info));
  }
  return out;
}

Result<std::vector<ModelDownloadInfo>> download_models(const EngineOptions& raw,
                                                       const ModelDownloadOptions& request) {
  EngineOptions options = resolve_paths(raw);
  FW_ASSIGN_OR_RETURN(auto registry, open_registry(options));
  std::vector<const infer::ModelEntry*> wanted;
  std::string downloadable;
  for (const auto& e : registry->entries())
    if (!e.url.empty() && e.unsupported.empty()) downloadable += (downloadable.empty() ? "" : ", ") + e.name;
  if (request.names.empty() && request.pack.empty())
    return invalid_argument("name the models to download (" + downloadable + ") or give --pack full");
  if (!request.pack.empty()) {
    bool known_pack = false;
    for (const auto& e : registry->entries()) {
      if (e.pack != request.pack) continue;
      known_pack = true;
      if (!e.url.empty() && e.unsupported.empty()) wanted.push_back(&e);  // a pack skips what cannot run
    }
    if (!known_pack)
      return invalid_argument("unknown model pack '" + request.pack + "'; use full (or default, extra)");
  }
  for (const auto& name : request.names) {
    const infer::ModelEntry* e = registry->find(name);
    if (!e) return invalid_argument("unknown model '" + name + "'; downloadable models: " + downloadable);
    if (!e->unsupported.empty())
      return unsupported("model " + name +
                         " is unsupported on this build, so it is not downloaded: " + e->unsupported);
    if (e->url.empty())
      return invalid_argument("model " + name + " is not downloaded by faceweave (it comes from " +
                              e->source + "); install it with " + infer::fix_command_for(*e));
    if (std::find(wanted.begin(), wanted.end(), e) == wanted.end()) wanted.push_back(e);
  }
  std::vector<ModelDownloadInfo> out;
  for (const infer::ModelEntry* e : wanted) {
    ModelDownloadInfo info;
    info.name = e->name;
    auto state = registry->check(*e);
    info.path = state.path;
    if (state.present && (state.verified || !state.pinned)) {
      info.already_present = true;
      std::error_code ec;
      info.bytes = int64_t(std::filesystem::file_size(state.path, ec));
      out.push_back(std::move(info));
      continue;
    }
    // A corrupt or different file where the model belongs stays until the new one has verified: the rename
    // into place replaces it.
    infer::DownloadOptions d;
    d.attempts = request.attempts;
    d.stall_timeout_s = request.stall_timeout_s;
    if (request.on_progress) {
      const std::string name = e->name;
      d.progress = [&request, name](int64_t done, int64_t total) { request.on_progress(name, done, total); };
    }
    FW_ASSIGN_OR_RETURN(auto r, infer::download_model(*registry, *e, d));
    info.bytes = r.bytes;
    info.resumed = r.resumed;
    info.attempts = r.attempts;
    info.checksum = r.checksum;
    out.push_back(std::move(info));
  }
  return out;
}

Result<cv::Mat> load_image(const std::string& path) {
  return core::load_image(path);
}
Status save_image(const std::string& path, const cv::Mat& bgr, int quality) {
  return core::save_image(path, bgr, quality);
}

namespace {

SwapReport image_report(const pipeline::ImageSwapReport& r) {
  SwapReport report;
  report.faces_found = r.faces_found;
  report.faces_selected = r.faces_selected;
  report.faces_swapped = r.faces_swapped;
  report.faces_turned_away = r.faces_turned_away;
  if (r.faces_turned_away > 0)
    report.warning = std::to_string(r.faces_turned_away) + " selected face(s) turned further than " +
                     std::to_string(int(face::kMaxSwapTurn)) +
                     " degrees from the camera were left as they are (the classic swapper cannot follow a "
                     "profile)";
  report.processors = r.processors;
  for (const auto& [stage, ms] : r.timings.stages()) report.stage_ms.emplace_back(stage, ms);
  report.output_width = r.output_size.width;
  report.output_height = r.output_size.height;
  report.input_width = r.input_size.width;
  report.input_height = r.input_size.height;
  return report;
}

}  // namespace

struct Engine::Impl {
  EngineOptions options;
  std::unique_ptr<infer::ModelRegistry> registry;
  std::unique_ptr<face::FaceAnalyser> analyser;
  ProviderInfo provider;
};

Engine::Engine(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Engine::~Engine() = default;

Result<std::unique_ptr<Engine>> Engine::create(const EngineOptions& raw) {
  auto impl = std::make_unique<Impl>();
  impl->options = resolve_paths(raw);
  FW_ASSIGN_OR_RETURN(auto provider, infer::parse_provider(impl->options.execution_provider));
  FW_ASSIGN_OR_RETURN(impl->registry, open_registry(impl->options));
  const AnalysisOptions& a = impl->options.analysis;
  face::FaceAnalyserOptions fa;
  fa.detector.model = a.detector_model;
  fa.detector.score_threshold = a.detector_score;
  fa.detector.nms_iou = a.detector_nms;
  fa.detector.max_faces = a.max_faces;
  fa.detector.provider = provider;
  fa.landmarker.model = a.landmarker_model;
  fa.landmarker.provider = provider;
  fa.recognizer.model = a.recognizer_model;
  fa.recognizer.provider = provider;
  fa.attributes.provider = provider;
  fa.with_embeddings = a.embeddings;
  fa.with_attributes = a.attributes;
  FW_ASSIGN_OR_RETURN(impl->analyser, face::FaceAnalyser::create(fa, *impl->registry));
  const auto& r = impl->analyser->provider();
  impl->provider = {infer::provider_name(r.requested), infer::provider_name(r.used), r.reason};
  return std::unique_ptr<Engine>(new Engine(std::move(impl)));
}

Result<std::vector<Face>> Engine::analyse(const cv::Mat& bgr) const {
  return impl_->analyser->analyse(bgr);
}

Result<SwapReport> Engine::swap(const SwapRequest& request) const {
  FW_RETURN_IF_ERROR(check_output_not_input(request));
  if (pipeline::is_video_path(request.target)) {
    pipeline::VideoSwapRequest vr{request.sources, request.target, request.output, request.options,
                                  request.video,   nullptr,        request.cancel};
    if (request.on_progress)
      vr.on_progress = [&request](const pipeline::VideoProgress& p) {
        request.on_progress({p.frames_done, p.frames_total, p.fps, p.eta_s});
      };
    FW_ASSIGN_OR_RETURN(auto r, pipeline::run_video_swap(vr, *impl_->analyser, *impl_->registry));
    SwapReport report;
    report.video = true;
    report.frames = r.frames;
    report.frames_without_face = r.frames_without_face;
    report.faces_swapped = int(r.faces_swapped);
    report.audio = r.audio;
    report.seconds = r.seconds;
    report.warning = r.warning;
    report.output_width = r.width;
    report.output_height = r.height;
    report.input_width = r.input_width;
    report.input_height = r.input_height;
    for (const auto& [stage, ms] : r.timings.stages()) report.stage_ms.emplace_back(stage, ms);
    return report;
  }
  FW_ASSIGN_OR_RETURN(
      auto r, pipeline::run_image_swap({request.sources, request.target, request.output, request.options},
                                       *impl_->analyser, *impl_->registry));
  return image_report(r);
}

Result<PreviewResult> Engine::preview(const SwapRequest& request, int64_t frame) const {
  PreviewResult out;
  FW_ASSIGN_OR_RETURN(cv::Mat target, load_frame(request.target, frame));
  FW_ASSIGN_OR_RETURN(auto r,
                      pipeline::swap_image(target, {request.sources, request.target, "", request.options},
                                           *impl_->analyser, *impl_->registry, out.image));
  out.report = image_report(r);
  return out;
}

cv::Mat Engine::draw(const cv::Mat& bgr, const std::vector<Face>& faces) const {
  cv::Mat out = bgr.clone();
  face::draw_faces(out, faces);
  return out;
}

const ProviderInfo& Engine::provider() const {
  return impl_->provider;
}
const EngineOptions& Engine::options() const {
  return impl_->options;
}

}  // namespace faceweave
