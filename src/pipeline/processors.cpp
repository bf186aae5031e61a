// The built-in processors.
#include <algorithm>

#include <opencv2/imgproc.hpp>

#include "enhance/face_enhancer.h"
#include "enhance/frame_enhancer.h"
#include "enhance/onnx_face_enhancer.h"
#include "face/draw.h"
#include "face/face_mask.h"
#include "pipeline/processor.h"
#include "pipeline/swap_settings.h"

namespace faceweave::pipeline {
namespace {

class FaceSwapperProcessor : public Processor {
 public:
  explicit FaceSwapperProcessor(std::unique_ptr<swap::ClassicSwapper> s, const SourceIdentity* src)
      : swapper_(std::move(s)), source_(src) {}
  const char* name() const override { return "face_swapper"; }
  Status process(FrameContext& ctx) const override {
    for (size_t i : ctx.selected) {
      FW_ASSIGN_OR_RETURN(auto outcome,
                          swapper_->swap(ctx.frame, ctx.faces[i], source_->texture, ctx.timings));
      if (outcome.turned_away) ++ctx.turned_away;
      if (outcome.swapped) ctx.swaps.push_back(std::move(outcome));
    }
    return Status::ok();
  }

 private:
  std::unique_ptr<swap::ClassicSwapper> swapper_;
  const SourceIdentity* source_;
};

// An ONNX swapper (inswapper): the source identity is embedded once, when the processor is made.
class OnnxSwapperProcessor : public Processor {
 public:
  OnnxSwapperProcessor(std::unique_ptr<swap::OnnxSwapper> s, std::vector<float> source)
      : swapper_(std::move(s)), source_(std::move(source)) {}
  const char* name() const override { return "face_swapper"; }
  Status process(FrameContext& ctx) const override {
    for (size_t i : ctx.selected) {
      FW_ASSIGN_OR_RETURN(auto outcome, swapper_->swap(ctx.frame, ctx.faces[i], source_, ctx.timings));
      if (outcome.swapped) ctx.swaps.push_back(std::move(outcome));
    }
    return Status::ok();
  }

 private:
  std::unique_ptr<swap::OnnxSwapper> swapper_;
  std::vector<float> source_;
};

// The classic and the ONNX face enhancers, each on every selected face.
template <typename Enhancer>
class FaceEnhancerProcessor : public Processor {
 public:
  explicit FaceEnhancerProcessor(std::unique_ptr<Enhancer> e) : enhancer_(std::move(e)) {}
  const char* name() const override { return "face_enhancer"; }
  Status process(FrameContext& ctx) const override {
    core::ScopedStage stage(ctx.timings, "face_enhance");
    for (size_t i : ctx.selected) FW_RETURN_IF_ERROR(enhancer_->enhance(ctx.frame, ctx.faces[i]).status());
    return Status::ok();
  }

 private:
  std::unique_ptr<Enhancer> enhancer_;
};

class FrameEnhancerProcessor : public Processor {
 public:
  explicit FrameEnhancerProcessor(std::unique_ptr<enhance::FrameEnhancer> e) : enhancer_(std::move(e)) {}
  const char* name() const override { return "frame_enhancer"; }
  Status process(FrameContext& ctx) const override {
    core::ScopedStage stage(ctx.timings, "frame_enhance");
    FW_ASSIGN_OR_RETURN(ctx.frame, enhancer_->enhance(ctx.frame));
    // Later processors (the debugger) draw in the new frame's pixels.
    const float s = float(enhancer_->scale());
    for (auto& f : ctx.faces) {
      f.box = cv::Rect2f(f.box.x * s, f.box.y * s, f.box.width * s, f.box.height * s);
      for (auto& p : f.landmarks68) p *= s;
      for (auto& p : f.landmarks5) p *= s;
    }
    for (auto& sw : ctx.swaps) {
      sw.region = cv::Rect(sw.region.x * int(s), sw.region.y * int(s), sw.region.width * int(s),
                           sw.region.height * int(s));
      cv::resize(sw.mask, sw.mask, sw.region.size(), 0, 0, cv::INTER_LINEAR);
    }
    return Status::ok();
  }

