// dlib's 68-point shape predictor (Debian's libdlib-data), run on the grey image inside the detector box.
// shape_predictor::operator() is const: thread-safe.
#pragma once

#include <dlib/image_processing/shape_predictor.h>

#include "face/landmarker.h"

namespace faceweave::face {

class DlibLandmarker : public Landmarker {
 public:
  static Result<std::unique_ptr<Landmarker>> create(const std::string& path);
  Result<Points68> detect(const cv::Mat& bgr, const cv::Rect2f& box) const override;

 private:
  Points68 predict(const cv::Mat& grey, const cv::Rect2f& box) const;
  dlib::shape_predictor predictor_;
};

}  // namespace faceweave::face
