#include "swap/blend.h"

#include <gtest/gtest.h>
#include <opencv2/imgproc.hpp>

namespace faceweave::swap {
namespace {

// A face of exactly the target's skin tone, with a hole in its mask where the target keeps something dark of
// its own (its open mouth, a beard): the seamless blend must not spread that hole's darkness around it.
TEST(SeamlessBlend, AHoleInTheMaskIsNotAnEdgeOfTheFace) {
  const cv::Size size(300, 360);
  cv::Mat target(size, CV_8UC3, cv::Scalar(120, 140, 170));
  const cv::Rect mouth(110, 230, 80, 36);
  target(mouth).setTo(cv::Scalar(30, 30, 60));
  const cv::Mat face(size, CV_8UC3, cv::Scalar(120, 140, 170));
  cv::Mat mask = cv::Mat::zeros(size, CV_32F);
  cv::ellipse(mask, cv::Point(150, 180), cv::Size(110, 150), 0, 0, 360, cv::Scalar(1), cv::FILLED);
  cv::GaussianBlur(mask, mask, cv::Size(0, 0), 6);
  cv::Mat hole = cv::Mat::zeros(size, CV_32F);
  cv::rectangle(hole, mouth, cv::Scalar(1), cv::FILLED);
  cv::GaussianBlur(hole, hole, cv::Size(0, 0), 3);
  mask = mask.mul(1.0f - hole);

  const cv::Mat out = blend(face, target, mask, BlendMode::kSeamless);
  // A ring of skin around the hole, where the mask is full: it must keep the face's (= target's) tone.
  cv::Mat ring = cv::Mat::zeros(size, CV_8U);
  cv::rectangle(ring, cv::Rect(mouth.x - 30, mouth.y - 30, mouth.width + 60, mouth.height + 60),
                cv::Scalar(255), cv::FILLED);
  ring.setTo(0, mask < 0.98f);
  ASSERT_GT(cv::countNonZero(ring), 1000);
  cv::Mat diff;
  cv::absdiff(out, face, diff);
  const cv::Scalar err = cv::mean(diff, ring);
  EXPECT_LT(err[0] + err[1] + err[2], 3.0) << "mean change around the hole: " << err;
  // And the hole's core shows the target.
  const cv::Mat core = mask == 0.0f;
  ASSERT_GT(cv::countNonZero(core(mouth)), 500);
  EXPECT_EQ(cv::norm(out, target, cv::NORM_INF, core), 0.0);
}

}  // namespace
}  // namespace faceweave::swap
