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
  for (unsigned long i = 0; i < 68; ++i) pts[i] = cv::Point2f(float(shape.part(i).x()), float(shape.part(i).y()));
  return pts;
}

Result<Points68> DlibLandmarker::detect(const cv::Mat& bgr, const cv::Rect2f& box) const {
  cv::Mat grey;
  cv::cvtColor(bgr, grey, cv::COLOR_BGR2GRAY);
  Points68 first = predict(grey, box);
  // dlib's HOG boxes: square, spanning the jaw width, top near the brows, bottom near the chin.
  float min_x = first[0].x, max_x = first[0].x, max_y = first[0].y;
  for (int i = 0; i <= 16; ++i) {
    min_x = std::min(min_x, first[size_t(i)].x);
    max_x = std::max(max_x, first[size_t(i)].x);
    max_y = std::max(max_y, first[size_t(i)].y);
  }
  float brow_y = first[19].y;
  for (int i = 17; i <= 26; ++i) brow_y = std::min(brow_y, first[size_t(i)].y);
  const float side = std::max(max_x - min_x, max_y - brow_y);
  const float cx = (min_x + max_x) / 2, cy = (brow_y + max_y) / 2;
  cv::Rect2f refit(cx - side / 2, cy - side / 2, side, side);
  return predict(grey, refit);
}

}  // namespace faceweave::face
