#include "face/head_turn.h"

#include <gtest/gtest.h>

#include <cmath>
#include <numbers>
#include <random>

#include <opencv2/calib3d.hpp>

namespace faceweave::face {
namespace {

// Projects a head of slightly different proportions than the estimator's model (a wider face, a longer
// nose) turned by yaw/pitch/roll through a camera of focal length `focal`, into the six points the estimator
// reads; the other 62 points lie around the face so its bounding box is realistic.
std::array<cv::Point2f, 68> turned_head(double yaw, double pitch, double roll, double focal,
                                        std::mt19937& rng) {
  const std::vector<cv::Point3f> head = {{0.0f, 0.0f, 0.0f},          {0.0f, -340.0f, -70.0f},
                                         {-240.0f, 165.0f, -140.0f},  {240.0f, 165.0f, -140.0f},
                                         {-160.0f, -155.0f, -120.0f}, {160.0f, -155.0f, -120.0f}};
  const double d = std::numbers::pi / 180;
  // Model to camera: a 180-degree turn about x (y up to y down, facing the camera), then the pose.
  const cv::Matx33d flip(1, 0, 0, 0, -1, 0, 0, 0, -1);
  const cv::Matx33d ry(std::cos(yaw * d), 0, std::sin(yaw * d), 0, 1, 0, -std::sin(yaw * d), 0,
                       std::cos(yaw * d));
  const cv::Matx33d rx(1, 0, 0, 0, std::cos(pitch * d), -std::sin(pitch * d), 0, std::sin(pitch * d),
                       std::cos(pitch * d));
  const cv::Matx33d rz(std::cos(roll * d), -std::sin(roll * d), 0, std::sin(roll * d), std::cos(roll * d), 0,
                       0, 0, 1);
  const cv::Matx33d r = rz * rx * ry * flip;
  cv::Mat rvec;
  cv::Rodrigues(r, rvec);
  const cv::Vec3d t(40, -20, 2000);  // the 480-unit wide face a quarter of the focal length wide
  std::vector<cv::Point2f> image;
  cv::projectPoints(head, rvec, cv::Mat(t), cv::Matx33d(focal, 0, 320, 0, focal, 240, 0, 0, 1), cv::noArray(),
                    image);
  std::normal_distribution<float> noise(0.0f, 1.0f);
  for (auto& p : image) p += cv::Point2f(noise(rng), noise(rng));
  std::array<cv::Point2f, 68> pts;
  const cv::Point2f centre = (image[2] + image[3] + image[1]) / 3.0f;
  for (size_t i = 0; i < pts.size(); ++i) {
    const double a = 2 * std::numbers::pi * double(i) / 68;
    pts[i] = centre +
             cv::Point2f(float(std::cos(a)), float(std::sin(a))) * float(0.7 * cv::norm(image[2] - image[3]));
  }
  const int index[6] = {30, 8, 36, 45, 48, 54};
  for (int k = 0; k < 6; ++k) pts[size_t(index[k])] = image[size_t(k)];
  return pts;
}

TEST(HeadTurn, LandmarkTurnFollowsTheYawWhateverThePitchRollAndLens) {
  std::mt19937 rng(7);
  for (double yaw : {0.0, 20.0, -35.0, 50.0, -65.0, 80.0})
    for (double pitch : {-15.0, 0.0, 15.0})
      for (double roll : {-20.0, 0.0, 10.0})
        for (double focal : {600.0, 2400.0}) {
          const auto pts = turned_head(yaw, pitch, roll, focal, rng);
          EXPECT_NEAR(landmark_turn(pts), std::abs(yaw), 10.0)
              << "yaw " << yaw << " pitch " << pitch << " roll " << roll << " focal " << focal;
        }
}

TEST(HeadTurn, ThePoseModelWinsWhenItRan) {
  std::mt19937 rng(3);
  Face f;
  f.has_landmarks = true;
  f.landmarks68 = turned_head(10, 0, 0, 1000, rng);
  EXPECT_LT(head_turn(f), kMaxSwapTurn);
  f.pose = HeadPose{-72.0f, 5.0f, 0.0f};
  EXPECT_FLOAT_EQ(head_turn(f), 72.0f);
  EXPECT_GT(head_turn(f), kMaxSwapTurn);
  Face none;
  EXPECT_EQ(head_turn(none), 0.0f);
}

}  // namespace
}  // namespace faceweave::face
