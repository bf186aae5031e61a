// The processor chain (DESIGN.md section 1): face_swapper -> face_enhancer -> frame_enhancer ->
// face_debugger. Each processor works on one FrameContext: the frame, the faces found in it and which of
// them were selected. Processors are created once per run, hold no per-frame state, and may process
// several frames at once. Registration is explicit (register_builtin_processors), never static.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <opencv2/core.hpp>

#include "core/timing.h"
#include "faceweave/face.h"
#include "faceweave/options.h"
#include "infer/model_registry.h"
#include "swap/classic_swapper.h"

namespace faceweave::pipeline {

// The source identity of a run: computed once, shared by every frame.
struct SourceIdentity {
  std::vector<Face> faces;              // the largest face of each source image
  std::vector<cv::Mat> images;          // the source images, one per face (the ONNX swapper embeds them)
  std::vector<float> normed_embedding;  // mean of the sources' normalised embeddings, renormalised
  swap::SourceFace texture;             // the best source face (largest, most frontal) and its image
};

struct FrameContext {
  cv::Mat frame;                         // 8-bit BGR, processed in place (a frame enhancer may replace it)
  std::vector<Face> faces;               // every face found, in frame pixels
  std::vector<size_t> selected;          // indices into faces
  std::vector<swap::SwapOutcome> swaps;  // one per swapped face (for the debugger)
  int turned_away = 0;                   // selected faces left alone: turned too far from the camera
  core::StageTimings* timings = nullptr;
};

class Processor {
 public:
  virtual ~Processor() = default;
  virtual const char* name() const = 0;
  virtual Status process(FrameContext& ctx) const = 0;
};

struct ProcessorDeps {
  const SwapOptions* options = nullptr;
  const infer::ModelRegistry* models = nullptr;
  const SourceIdentity* source = nullptr;
};

using ProcessorFactory = std::function<Result<std::unique_ptr<Processor>>(const ProcessorDeps&)>;

class ProcessorRegistry {
 public:
  void add(const std::string& name, ProcessorFactory factory) { factories_[name] = std::move(factory); }
  bool has(const std::string& name) const { return factories_.count(name) != 0; }
  Result<std::unique_ptr<Processor>> create(const std::string& name, const ProcessorDeps& deps) const;
  std::vector<std::string> names() const;

 private:
  std::map<std::string, ProcessorFactory> factories_;
};

void register_builtin_processors(ProcessorRegistry& registry);

// The processors a run uses, in chain order, from the options (see SwapOptions::face_enhancer).
Result<std::vector<std::string>> chain_names(const SwapOptions& options, const ProcessorRegistry& registry);

}  // namespace faceweave::pipeline
