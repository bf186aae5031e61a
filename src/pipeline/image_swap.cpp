#include "pipeline/image_swap.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "core/image_io.h"
#include "face/recognizer.h"
#include "pipeline/provenance_marks.h"
#include "pipeline/swap_settings.h"
#include "pipeline/video_swap.h"

namespace faceweave::pipeline {
namespace fs = std::filesystem;
namespace {

const Face* largest(const std::vector<Face>& faces) {
  const Face* best = nullptr;
  for (const auto& f : faces)
    if (!best || f.box.area() > best->box.area()) best = &f;
  return best;
}

float frontal_weight(const Face& f) {
  if (!f.pose) return 1.0f;
  return std::max(0.2f, 1.0f - (std::abs(f.pose->yaw) + std::abs(f.pose->pitch)) / 90.0f);
}

bool needs_attributes(const face::FaceSelectorOptions& s) {
  return s.gender.has_value() || s.age_start > 0 || s.age_end < 100;
}

}  // namespace

Status check_output_path(const std::string& output, const std::string& target, OutputKind kind) {
  const bool video = kind == OutputKind::kVideo;
  const char* allowed = video ? ".mp4, .mov, .mkv, .webm, .avi or .m4v" : ".jpg, .jpeg, .png, .webp or .bmp";
  if (output.empty())
    return invalid_argument(std::string("no output path given; pass -o OUTPUT (") + allowed + ")");
  std::string ext = fs::path(output).extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return char(std::tolower(c)); });
  const bool image_ext = ext == ".jpg" || ext == ".jpeg" || ext == ".png" || ext == ".webp" || ext == ".bmp";
  if (video ? !is_video_path(output) : !image_ext)
    return invalid_argument("output " + output + " has the unsupported extension '" + ext + "' for " +
                            (video ? "a video" : "an image") + " target; use " + allowed);
  std::error_code ec;
  if (fs::weakly_canonical(output, ec) == fs::weakly_canonical(target, ec) ||
      (fs::exists(output, ec) && fs::equivalent(output, target, ec)))
    return invalid_argument(
        "output " + output +
        " is the target itself; faceweave never overwrites its input, choose another path");
  fs::path dir = fs::path(output).parent_path();
  if (dir.empty()) dir = ".";
  if (!fs::is_directory(dir, ec))
    return not_found("the output folder " + dir.string() +
                     " does not exist; create it first or choose another path");
  if (::access(dir.c_str(), W_OK) != 0)
    return permission_denied("the output folder " + dir.string() + " is not writable; choose another path");
  return Status::ok();
}

Result<SourceIdentity> build_source_identity(const std::vector<std::string>& sources,
                                             const face::FaceAnalyser& analyser,
                                             core::StageTimings* timings) {
  if (sources.empty())
    return invalid_argument("no source image given; pass -s SOURCE (a photo of the face to use)");
  SourceIdentity id;
  std::vector<cv::Mat> images;
  std::vector<double> sum(512, 0.0);
  for (const auto& path : sources) {
    cv::Mat img;
    {
      core::ScopedStage stage(timings, "decode");
      FW_ASSIGN_OR_RETURN(img, core::load_image(path));
    }
    // Attributes only to choose the most frontal of several sources (frontal_weight reads the pose).
    FW_ASSIGN_OR_RETURN(auto faces, analyser.analyse(img, {true, sources.size() > 1}, timings));
    const Face* f = largest(faces);
    if (!f)
      return no_face("source " + path +
                     " has no face that faceweave can find; use a photo where the face is clear, "
                     "frontal and at least 40 pixels wide");
    if (f->normed_embedding.size() == sum.size())
      for (size_t i = 0; i < sum.size(); ++i) sum[i] += f->normed_embedding[i];
    id.faces.push_back(*f);
    images.push_back(img);
  }
  id.normed_embedding = face::l2_normalise(std::vector<float>(sum.begin(), sum.end()));
  size_t best = 0;
  for (size_t i = 1; i < id.faces.size(); ++i)
    if (id.faces[i].box.area() * frontal_weight(id.faces[i]) >
        id.faces[best].box.area() * frontal_weight(id.faces[best]))
      best = i;
  id.texture = {images[best], id.faces[best]};
  id.images = std::move(images);
  return id;
}

