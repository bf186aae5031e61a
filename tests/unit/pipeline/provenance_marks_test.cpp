#include "pipeline/provenance_marks.h"

#include <gtest/gtest.h>

#include <opencv2/imgproc.hpp>

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

// The video mark is a stamp per mark box: every frame gets exactly the same change, whatever its content,
// so the encoder can predict it from the previous frame; another box gets another stamp.
TEST(VideoMarks, EveryFrameOfAMarkBoxGetsTheSameChange) {
  VideoMarks marks({provenance::kPayloadVersion, true, 0x12345678u});
  const SwapOptions options;
  const cv::Rect2f box(200, 150, 160, 200);
  cv::Mat first_change;
  for (int i = 0; i < 3; ++i) {
    cv::Mat content(480, 640, CV_8UC3);
    cv::randu(content, cv::Scalar::all(40), cv::Scalar::all(200));  // different content in every frame
    FrameContext ctx;
    ctx.frame = content.clone();
    ASSERT_EQ(marks.mark(ctx, ctx.frame.size(), options, {box}), 1);
    cv::Mat change;
    cv::subtract(ctx.frame, content, change, cv::noArray(), CV_16S);
    ASSERT_GT(cv::countNonZero(change.reshape(1)), 0);
    if (i == 0)
      first_change = change;
    else
      EXPECT_EQ(cv::norm(change, first_change, cv::NORM_INF), 0.0) << "frame " << i;
  }
  // Marked where the face is (luma only: the three channels change equally), nothing outside its square.
  FrameContext moved;
  moved.frame = cv::Mat(480, 640, CV_8UC3, cv::Scalar::all(128));
  ASSERT_EQ(marks.mark(moved, moved.frame.size(), options, {cv::Rect2f(260, 150, 160, 200)}), 1);
  cv::Mat change;
  cv::subtract(moved.frame, cv::Scalar::all(128), change, cv::noArray(), CV_16S);
  EXPECT_NE(cv::norm(change, first_change, cv::NORM_INF), 0.0);
  std::vector<cv::Mat> channels;
  cv::split(change, channels);
  EXPECT_EQ(cv::norm(channels[0], channels[2], cv::NORM_INF), 0.0);
  const cv::Rect square = provenance::watermark_square(cv::Rect2f(260, 150, 160, 200));
  const cv::Rect changed = cv::boundingRect(channels[0] != 0);
  EXPECT_EQ(changed & square, changed) << changed << " outside " << square;
}

TEST(VideoMarks, NothingWhenSwitchedOffOrTooSmall) {
  VideoMarks marks({provenance::kPayloadVersion, true, 1u});
  SwapOptions off;
  off.watermark = false;
  FrameContext ctx;
  ctx.frame = cv::Mat(240, 320, CV_8UC3, cv::Scalar::all(100));
  EXPECT_EQ(marks.mark(ctx, ctx.frame.size(), off, {cv::Rect2f(100, 60, 100, 120)}), 0);
  EXPECT_EQ(marks.mark(ctx, ctx.frame.size(), SwapOptions{}, {cv::Rect2f(100, 60, 20, 20)}), 0);
  EXPECT_EQ(cv::countNonZero(ctx.frame.reshape(1) != 100), 0);
}

}  // namespace
}  // namespace faceweave::pipeline
