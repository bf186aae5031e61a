// Image runs: sources -> source identity; target -> faces -> selection -> processor chain -> output.
// Every check that needs no model runs first (options, output path, target), so a bad request fails fast,
// and the output is written atomically: a failed run leaves no file.
#pragma once

#include <string>
#include <vector>

#include "face/face_analyser.h"
#include "face/face_selector.h"
#include "faceweave/options.h"
#include "pipeline/processor.h"

namespace faceweave::pipeline {

struct ImageSwapRequest {
  std::vector<std::string> sources;
  std::string target;
  std::string output;
  SwapOptions options;
};

struct ImageSwapReport {
  int faces_found = 0;
  int faces_selected = 0;
  int faces_swapped = 0;
  int faces_turned_away = 0;  // selected but turned too far from the camera to swap (face/head_turn.h)
  std::vector<std::string> processors;
  core::StageTimings timings;
  cv::Size output_size;
  cv::Size input_size;        // the target's
  int faces_watermarked = 0;  // docs/provenance.md
};

enum class OutputKind { kImage, kVideo };

// Checks the output path: an extension of its kind, not the target itself, in an existing writable folder.
Status check_output_path(const std::string& output, const std::string& target,
                         OutputKind kind = OutputKind::kImage);

// The largest face of each source (an error naming the source when one has none), their mean identity,
// and the best texture donor (largest and most frontal).
Result<SourceIdentity> build_source_identity(const std::vector<std::string>& sources,
                                             const face::FaceAnalyser& analyser, core::StageTimings* timings);

// Runs the whole chain on one image in memory (used by the image runner and by the tests).
Result<FrameContext> swap_frame(const cv::Mat& target, const SwapOptions& options,
                                const SourceIdentity& source, const face::FaceAnalyser& analyser,
                                const infer::ModelRegistry& models, const Face* reference,
                                core::StageTimings* timings);

// The whole image run on an in-memory target (previews too): `output` receives the swapped image.
Result<ImageSwapReport> swap_image(const cv::Mat& target, const ImageSwapRequest& request,
                                   const face::FaceAnalyser& analyser, const infer::ModelRegistry& models,
                                   cv::Mat& output);

Result<ImageSwapReport> run_image_swap(const ImageSwapRequest& request, const face::FaceAnalyser& analyser,
                                       const infer::ModelRegistry& models);

}  // namespace faceweave::pipeline