Result<FrameContext> swap_frame(const cv::Mat& target, const SwapOptions& options,
                                const SourceIdentity& source, const face::FaceAnalyser& analyser,
                                const infer::ModelRegistry& models, const Face* reference,
                                core::StageTimings* timings) {
  FW_RETURN_IF_ERROR(validate(options));
  FW_ASSIGN_OR_RETURN(auto sel_opts, selector_options(options));
  FW_ASSIGN_OR_RETURN(auto selector, face::FaceSelector::create(sel_opts));
  FrameContext ctx;
  ctx.frame = target.clone();
  ctx.timings = timings;
  const bool reference_mode = sel_opts.mode == face::SelectorMode::kReference;
  // Without a reference face given, the reference is picked among the target's own faces; a target with
  // one face is its own reference and needs no embedding to be selected (the recognizer is the costliest
  // step of a one-face image swap), so the target's faces are embedded only when there are several.
  const bool picks_own = reference_mode && !reference;
  FW_ASSIGN_OR_RETURN(
      ctx.faces,
      analyser.analyse(ctx.frame, {reference_mode && !picks_own, needs_attributes(sel_opts)}, timings));
  if (picks_own && ctx.faces.size() > 1) FW_RETURN_IF_ERROR(analyser.embed(ctx.frame, ctx.faces, timings));
  Face own_reference;
  if (picks_own) {
    auto picked = selector.pick_reference(ctx.faces);
    if (!picked) {
      if (ctx.faces.empty())
        return no_face("the target has no face that faceweave can find; nothing to swap");
      return picked.status();
    }
    own_reference = std::move(picked).value();
    reference = &own_reference;
  }
  if (picks_own && ctx.faces.size() == 1)
    ctx.selected = {0};  // the picked reference is the face itself
  else
    ctx.selected = selector.select(ctx.faces, reference);

  ProcessorRegistry registry;
  register_builtin_processors(registry);
  FW_ASSIGN_OR_RETURN(auto names, chain_names(options, registry));
  ProcessorDeps deps{&options, &models, &source};
  for (const auto& name : names) {
    FW_ASSIGN_OR_RETURN(auto processor, registry.create(name, deps));
    FW_RETURN_IF_ERROR(processor->process(ctx));
  }
  return ctx;
}

Result<ImageSwapReport> swap_image(const cv::Mat& target, const ImageSwapRequest& req,
                                   const face::FaceAnalyser& analyser, const infer::ModelRegistry& models,
                                   cv::Mat& output) {
  FW_RETURN_IF_ERROR(validate(req.options));
  ImageSwapReport report;
  FW_ASSIGN_OR_RETURN(auto source, build_source_identity(req.sources, analyser, &report.timings));
  std::optional<Face> reference;
  if (!req.options.reference_face_image.empty() && req.options.face_selector_mode == "reference") {
    cv::Mat ref_img;
    FW_ASSIGN_OR_RETURN(ref_img, core::load_image(req.options.reference_face_image));
    FW_ASSIGN_OR_RETURN(auto ref_faces, analyser.analyse(ref_img, {true, false}, &report.timings));
    const Face* f = largest(ref_faces);
    if (!f)
      return no_face("reference face image " + req.options.reference_face_image +
                     " has no face; use a clear photo of the person to replace");
    reference = *f;
  }
  FW_ASSIGN_OR_RETURN(auto ctx, swap_frame(target, req.options, source, analyser, models,
                                           reference ? &*reference : nullptr, &report.timings));
  report.faces_found = int(ctx.faces.size());
  report.faces_selected = int(ctx.selected.size());
  report.faces_swapped = int(ctx.swaps.size());
  report.faces_turned_away = ctx.turned_away;
  if (ctx.selected.empty())
    return no_face(
        "no face of the target " + req.target + " was selected (" + std::to_string(ctx.faces.size()) +
        " found, selector mode " + req.options.face_selector_mode +
        "); loosen the selection (e.g. --face-selector-mode many, or a larger --reference-face-distance)");
  report.faces_watermarked = watermark_frame(ctx, target.size(), req.options, new_run_payload());
  report.output_size = ctx.frame.size();
  report.input_size = target.size();
  ProcessorRegistry registry;
  register_builtin_processors(registry);
  report.processors = chain_names(req.options, registry).value();
  output = std::move(ctx.frame);
  return report;
}

Result<ImageSwapReport> run_image_swap(const ImageSwapRequest& req, const face::FaceAnalyser& analyser,
                                       const infer::ModelRegistry& models) {
  FW_RETURN_IF_ERROR(validate(req.options));
  FW_RETURN_IF_ERROR(check_output_path(req.output, req.target));
  core::StageTimings decode_time;
  cv::Mat target;
  {
    core::ScopedStage stage(&decode_time, "decode");
    FW_ASSIGN_OR_RETURN(target, core::load_image(req.target));
  }
  cv::Mat output;
  FW_ASSIGN_OR_RETURN(auto report, swap_image(target, req, analyser, models, output));
  report.timings.merge(decode_time);
  {
    core::ScopedStage stage(&report.timings, "encode");
    FW_RETURN_IF_ERROR(save_image_output(req.output, output, req.options, report.processors));
  }
  return report;
}

}  // namespace faceweave::pipeline
