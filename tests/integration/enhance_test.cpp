// Enhancers and the debugger in the chain: the face enhancer changes only the face, the frame enhancer
// upscales with more detail than bicubic, the debugger draws.
#include <opencv2/imgproc.hpp>

#include "swap_support.h"

namespace faceweave::testing {
namespace {

double sharpness(const cv::Mat& bgr) {
  cv::Mat g, lap;
  cv::cvtColor(bgr, g, cv::COLOR_BGR2GRAY);
  cv::Laplacian(g, lap, CV_32F);
  cv::Scalar mean, stddev;
  cv::meanStdDev(lap, mean, stddev);
  return stddev[0];
}

TEST(Enhance, FaceEnhancerAddsDetailInsideTheFaceOnly) {
  auto& h = SwapHarness::get();
  SwapOptions plain;
  SwapOptions enhanced;
  enhanced.face_enhancer = "detail";
  cv::Mat target = h.load("meds-aa-S001-01.jpg");
  auto a = h.swap("obama.jpg", target, plain);
  auto b = h.swap("obama.jpg", target, enhanced);
  ASSERT_EQ(a.swaps.size(), 1u);
  const cv::Rect face = cv::Rect(a.faces[0].box) & cv::Rect(0, 0, target.cols, target.rows);
  EXPECT_GT(sharpness(b.frame(face)), sharpness(a.frame(face)) * 1.05);
  cv::Mat diff;
  cv::absdiff(a.frame, b.frame, diff);
  cv::Mat outside = cv::Mat::ones(target.size(), CV_8U);
  outside(a.swaps[0].region) = 0;
  cv::Mat grey;
  cv::cvtColor(diff, grey, cv::COLOR_BGR2GRAY);
  grey.setTo(0, outside == 0);
  EXPECT_EQ(cv::countNonZero(grey), 0);
}

TEST(Enhance, FrameEnhancerUpscalesWithTheSuperResolutionModel) {
  auto& h = SwapHarness::get();
  SwapOptions o;
  o.frame_enhancer = testdata("models/superres/FSRCNN_x2.pb");
  o.frame_enhancer_blend = 100;
  cv::Mat target = h.load("meds-aa-S029-01.jpg");
  auto ctx = h.swap("obama.jpg", target, o);
  ASSERT_EQ(ctx.frame.cols, target.cols * 2);
  ASSERT_EQ(ctx.frame.rows, target.rows * 2);
  // Faces were rescaled into the new frame's pixels.
  EXPECT_NEAR(ctx.faces[0].box.width, 2 * h.largest_face(target).box.width, 4.0);
  // The network's upscale is sharper than bicubic's.
  cv::Mat bicubic;
  SwapOptions none;
  auto plain = h.swap("obama.jpg", target, none);
  cv::resize(plain.frame, bicubic, ctx.frame.size(), 0, 0, cv::INTER_CUBIC);
  EXPECT_GT(sharpness(ctx.frame), sharpness(bicubic));
}

TEST(Enhance, DebuggerDrawsOnTheFrame) {
  auto& h = SwapHarness::get();
  SwapOptions o;
  o.processors = {"face_debugger"};
  cv::Mat target = h.load("two_people.jpg");
  auto ctx = h.swap("obama.jpg", target, o);
  EXPECT_TRUE(ctx.swaps.empty());
  cv::Mat diff;
  cv::absdiff(ctx.frame, target, diff);
  EXPECT_GT(cv::countNonZero(diff.reshape(1)), 1000);
}

}  // namespace
}  // namespace faceweave::testing
