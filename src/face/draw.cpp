#include "face/draw.h"

#include <algorithm>
#include <cstdio>

#include <opencv2/imgproc.hpp>

namespace faceweave::face {

void draw_faces(cv::Mat& bgr, const std::vector<Face>& faces) {
  const int unit = std::max(1, std::max(bgr.cols, bgr.rows) / 600);
  for (size_t i = 0; i < faces.size(); ++i) {
    const Face& f = faces[i];
    cv::rectangle(bgr, f.box, cv::Scalar(0, 255, 0), unit, cv::LINE_AA);
    if (f.has_landmarks) {
      for (const auto& p : f.landmarks68)
        cv::circle(bgr, p, unit, cv::Scalar(0, 255, 255), cv::FILLED, cv::LINE_AA);
      for (const auto& p : f.landmarks5)
        cv::circle(bgr, p, 2 * unit, cv::Scalar(255, 0, 255), cv::FILLED, cv::LINE_AA);
    }
    char label[128];
    int n = std::snprintf(label, sizeof(label), "#%zu %.2f", i, double(f.score));
    if (f.age && f.gender)
      std::snprintf(label + n, sizeof(label) - size_t(n), " %s %.0f", *f.gender == Gender::kMale ? "M" : "F",
                    double(*f.age));
    cv::putText(bgr, label, cv::Point(int(f.box.x), std::max(12 * unit, int(f.box.y) - 4 * unit)),
                cv::FONT_HERSHEY_SIMPLEX, 0.45 * unit, cv::Scalar(0, 255, 0), unit, cv::LINE_AA);
  }
}

}  // namespace faceweave::face
