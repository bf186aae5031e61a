// The hard evaluation set for swap quality and the metrics that judge a swap (docs/quality.md).
// Pairs are built from the shared test data (../shared/testdata/images), some through a transform that makes
// a hard case out of an ordinary photo (low light, a small face, a turned head, a mirrored face). Used by
// bench/quality/quality_eval (contact sheet + JSON report) and by tests/integration/quality_test.cpp.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <opencv2/core.hpp>

#include "face/face_analyser.h"
#include "faceweave/face.h"
#include "pipeline/processor.h"

namespace faceweave::quality {

// A change applied to a test image before it is used, to make a hard case out of it.
enum class Transform { kNone, kLowLight, kSmall, kMirror, kRotate };

struct ImageSpec {
  std::string file;  // under testdata/images
  Transform transform = Transform::kNone;
  int face = -1;  // which face (index in the analyser's order, largest first) for sources; -1: largest
};

struct QualityPair {
  std::string name;
  std::vector<std::string> tags;  // what makes it hard: open-mouth, smile, dark-skin, small, low-light, ...
  ImageSpec source;
  ImageSpec target;
  bool many = false;  // swap every face of the target (crowds, two faces)
};

// The whole set (at least 16 pairs).
const std::vector<QualityPair>& hard_set();

// Loads an image of the set with its transform applied.
cv::Mat load_spec(const std::string& images_dir, const ImageSpec& spec);

// What a swap of one target face did, measured against the target before the swap.
struct FaceMetrics {
  float sim_source = 0;      // project recognizer: cosine similarity of the output face to the source
  float sim_target = 0;      // ... to the target face before the swap
  bool moved = false;        // sim_source > sim_target
  bool same_person = false;  // the target face already is the source's person: no move to expect
  float nme = 0;             // landmark error of the output against the target (mean / inter-ocular)
  float mouth_nme = 0;       // the same over the 20 mouth points
  float seam_ratio = 0;      // gradient on the mask's edge band, output over target (1 = no seam)
  float delta_e = 0;         // CIE76 colour difference of the cheeks' mean, output vs target
  float shading = 0;         // band-pass luminance change on the skin (grey levels RMS): "mask look" streaks
  cv::Rect face_box;         // the target face's box in the target image
  cv::Mat chip_source, chip_target, chip_output;  // upright 150x150 face chips (second recognizer)
};

struct PairResult {
  std::string name;
  std::vector<FaceMetrics> faces;  // one per swapped face
  double changed_outside = 0;      // share of pixels outside every swap region that changed (0 expected)
  double seconds = 0;
  cv::Mat source, target, output;
};

// Upright square chip of a face (rotated by its eye line, 1.6x the eye-to-mouth span), size x size.
cv::Mat face_chip(const cv::Mat& image, const Face& face, int size = 150);

// Metrics of one swapped face. `target_face` is the analysed face before the swap, `output_face` the same
// face found again in the output (analysed), `region`/`mask` the swap's outcome.
FaceMetrics measure_face(const cv::Mat& target, const cv::Mat& output, const Face& target_face,
                         const Face& output_face, const Face& source_face, const cv::Rect& region,
                         const cv::Mat& mask);

// The face of `faces` nearest to `like` (by landmark centre), or nullptr.
const Face* nearest_face(const std::vector<Face>& faces, const Face& like);

// Euclidean distance of two of its descriptors (the first min(sizes) components).
double descriptor_distance(const std::vector<float>& a, const std::vector<float>& b);

}  // namespace faceweave::quality

namespace faceweave::quality {

// Swaps one pair of the set with `options` (selector mode set from the pair) and measures every swapped
// face. Fills result.source/target/output. Errors: images missing, no face in the source.
Result<PairResult> run_pair(const std::string& images_dir, const QualityPair& pair, SwapOptions options,
                            const face::FaceAnalyser& analyser, const infer::ModelRegistry& models);

// The second, independent recognizer (face-api.js's ResNet, bench/quality/node): 128-d descriptors of the
// chips, by file path. Runs `script` (descriptors.sh) once for all chips; an error when it cannot run.
Result<std::vector<std::vector<float>>> second_descriptors(const std::string& script,
                                                           const std::vector<std::string>& chips,
                                                           const std::string& work_dir);

// Euclidean distance of two of its descriptors (the first min(sizes) components).
double descriptor_distance(const std::vector<float>& a, const std::vector<float>& b);

}  // namespace faceweave::quality