 private:
  std::unique_ptr<enhance::FrameEnhancer> enhancer_;
};

class FaceDebuggerProcessor : public Processor {
 public:
  const char* name() const override { return "face_debugger"; }
  Status process(FrameContext& ctx) const override {
    core::ScopedStage stage(ctx.timings, "debug");
    face::draw_faces(ctx.frame, ctx.faces);
    const int unit = std::max(1, std::max(ctx.frame.cols, ctx.frame.rows) / 600);
    for (size_t i : ctx.selected) {
      const Face& f = ctx.faces[i];
      // Selected faces: a red frame around the box and the face mask's outline.
      cv::rectangle(ctx.frame, f.box, cv::Scalar(0, 0, 255), 2 * unit, cv::LINE_AA);
      auto hull = face::face_hull(face::extend_with_forehead(f.landmarks68));
      cv::polylines(ctx.frame, hull, true, cv::Scalar(255, 128, 0), unit, cv::LINE_AA);
    }
    return Status::ok();
  }
};

}  // namespace

Result<std::unique_ptr<Processor>> ProcessorRegistry::create(const std::string& name,
                                                             const ProcessorDeps& deps) const {
  auto it = factories_.find(name);
  if (it == factories_.end()) {
    std::string known;
    for (const auto& n : names()) known += (known.empty() ? "" : ", ") + n;
    return invalid_argument("unknown processor '" + name + "'; use one of " + known);
  }
  return it->second(deps);
}

std::vector<std::string> ProcessorRegistry::names() const {
  std::vector<std::string> out;
  for (const auto& [k, v] : factories_) out.push_back(k);
  return out;
}

void register_builtin_processors(ProcessorRegistry& registry) {
  registry.add("face_swapper", [](const ProcessorDeps& d) -> Result<std::unique_ptr<Processor>> {
    if (d.options->face_swapper_model != "classic") {
      FW_ASSIGN_OR_RETURN(auto o, onnx_swapper_options(*d.options));
      FW_ASSIGN_OR_RETURN(auto swapper, swap::OnnxSwapper::create(o, *d.models));
      std::vector<cv::Mat> images = d.source->images;
      std::vector<Face> faces = d.source->faces;
      if (images.size() != faces.size()) {  // a hand-made identity (tests): its texture face alone
        images = {d.source->texture.image};
        faces = {d.source->texture.face};
      }
      FW_ASSIGN_OR_RETURN(auto embedding, swapper->source_embedding(images, faces));
      return std::unique_ptr<Processor>(new OnnxSwapperProcessor(std::move(swapper), std::move(embedding)));
    }
    FW_ASSIGN_OR_RETURN(auto opts, classic_swapper_options(*d.options));
    FW_ASSIGN_OR_RETURN(auto swapper, swap::ClassicSwapper::create(opts));
    return std::unique_ptr<Processor>(new FaceSwapperProcessor(std::move(swapper), d.source));
  });
  registry.add("face_enhancer", [](const ProcessorDeps& d) -> Result<std::unique_ptr<Processor>> {
    const std::string& model = d.options->face_enhancer;
    if (model == "gfpgan_1.4") {
      enhance::OnnxFaceEnhancerOptions o;
      o.model = model;
      o.blend = d.options->face_enhancer_blend / 100.0f;
      o.mask_blur = d.options->face_mask_blur;
      FW_ASSIGN_OR_RETURN(auto e, enhance::OnnxFaceEnhancer::create(o, *d.models));
      return std::unique_ptr<Processor>(new FaceEnhancerProcessor<enhance::OnnxFaceEnhancer>(std::move(e)));
    }
    if (model != "detail" && model != "none")
      return invalid_argument("unknown face enhancer '" + model + "'; use none, detail or gfpgan_1.4");
    enhance::FaceEnhancerOptions o;
    o.blend = d.options->face_enhancer_blend / 100.0f;
    FW_ASSIGN_OR_RETURN(auto e, enhance::FaceEnhancer::create(o));
    return std::unique_ptr<Processor>(new FaceEnhancerProcessor<enhance::FaceEnhancer>(std::move(e)));
  });
  registry.add("frame_enhancer", [](const ProcessorDeps& d) -> Result<std::unique_ptr<Processor>> {
    enhance::FrameEnhancerOptions o;
    o.model = d.options->frame_enhancer == "none" ? "fsrcnn_x2" : d.options->frame_enhancer;
    o.blend = d.options->frame_enhancer_blend / 100.0f;
    FW_ASSIGN_OR_RETURN(auto e, enhance::FrameEnhancer::create(o, *d.models));
    return std::unique_ptr<Processor>(new FrameEnhancerProcessor(std::move(e)));
  });
  registry.add("face_debugger", [](const ProcessorDeps&) -> Result<std::unique_ptr<Processor>> {
    return std::unique_ptr<Processor>(new FaceDebuggerProcessor());
  });
}

Result<std::vector<std::string>> chain_names(const SwapOptions& options, const ProcessorRegistry& registry) {
  std::vector<std::string> wanted;
  for (const auto& p : options.processors) {
    if (!registry.has(p)) return registry.create(p, {}).status();
    wanted.push_back(p);
  }
  if (options.face_enhancer != "none") wanted.push_back("face_enhancer");
  if (options.frame_enhancer != "none") wanted.push_back("frame_enhancer");
  if (wanted.empty())
    return invalid_argument("no processors chosen; give --processors face_swapper (the default)");
  std::vector<std::string> chain;
  for (const char* name : {"face_swapper", "face_enhancer", "frame_enhancer", "face_debugger"})
    if (std::find(wanted.begin(), wanted.end(), name) != wanted.end()) chain.push_back(name);
  return chain;
}

}  // namespace faceweave::pipeline
