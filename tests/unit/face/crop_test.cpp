#include "face/crop.h"

#include <gtest/gtest.h>

#include "test_support.h"

namespace faceweave::face {
namespace {

bool inside(const cv::Rect& r, cv::Size image) {
  return r.x >= 0 && r.y >= 0 && r.x + r.width <= image.width && r.y + r.height <= image.height;
}

TEST(GrowBoxInsideTest, CentredBoxGrowsAroundItsCentre) {
  const cv::Size image(400, 300);
  cv::Rect r = grow_box_inside(cv::Rect2f(150, 100, 40, 60), 2.0f, image);
  EXPECT_EQ(r, cv::Rect(130, 70, 80, 120));
  r = grow_box_inside(cv::Rect2f(150, 100, 40, 60), 1.5f, image);
  EXPECT_EQ(r, cv::Rect(140, 85, 60, 90));
}

TEST(GrowBoxInsideTest, BoxAtEdgesIsShiftedNotClipped) {
  const cv::Size image(200, 200);
  // Left/top edge: the grown box (80x80) would start at -30; it keeps its size and moves to 0.
  cv::Rect r = grow_box_inside(cv::Rect2f(-10, -5, 40, 40), 2.0f, image);
  EXPECT_EQ(r.size(), cv::Size(80, 80));
  EXPECT_EQ(r.tl(), cv::Point(0, 0));
  EXPECT_TRUE(inside(r, image));

  // Right/bottom edge: the grown box would run past 200; it keeps its size and moves back inside.
  r = grow_box_inside(cv::Rect2f(170, 150, 40, 40), 2.0f, image);
  EXPECT_EQ(r.size(), cv::Size(80, 80));
  EXPECT_TRUE(inside(r, image)) << r;
  EXPECT_GE(r.x, 200 - 80 - 1);
  EXPECT_GE(r.y, 200 - 80 - 1);
}

TEST(GrowBoxInsideTest, ImageTooSmallLimitsTheGrowth) {
  // 2x of a 60x60 box is 120, but the image is only 100 high: the box grows less, uniformly, and fits.
  const cv::Size image(300, 100);
  cv::Rect r = grow_box_inside(cv::Rect2f(100, 20, 60, 60), 2.0f, image);
  EXPECT_TRUE(inside(r, image)) << r;
  EXPECT_GE(r.height, 98);
  EXPECT_LE(r.height, 100);
  EXPECT_NEAR(r.width, r.height, 1) << "growth must stay uniform";
  EXPECT_GT(r.width, 60);
}

TEST(GrowBoxInsideTest, AlwaysInsideTheImage) {
  const cv::Size image(320, 240);
  int checked = 0;
  for (float x = -100; x <= 400; x += 37)
    for (float y = -80; y <= 300; y += 29)
      for (float w : {1.0f, 17.5f, 60.0f, 150.0f, 400.0f})
        for (float factor : {1.0f, 1.4f, 2.0f}) {
          cv::Rect r = grow_box_inside(cv::Rect2f(x, y, w, w * 1.2f), factor, image);
          ASSERT_TRUE(inside(r, image)) << r << " from " << x << "," << y << " " << w << " x" << factor;
          ASSERT_GT(r.width, 0);
          ASSERT_GT(r.height, 0);
          ++checked;
        }
  EXPECT_GT(checked, 1000);
}

TEST(GrowBoxInsideTest, ShiftKeepsTheGrownSizeWhenItFits) {
  // Anywhere in the image, a box whose grown size fits keeps that size (a clip would shrink it).
  const cv::Size image(320, 240);
  for (float x = -30; x <= 300; x += 10)
    for (float y = -30; y <= 220; y += 10) {
      cv::Rect r = grow_box_inside(cv::Rect2f(x, y, 50, 50), 2.0f, image);
      EXPECT_EQ(r.size(), cv::Size(100, 100)) << x << "," << y;
    }
}

TEST(ExpandBoxClippedTest, AddsMarginOnEverySide) {
  cv::Rect r = expand_box_clipped(cv::Rect2f(100, 100, 40, 60), 0.25f, cv::Size(400, 400));
  EXPECT_EQ(r, cv::Rect(90, 85, 60, 90));
}

TEST(ExpandBoxClippedTest, FractionalBoxesRoundOutwards) {
  cv::Rect r = expand_box_clipped(cv::Rect2f(10.5f, 20.25f, 10, 10), 0.0f, cv::Size(100, 100));
  EXPECT_EQ(r, cv::Rect(cv::Point(10, 20), cv::Point(21, 31)));
}

TEST(ExpandBoxClippedTest, ClipsAtTheEdges) {
  const cv::Size image(200, 150);
  // Grown box (-5,-5)..(55,55) is clipped to (0,0)..(55,55): smaller, not shifted.
  cv::Rect r = expand_box_clipped(cv::Rect2f(5, 5, 40, 40), 0.25f, image);
  EXPECT_EQ(r, cv::Rect(0, 0, 55, 55));
  // Grown box (175,125)..(235,185) is clipped at the right and bottom edges.
  r = expand_box_clipped(cv::Rect2f(185, 135, 40, 40), 0.25f, image);
  EXPECT_EQ(r, cv::Rect(cv::Point(175, 125), cv::Point(200, 150)));
  // Larger than the image on every side: the whole image.
  r = expand_box_clipped(cv::Rect2f(-50, -50, 300, 250), 0.25f, image);
  EXPECT_EQ(r, cv::Rect(0, 0, 200, 150));
}

TEST(ExpandBoxClippedTest, BoxOutsideTheImageIsEmpty) {
  cv::Rect r = expand_box_clipped(cv::Rect2f(500, 500, 20, 20), 0.25f, cv::Size(200, 150));
  EXPECT_TRUE(r.empty()) << r;
}

}  // namespace
}  // namespace faceweave::face
