#include "face/dlib_landmarker.h"

#include <dlib/opencv/cv_image.h>
#include <dlib/serialize.h>
#include <opencv2/imgproc.hpp>

namespace faceweave::face {

Result<std::unique_ptr<Landmarker>> DlibLandmarker::create(const std::string& path) {
  auto lm = std::make_unique<DlibLandmarker>();
  try {
    dlib::deserialize(path) >> lm->predictor_;
  } catch (const std::exception& e) {
    return model_error("dlib shape predictor " + path + " could not be loaded: " + e.what());
  }
  if (lm->predictor_.num_parts() != 68)
    return model_error("dlib shape predictor " + path + " has " + std::to_string(lm->predictor_.num_parts()) +
                       " points, expected 68");
  return std::unique_ptr<Landmarker>(std::move(lm));
}

Points68 DlibLandmarker::predict(const cv::Mat& grey, const cv::Rect2f& box) const {
  dlib::cv_image<unsigned char> img(grey);
  dlib::rectangle rect(long(box.x), long(box.y), long(box.br().x), long(box.br().y));
  dlib::full_object_detection shape = predictor_(img, rect);
  Points68 pts;
  for (unsigned long i = 0; i < 68; ++i)
    pts[i] = cv::Point2f(float(shape.part(i).x()), float(shape.part(i).y()));
  return pts;
}

Result<Points68> DlibLandmarker::detect(const cv::Mat& bgr, const cv::Rect2f& box) const {
  cv::Mat grey;
  cv::cvtColor(bgr, grey, cv::COLOR_BGR2GRAY);
  return predict(grey, box);
}

}  // namespace faceweave::face
