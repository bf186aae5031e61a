// A face found in an image: what the analyser knows about it. All coordinates are in the pixels of the
// image that was analysed, whatever size the networks ran at.
#pragma once

#include <array>
#include <optional>
#include <vector>

#include <opencv2/core/types.hpp>

namespace faceweave {

enum class Gender { kFemale, kMale };

struct HeadPose {
  float yaw = 0;    // degrees, positive = the face turns to the image's left
  float pitch = 0;  // degrees
  float roll = 0;   // degrees
};

struct Face {
  cv::Rect2f box;   // detector box
  float score = 0;  // detector confidence 0..1
  bool has_landmarks = false;
  std::array<cv::Point2f, 68> landmarks68{};  // iBUG 300-W order
  std::array<cv::Point2f, 5>
      landmarks5{};              // left eye, right eye, nose tip, left mouth corner, right mouth corner
  std::vector<float> embedding;  // raw recognizer output; empty when not computed
  std::vector<float> normed_embedding;  // L2-normalised embedding
  std::optional<float> age;             // years
  std::optional<Gender> gender;
  float gender_score = 0;  // 0 = female .. 1 = male, as the model outputs it
  std::optional<HeadPose> pose;
};

// Cosine similarity of two faces' normalised embeddings (1 = same direction); 0 when either has none.
float face_similarity(const Face& a, const Face& b);
// Cosine distance, 1 - similarity: what the face selector's reference distance compares against.
inline float face_distance(const Face& a, const Face& b) {
  return 1.0f - face_similarity(a, b);
}

}  // namespace faceweave
