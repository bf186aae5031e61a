// swap/sharpness: the face layer is softened to a softer target's detail level, and only then.
#include "swap/sharpness.h"

#include <filesystem>

#include <gtest/gtest.h>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

namespace faceweave::swap {
namespace {

// A real face: Obama's portrait around the face, 200 px.
cv::Mat face_crop() {
  const cv::Mat img =
      cv::imread((std::filesystem::path(FACEWEAVE_TESTDATA_DIR) / "images" / "obama.jpg").string());
  EXPECT_FALSE(img.empty());
  if (img.empty()) return cv::Mat(200, 200, CV_8UC3, cv::Scalar(128, 128, 128));
  cv::Mat crop;
  cv::resize(img(cv::Rect(img.cols / 2 - img.cols / 6, img.rows / 10, img.cols / 3, img.cols / 3)), crop,
             cv::Size(200, 200), 0, 0, cv::INTER_AREA);
  return crop;
}

cv::Mat inner() {
  cv::Mat m = cv::Mat::zeros(200, 200, CV_8U);
  cv::ellipse(m, cv::Point(100, 100), cv::Size(70, 85), 0, 0, 360, cv::Scalar(255), cv::FILLED);
  return m;
}

TEST(Sharpness, ASofterFaceScoresLower) {
  const cv::Mat sharp = face_crop();
  cv::Mat soft;
  cv::GaussianBlur(sharp, soft, cv::Size(0, 0), 1.2);
  EXPECT_LT(detail_ratio(soft, inner()), 0.7 * detail_ratio(sharp, inner()));
}

TEST(Sharpness, ACrispFaceOnASoftTargetIsSoftenedToItsLevel) {
  const cv::Mat sharp = face_crop();
  for (double target_blur : {0.8, 1.2, 1.8}) {
    cv::Mat soft;
    cv::GaussianBlur(sharp, soft, cv::Size(0, 0), target_blur);
    double sigma = -1;
    const cv::Mat out = match_sharpness(sharp, soft, inner(), &sigma);
    EXPECT_GT(sigma, 0) << target_blur;
    const double want = detail_ratio(soft, inner()), got = detail_ratio(out, inner());
    // At the target's level (the ladder's steps leave it a little below at most).
    EXPECT_LE(got, want * 1.02) << target_blur;
    EXPECT_GE(got, want * 0.6) << target_blur;
    // And no blurrier than the target was made: the chosen blur is not beyond the target's by a step.
    EXPECT_LE(sigma, target_blur * 1.5) << target_blur;
  }
}

TEST(Sharpness, NothingChangesOnACrispTargetOrForASoftSource) {
  const cv::Mat sharp = face_crop();
  cv::Mat soft;
  cv::GaussianBlur(sharp, soft, cv::Size(0, 0), 1.5);
  double sigma = -1;
  cv::Mat out = match_sharpness(sharp, sharp, inner(), &sigma);
  EXPECT_EQ(sigma, 0);
  EXPECT_EQ(cv::norm(out, sharp, cv::NORM_INF), 0);
  out = match_sharpness(soft, sharp, inner(), &sigma);  // never sharpened
  EXPECT_EQ(sigma, 0);
  EXPECT_EQ(cv::norm(out, soft, cv::NORM_INF), 0);
  // Too small a region to judge: unchanged.
  out = match_sharpness(sharp, soft, cv::Mat::zeros(200, 200, CV_8U), &sigma);
  EXPECT_EQ(sigma, 0);
}

}  // namespace
}  // namespace faceweave::swap
