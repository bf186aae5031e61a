// swap/skin: on the forehead a colour must lie closer to the face's skin to count as skin (a fringe of
// about the skin's colour), elsewhere the gate stays lenient (shading); small faces get no strict zone.
#include "swap/skin.h"

#include <array>

#include <gtest/gtest.h>
#include <opencv2/imgproc.hpp>

namespace faceweave::swap {
namespace {

// The points the skin model and the forehead zone read, of an upright face with eyes `iod` apart.
std::array<cv::Point2f, 68> face_points(float iod, cv::Point2f centre) {
  std::array<cv::Point2f, 68> p{};
  const float k = iod / 50.0f;
  auto at = [&](float x, float y) { return centre + cv::Point2f(x * k, y * k); };
  p[36] = at(-37, -20), p[39] = at(-13, -20), p[42] = at(13, -20), p[45] = at(37, -20);
  for (int i = 0; i < 5; ++i)
    p[size_t(17 + i)] = at(-40.0f + 7.0f * float(i), -35.0f + (i == 2 ? -3.0f : 0.0f));
  for (int i = 0; i < 5; ++i)
    p[size_t(22 + i)] = at(12.0f + 7.0f * float(i), -35.0f + (i == 2 ? -3.0f : 0.0f));
  p[27] = at(0, -20), p[28] = at(0, -10), p[29] = at(0, -2), p[31] = at(-10, 15), p[35] = at(10, 15);
  p[2] = at(-45, 5), p[14] = at(45, 5), p[8] = at(0, 70);
  return p;
}

cv::Vec3b bgr_of_lab(float l, float a, float b) {
  cv::Mat lab(1, 1, CV_32FC3, cv::Scalar(l, a, b)), bgr;
  cv::cvtColor(lab, bgr, cv::COLOR_Lab2BGR);
  cv::Mat out;
  bgr.convertTo(out, CV_8UC3, 255.0);
  return out.at<cv::Vec3b>(0, 0);
}

TEST(Skin, ForeheadZoneStartsAtTheTopOfTheBrows) {
  const auto p = face_points(50, {100, 120});
  const cv::Mat z = forehead_zone(cv::Size(200, 220), p);
  const float brow_top = 120.0f - 38.0f;
  EXPECT_EQ(z.at<float>(int(brow_top) + 2, 100), 0.0f);  // at the brows and below: none
  EXPECT_EQ(z.at<float>(150, 100), 0.0f);
  EXPECT_NEAR(z.at<float>(int(brow_top - 3), 100), 0.5f, 0.2f);  // half way up the ramp (6 px)
  EXPECT_EQ(z.at<float>(int(brow_top) - 10, 100), 1.0f);
  // A face with eyes under 40 px apart gets no strict zone at all.
  EXPECT_EQ(cv::countNonZero(forehead_zone(cv::Size(200, 220), face_points(30, {100, 120}))), 0);
}

TEST(Skin, AFringeOfAboutTheSkinsColourIsNotSkinOnTheForeheadOnly) {
  const auto p = face_points(50, {100, 120});
  cv::Mat img(220, 200, CV_8UC3, bgr_of_lab(70, 15, 20));
  cv::Mat noise(img.size(), CV_8UC3);
  cv::randn(noise, cv::Scalar::all(0), cv::Scalar::all(2));
  img += noise;
  // The same colour, a little over three spreads from the skin's (darker, less red, more yellow): on the
  // forehead and on the chin.
  const cv::Vec3b fringe = bgr_of_lab(58, 9, 29);
  img(cv::Rect(60, 40, 80, 30)).setTo(fringe);
  img(cv::Rect(80, 175, 40, 15)).setTo(fringe);
  const SkinModel model = fit_skin(img, p);
  ASSERT_TRUE(model.valid);
  const cv::Mat lenient = skin_likelihood(img, model);
  const cv::Mat strict = skin_likelihood(img, model, forehead_zone(img.size(), p));
  EXPECT_GT(cv::mean(lenient(cv::Rect(60, 40, 80, 30)))[0], 0.6);  // the lenient gate takes it for skin
  EXPECT_LT(cv::mean(strict(cv::Rect(60, 40, 80, 30)))[0], 0.2);   // the forehead's does not
  EXPECT_GT(cv::mean(strict(cv::Rect(80, 175, 40, 15)))[0], 0.6);  // the chin stays lenient
  EXPECT_GT(cv::mean(strict(cv::Rect(30, 120, 20, 20)))[0], 0.9);  // skin stays skin
}

}  // namespace
}  // namespace faceweave::swap
