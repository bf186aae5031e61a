// FaceAnalyser = detector -> 68-point landmarker -> five alignment points -> recognizer -> attributes.
// Input: an 8-bit BGR image of at least kMinSide pixels per side. Output: faces strongest first, every
// coordinate in the input's pixels. Immutable after create(); analyse() may run on many threads at once.
#pragma once

#include <memory>
#include <vector>

#include "core/timing.h"
#include "face/attributes.h"
#include "face/detector.h"
#include "face/landmarker.h"
#include "face/recognizer.h"
#include "faceweave/face.h"

namespace faceweave::face {

struct FaceAnalyserOptions {
  FaceDetectorOptions detector;
  LandmarkerOptions landmarker;
  RecognizerOptions recognizer;
  AttributeOptions attributes;
  bool with_embeddings = true;  // run the recognizer
  bool with_attributes = true;  // run age, gender and pose
  // Drop detections whose cheeks have no skin colour in a colourful scene (skinless_check.h): objects the
  // detector took for faces.
  bool reject_skinless = true;
};

// What one analyse() call computes beyond boxes and landmarks (each only if the analyser was created with
// it).
struct AnalyseFlags {
  bool embeddings = true;
  bool attributes = true;
};

class FaceAnalyser {
 public:
  static constexpr int kMinSide = 32;
  static Result<std::unique_ptr<FaceAnalyser>> create(const FaceAnalyserOptions& options,
                                                      const infer::ModelRegistry& models);
  Result<std::vector<Face>> analyse(const cv::Mat& bgr, AnalyseFlags flags = {},
                                    core::StageTimings* timings = nullptr) const;
  // Video frames between detector runs: each face of the previous frame is looked for again by running the
  // landmarker on its previous box (and once more through the box moved with the landmarks when the face
  // moved), and its box moved with the landmarks. A face that is too small to follow (under 48 px) or whose
  // new landmarks are not plausibly the same face (moved or resized too much, two looks disagree, left the
  // frame) is left out: the caller then runs analyse() on the frame. Embeddings are not computed; every other
  // field is carried over.
  Result<std::vector<Face>> follow(const cv::Mat& bgr, const std::vector<Face>& previous,
                                   core::StageTimings* timings = nullptr) const;
  // Computes the embedding of every face that has none (faces analysed without embeddings, when it turned
  // out they are needed after all). Fails when the analyser was created without a recognizer.
  Status embed(const cv::Mat& bgr, std::vector<Face>& faces, core::StageTimings* timings = nullptr) const;
  const infer::ProviderResolution& provider() const { return detector_->provider(); }
  const FaceAnalyserOptions& options() const { return options_; }
  const Recognizer* recognizer() const { return recognizer_.get(); }

 private:
  FaceAnalyserOptions options_;
  std::unique_ptr<FaceDetector> detector_;
  std::unique_ptr<Landmarker> landmarker_;
  std::unique_ptr<Recognizer> recognizer_;
  std::unique_ptr<AttributeEstimator> attributes_;
};

}  // namespace faceweave::face
