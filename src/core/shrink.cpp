#include "core/shrink.h"

#include <opencv2/imgproc.hpp>

namespace faceweave::core {

void shrink(const cv::Mat& src, cv::Mat& dst, cv::Size size) {
  cv::Mat half = src;
  while (half.cols >= 2 * size.width && half.rows >= 2 * size.height) {
    cv::Mat next;
    cv::pyrDown(half, next);
    half = next;
  }
  if (half.size() == size) {
    dst = half.data == src.data ? half.clone() : half;
    return;
  }
  cv::resize(half, dst, size, 0, 0, cv::INTER_LINEAR);
}

}  // namespace faceweave::core
