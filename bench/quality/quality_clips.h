// The video part of the hard evaluation set (docs/quality.md, "Clips"): a source photo swapped into short
// clips through the real video pipeline (tracking, landmark smoothing, detector interval, encoding), then
// judged frame by frame against the clip before the swap: identity by both recognizers on sampled frames,
// and flicker - the frame-to-frame jitter inside every face that the swap adds.
#pragma once

#include <string>
#include <vector>

#include <opencv2/core.hpp>

#include "face/face_analyser.h"
#include "faceweave/options.h"
#include "infer/model_registry.h"
#include "quality_set.h"

namespace faceweave::quality {

struct QualityClip {
  std::string name;
  std::vector<std::string> tags;  // small-faces, crowd, smile, motion, ...
  ImageSpec source;               // under testdata/images
  std::string video;              // under testdata/video
  double scale = 1.0;             // the output's size relative to the clip (0.4: faces of 40-70 px)
};

// The clips of the set (at least two).
const std::vector<QualityClip>& hard_clips();

// One face in one measured frame.
struct ClipFace {
  int frame = 0;
  float sim_source = 0, sim_target = 0;  // project recognizer, output face vs source / vs the frame's target
  bool moved = false;                    // sim_source > sim_target
  bool swapped = false;                  // the pipeline changed the face (false: left as it was)
  float height = 0;                      // the face box's height in the output frame, px
  cv::Rect box;
  cv::Mat chip_target, chip_output;  // upright 150 px chips (second recognizer)
};

struct ClipResult {
  std::string name;
  int frames = 0;
  std::vector<ClipFace> faces;  // every face of every sampled frame
  cv::Mat source, chip_source;
  // Flicker: mean absolute second temporal difference |x(t) - (x(t-1) + x(t+1)) / 2| of the grey level
  // inside the inner face boxes, over every frame and face; smooth motion gives little, jitter much. The
  // swap adds flicker where the output's exceeds the clip's (ratio output / clip > 1).
  double flicker_output = 0, flicker_target = 0;
  // The same on the grey level blurred by a tenth of each face's height: what remains is shading that
  // pumps or jumps (colour statistics, the blend's correction, the mask), not fine texture moving.
  double shading_flicker_output = 0, shading_flicker_target = 0;
  int flicker_samples = 0;  // face-frames measured
  double seconds = 0;       // the swap alone (decode, analyse, swap, encode)
  // For the contact sheet: sampled target/output frames and a strip of one face over consecutive frames.
  std::vector<cv::Mat> sheet_targets, sheet_outputs;
  cv::Mat strip_target, strip_output;
};

// Swaps `clip` with `options`/`video` (every face: selector mode "many"; lossless encoding unless `video`
// says otherwise, so that the measures see the swap, not the codec) into `work_dir` and measures every
// `stride`-th frame's faces and every frame's flicker. Errors: files missing, no face in the source, the
// swap failed.
Result<ClipResult> run_clip(const std::string& testdata_dir, const QualityClip& clip, SwapOptions options,
                            VideoOptions video, int stride, const face::FaceAnalyser& analyser,
                            const infer::ModelRegistry& models, const std::string& work_dir);

// The second recognizer (second_descriptors, `script`) on a clip's measured faces: per face of r.faces, the
// distance of its output chip's descriptor to the source chip's and to its target chip's. The chips are
// written to `work_dir` under the clip's name. Errors: the recognizer could not run or gave too few.
struct SecondDistances {
  double to_source = 0, to_target = 0;
};
Result<std::vector<SecondDistances>> second_distances(const std::string& script, const ClipResult& r,
                                                      const std::string& work_dir);

}  // namespace faceweave::quality
