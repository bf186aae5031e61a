#include "face/scrfd_detector.h"

#include <algorithm>
#include <array>
#include <cmath>

#include <opencv2/dnn.hpp>
#include <opencv2/imgproc.hpp>

namespace faceweave::face {
namespace {

constexpr std::array<int, 3> kStrides = {8, 16, 32};

// Rows and columns of an output read as [N,k] (a leading batch of 1 is allowed).
bool rows_cols(const cv::Mat& m, int* rows, int* cols) {
  if (m.dims == 2) {
    *rows = m.size[0];
    *cols = m.size[1];
  } else if (m.dims == 3 && m.size[0] == 1) {
    *rows = m.size[1];
    *cols = m.size[2];
  } else {
    return false;
  }
  return true;
}

}  // namespace

Result<std::unique_ptr<FaceDetector>> ScrfdDetector::create(const FaceDetectorOptions& options,
                                                            const std::string& path, int input_size) {
  if (input_size < 32 || input_size % 32 != 0)
    return invalid_argument("SCRFD input size must be a multiple of 32 (got " + std::to_string(input_size) +
                            ")");
  auto det = std::make_unique<ScrfdDetector>();
  det->options_ = options;
  det->size_ = input_size;
  FW_ASSIGN_OR_RETURN(det->model_, infer::Model::create(options.model, path, {options.provider}));
  if (det->model_->output_names().size() != 9)
    return model_error("model " + options.model + " has " +
                       std::to_string(det->model_->output_names().size()) +
                       " outputs; an SCRFD detector has nine (score, box and key points for 3 strides)");
  return std::unique_ptr<FaceDetector>(std::move(det));
}

Result<std::vector<Detection>> ScrfdDetector::detect(const cv::Mat& bgr) const {
  if (bgr.empty() || bgr.type() != CV_8UC3) return invalid_argument("face detector needs an 8-bit BGR image");
  const double ratio = std::min(double(size_) / bgr.cols, double(size_) / bgr.rows);
  const cv::Size fitted(std::clamp(int(std::lround(bgr.cols * ratio)), 1, size_),
                        std::clamp(int(std::lround(bgr.rows * ratio)), 1, size_));
  cv::Mat canvas = cv::Mat::zeros(size_, size_, CV_8UC3);
  cv::resize(bgr, canvas(cv::Rect(cv::Point(0, 0), fitted)), fitted, 0, 0, cv::INTER_LINEAR);
  cv::Mat blob = cv::dnn::blobFromImage(canvas, 1.0 / 128.0, cv::Size(), cv::Scalar::all(127.5), true, false);
  FW_ASSIGN_OR_RETURN(auto out, model_->run(blob, model_->output_names()));

  // Sort the nine outputs into (stride, score/box/kps) by shape.
  int anchors = 0;
  const int cells8 = (size_ / 8) * (size_ / 8);
  for (const auto& m : out) {
    int r = 0, c = 0;
    if (rows_cols(m, &r, &c) && c == 1 && r % cells8 == 0) anchors = std::max(anchors, r / cells8);
  }
  if (anchors < 1)
    return model_error("model " + options_.model + " has no stride-8 score output [" +
                       std::to_string(cells8) + " x anchors, 1]; is it an SCRFD detector at input size " +
                       std::to_string(size_) + "?");
  std::array<std::array<const cv::Mat*, 3>, 3> parts{};  // [stride][score, box, kps]
  for (const auto& m : out) {
    int r = 0, c = 0;
    if (!rows_cols(m, &r, &c) || m.type() != CV_32F) continue;
    const int kind = c == 1 ? 0 : (c == 4 ? 1 : (c == 10 ? 2 : -1));
    for (size_t s = 0; s < kStrides.size(); ++s) {
      const int n = size_ / kStrides[s];
      if (kind >= 0 && r == n * n * anchors) parts[s][size_t(kind)] = &m;
    }
  }
  std::vector<Detection> candidates;
  for (size_t s = 0; s < kStrides.size(); ++s) {
    for (const cv::Mat* p : parts[s])
      if (!p)
        return model_error("model " + options_.model + " lacks an output for stride " +
                           std::to_string(kStrides[s]) + " (scores [N,1], boxes [N,4], key points [N,10])");
    const float* score = parts[s][0]->ptr<float>();
    const float* box = parts[s][1]->ptr<float>();
    const float* kps = parts[s][2]->ptr<float>();
    const int stride = kStrides[s];
    const int n = size_ / stride;
    for (int i = 0; i < n * n * anchors; ++i) {
      if (score[i] < options_.score_threshold) continue;
      const int cell = i / anchors;
      const float cx = float((cell % n) * stride), cy = float((cell / n) * stride);
      const float* d = box + 4 * i;
      const float inv = float(1.0 / ratio);
      Detection det;
      det.score = score[i];
      det.box = cv::Rect2f(cv::Point2f((cx - d[0] * stride) * inv, (cy - d[1] * stride) * inv),
                           cv::Point2f((cx + d[2] * stride) * inv, (cy + d[3] * stride) * inv));
      const float* k = kps + 10 * i;
      for (int j = 0; j < 5; ++j)
        det.points5.emplace_back((cx + k[2 * j] * stride) * inv, (cy + k[2 * j + 1] * stride) * inv);
      candidates.push_back(std::move(det));
    }
  }
  return finish_detections(std::move(candidates), options_, bgr.size());
}

}  // namespace faceweave::face
