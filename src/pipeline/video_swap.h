// Video runs: decode thread -> bounded queue -> parallel face analysis -> in-order tracking, landmark
// smoothing and selection -> parallel swap/enhance -> in-order encoding with the original audio.
// Memory is bounded by the window of frames in flight (a few per worker), not by the video's length.
// The source identity is computed once; each tracked face is embedded once (when its track starts) in
// reference mode. Output goes to a temporary file renamed at the end; a failed or cancelled run leaves none.
#pragma once

#include <atomic>
#include <functional>
#include <string>
#include <vector>

#include "face/face_analyser.h"
#include "face/recognizer.h"
#include "faceweave/options.h"
#include "pipeline/image_swap.h"

namespace faceweave::pipeline {

struct VideoProgress {
  int64_t frames_done = 0;
  int64_t frames_total = 0;  // estimate; 0 when unknown
  double fps = 0;
  double eta_s = 0;
};

struct VideoSwapRequest {
  std::vector<std::string> sources;
  std::string target;
  std::string output;
  SwapOptions options;
  VideoOptions video;
  std::function<void(const VideoProgress&)> on_progress;  // called from the encoding thread
  const std::atomic<bool>* cancel = nullptr;              // set to stop: workers drain, output deleted
};

struct VideoSwapReport {
  int64_t frames = 0;
  int64_t frames_without_face = 0;  // passed through unchanged
  int64_t faces_swapped = 0;
  double seconds = 0;
  bool audio = false;
  int width = 0;  // output frame size
  int height = 0;
  int input_width = 0;  // the target's frame as displayed (rotation applied), before --scale
  int input_height = 0;
  std::string warning;         // e.g. the input was damaged and ended early
  core::StageTimings timings;  // summed over frames (worker time, not wall time)
};

bool is_video_path(const std::string& path);

Result<VideoSwapReport> run_video_swap(const VideoSwapRequest& request, const face::FaceAnalyser& analyser,
                                       const infer::ModelRegistry& models);

}  // namespace faceweave::pipeline
