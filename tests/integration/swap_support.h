// In-memory swaps for the swap tests: one registry and analyser per process, sources analysed once.
#pragma once

#include <map>
#include <memory>

#include "core/image_io.h"
#include "face/face_analyser.h"
#include "pipeline/image_swap.h"
#include "pipeline/video_swap.h"
#include "test_support.h"

namespace faceweave::testing {

struct SwapHarness {
  std::unique_ptr<infer::ModelRegistry> registry;
  std::unique_ptr<face::FaceAnalyser> analyser;

  static SwapHarness& get() {
    static SwapHarness* h = [] {
      auto* s = new SwapHarness();
      s->registry = std::move(infer::ModelRegistry::create({manifest_path(), models_dir()})).value();
      s->analyser = std::move(face::FaceAnalyser::create({}, *s->registry)).value();
      return s;
    }();
    return *h;
  }

  const pipeline::SourceIdentity& source(const std::string& file) {
    auto it = sources_.find(file);
    if (it == sources_.end()) {
      auto id = pipeline::build_source_identity({image(file)}, *analyser, nullptr);
      EXPECT_TRUE(id.is_ok()) << id.status().to_string();
      it = sources_.emplace(file, std::move(id).value()).first;
    }
    return it->second;
  }

  cv::Mat load(const std::string& file) { return std::move(core::load_image(image(file))).value(); }

  pipeline::FrameContext swap(const std::string& source_file, const cv::Mat& target,
                              const SwapOptions& options, const Face* reference = nullptr) {
    auto ctx =
        pipeline::swap_frame(target, options, source(source_file), *analyser, *registry, reference, nullptr);
    EXPECT_TRUE(ctx.is_ok()) << ctx.status().to_string();
    return ctx ? std::move(ctx).value() : pipeline::FrameContext{};
  }

  // The largest face of an image, fully analysed.
  Face largest_face(const cv::Mat& img) {
    auto faces = analyser->analyse(img);
    EXPECT_TRUE(faces.is_ok() && !faces->empty());
    Face best;
    for (const auto& f : *faces)
      if (f.box.area() > best.box.area()) best = f;
    return best;
  }

 private:
  std::map<std::string, pipeline::SourceIdentity> sources_;
};

}  // namespace faceweave::testing
