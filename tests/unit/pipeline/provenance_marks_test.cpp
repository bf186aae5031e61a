#include "pipeline/provenance_marks.h"

#include <gtest/gtest.h>

namespace faceweave::pipeline {
namespace {

TEST(SteadyMarkBox, ANewTrackTakesTheFaceBox) {
  const cv::Rect2f face(100, 120, 200, 240);
  EXPECT_EQ(steady_mark_box({}, face), face);
}

TEST(SteadyMarkBox, StaysPutWhileTheFaceJitters) {
  const cv::Rect2f first(100, 120, 200, 240);
  cv::Rect2f mark = steady_mark_box({}, first);
  // Detector jitter of a few pixels and a percent or two of size, frame after frame.
  for (const cv::Rect2f& face :
       {cv::Rect2f(103, 118, 202, 242), cv::Rect2f(98, 123, 198, 238), cv::Rect2f(104, 124, 203, 244)}) {
    mark = steady_mark_box(mark, face);
    EXPECT_EQ(mark, first);
  }
}

TEST(SteadyMarkBox, FollowsAFaceThatMovedOrChangedSize) {
  const cv::Rect2f first(100, 120, 200, 240);
  // Moved by more than kSteadyShift of the side (240 px: 9.6 px).
  const cv::Rect2f moved(112, 120, 200, 240);
  EXPECT_EQ(steady_mark_box(first, moved), moved);
  // Grew by more than kSteadyScale.
  const cv::Rect2f grown(95, 114, 210, 252);
  EXPECT_EQ(steady_mark_box(first, grown), grown);
}

}  // namespace
}  // namespace faceweave::pipeline
