#include "core/shrink.h"

#include <gtest/gtest.h>

#include <cmath>

#include <opencv2/imgproc.hpp>

namespace faceweave::core {
namespace {

// A smooth image shrinks to what the exact area average gives, at face-region ratios on both sides of 2.
TEST(Shrink, MatchesTheAreaAverageOnSmoothContent) {
  for (cv::Size from : {cv::Size(700, 820), cv::Size(500, 560), cv::Size(400, 420)}) {
    cv::Mat img(from, CV_8UC3);
    for (int y = 0; y < img.rows; ++y)
      for (int x = 0; x < img.cols; ++x)
        img.at<cv::Vec3b>(y, x) = cv::Vec3b(uchar(x * 255 / img.cols), uchar(y * 255 / img.rows),
                                            uchar(128 + 100 * std::sin(x * 0.02) * std::cos(y * 0.015)));
    const cv::Size to(328, 384);
    cv::Mat fast, exact;
    shrink(img, fast, to);
    cv::resize(img, exact, to, 0, 0, cv::INTER_AREA);
    ASSERT_EQ(fast.size(), to);
    ASSERT_EQ(fast.type(), img.type());
    cv::Mat diff;
    cv::absdiff(fast, exact, diff);
    const cv::Scalar mean = cv::mean(diff);
    EXPECT_LT(mean[0] + mean[1] + mean[2], 3 * 1.5) << from;
  }
}

// Detail finer than the target's pixels averages out instead of aliasing into a pattern of its own.
TEST(Shrink, AveragesDetailFinerThanTheTarget) {
  cv::Mat stripes(820, 700, CV_8UC1);
  for (int x = 0; x < stripes.cols; ++x) stripes.col(x).setTo(x % 2 ? 255 : 0);
  cv::Mat small;
  shrink(stripes, small, cv::Size(328, 384));
  cv::Scalar mean, stddev;
  cv::meanStdDev(small, mean, stddev);
  EXPECT_NEAR(mean[0], 127.5, 3);
  EXPECT_LT(stddev[0], 12);
  // Plain bilinear sampling at this ratio keeps much of the stripes' contrast: the comparison that makes
  // the bound above mean something.
  cv::Mat sampled;
  cv::resize(stripes, sampled, cv::Size(328, 384), 0, 0, cv::INTER_LINEAR);
  cv::meanStdDev(sampled, mean, stddev);
  EXPECT_GT(stddev[0], 12);
}

TEST(Shrink, SameSizeCopiesAndLeavesTheSourceAlone) {
  cv::Mat img(64, 48, CV_8UC3, cv::Scalar(10, 20, 30));
  cv::Mat out;
  shrink(img, out, img.size());
  EXPECT_NE(out.data, img.data);
  EXPECT_EQ(cv::norm(out, img, cv::NORM_INF), 0);
}

}  // namespace
}  // namespace faceweave::core
