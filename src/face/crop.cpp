#include "face/crop.h"

#include <algorithm>
#include <cmath>

namespace faceweave::face {

cv::Rect grow_box_inside(const cv::Rect2f& box, float factor, cv::Size image) {
  const float w = std::max(box.width, 1.0f), h = std::max(box.height, 1.0f);
  const float scale = std::min({float(image.height - 1) / h, float(image.width - 1) / w, factor});
  const float nw = w * scale, nh = h * scale;
  float x0 = box.x + w / 2 - nw / 2, y0 = box.y + h / 2 - nh / 2;
  x0 = std::clamp(x0, 0.0f, std::max(0.0f, float(image.width - 1) - nw));
  y0 = std::clamp(y0, 0.0f, std::max(0.0f, float(image.height - 1) - nh));
  cv::Rect r(int(x0), int(y0), std::max(1, int(nw)), std::max(1, int(nh)));
  return r & cv::Rect(0, 0, image.width, image.height);
}

cv::Rect expand_box_clipped(const cv::Rect2f& box, float margin, cv::Size image) {
  cv::Rect2f grown(box.x - box.width * margin, box.y - box.height * margin, box.width * (1 + 2 * margin),
                   box.height * (1 + 2 * margin));
  cv::Rect r(cv::Point(int(std::floor(grown.x)), int(std::floor(grown.y))),
             cv::Point(int(std::ceil(grown.br().x)), int(std::ceil(grown.br().y))));
  return r & cv::Rect(0, 0, image.width, image.height);
}

}  // namespace faceweave::face
