#include "face/attributes.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <vector>

#include <gtest/gtest.h>

#include "test_support.h"

namespace faceweave::face {
namespace {

// SSR-Net output layout: probabilities of stage 1..3 at [0..2], [3..5], [6..8]; deltas at 9, 10, 11; index
// offsets of stage 1..3 at [12..14], [15..17], [18..20].
constexpr size_t kProb1 = 0, kProb2 = 3, kProb3 = 6, kDelta1 = 9, kDelta2 = 10, kDelta3 = 11, kEta1 = 12,
                 kEta2 = 15, kEta3 = 18;

TEST(SsrMergeTest, AllZeroGivesZero) {
  std::array<float, 21> x{};
  EXPECT_FLOAT_EQ(ssr_merge(x, 101), 0.0f);
}

TEST(SsrMergeTest, OneStageOneBin) {
  // All of stage 1 in bin 2, zero offsets and deltas: (2 / 3) * V.
  std::array<float, 21> x{};
  x[kProb1 + 2] = 1;
  EXPECT_NEAR(ssr_merge(x, 101), 2.0f / 3.0f * 101, 1e-4);
  EXPECT_NEAR(ssr_merge(x, 1), 2.0f / 3.0f, 1e-6);

  // Stage 2 alone, bin 1: 1 / (3 * 3).
  x = {};
  x[kProb2 + 1] = 1;
  EXPECT_NEAR(ssr_merge(x, 101), 101.0f / 9.0f, 1e-4);

  // Stage 3 alone, bin 2: 2 / (3 * 3 * 3).
  x = {};
  x[kProb3 + 2] = 1;
  EXPECT_NEAR(ssr_merge(x, 101), 2.0f * 101 / 27.0f, 1e-4);
}

TEST(SsrMergeTest, AllStagesInTopBinGivesNearlyTheRange) {
  // Bins 2,2,2 with no offsets: 2/3 + 2/9 + 2/27 = 26/27 of the range.
  std::array<float, 21> x{};
  x[kProb1 + 2] = x[kProb2 + 2] = x[kProb3 + 2] = 1;
  EXPECT_NEAR(ssr_merge(x, 101), 26.0f / 27.0f * 101, 1e-4);
}

TEST(SsrMergeTest, SplitProbabilityIsTheExpectation) {
  // Stage 1 split evenly between bins 0 and 2: expectation 1, so 1/3 of the range.
  std::array<float, 21> x{};
  x[kProb1 + 0] = 0.5f;
  x[kProb1 + 2] = 0.5f;
  EXPECT_NEAR(ssr_merge(x, 90), 30.0f, 1e-4);
}

TEST(SsrMergeTest, OffsetsAndDeltas) {
  // Worked by hand:
  //   stage 1: bin 2 with offset 0.5, delta 0.25 -> 2.5 / (3 * 1.25)                 = 2/3
  //   stage 2: bin 1 with offset 0.5, delta 0.5  -> 1.5 / (3 * 1.25) / (3 * 1.5)     = 4/45
  //   stage 3: bin 0 with offset 1.0, delta 0    -> 1.0 / (3 * 1.25) / (3 * 1.5) / 3 = 8/405
  //   sum = 314/405, times 101 = 78.3062
  std::array<float, 21> x{};
  x[kProb1 + 2] = 1;
  x[kEta1 + 2] = 0.5f;
  x[kDelta1] = 0.25f;
  x[kProb2 + 1] = 1;
  x[kEta2 + 1] = 0.5f;
  x[kDelta2] = 0.5f;
  x[kProb3 + 0] = 1;
  x[kEta3 + 0] = 1.0f;
  x[kDelta3] = 0;
  // Offsets of bins with zero probability must not count.
  x[kEta1 + 0] = 7;
  x[kEta2 + 2] = -3;
  x[kEta3 + 1] = 5;
  EXPECT_NEAR(ssr_merge(x, 101), 314.0f / 405.0f * 101, 1e-3);
  EXPECT_NEAR(ssr_merge(x, 1), 314.0f / 405.0f, 1e-5);
}

TEST(SsrMergeTest, StageThreeDeltaScalesOnlyStageThree) {
  std::array<float, 21> x{};
  x[kProb1 + 1] = 1;  // 1/3
  x[kProb3 + 2] = 1;  // 2/27 / (1 + delta3)
  x[kDelta3] = 1;     // halves stage 3
  EXPECT_NEAR(ssr_merge(x, 1), 1.0f / 3 + 1.0f / 27, 1e-6);
}

TEST(AngleFromBinsTest, OneHotGivesBinAngle) {
  for (int k : {0, 1, 20, 33, 65}) {
    std::vector<float> logits(66, 0.0f);
    logits[size_t(k)] = 100.0f;  // softmax puts all the mass on bin k
    EXPECT_NEAR(angle_from_bins(logits), 3.0f * float(k) - 99.0f, 1e-3) << k;
  }
}

TEST(AngleFromBinsTest, UniformGivesTheMiddle) {
  std::vector<float> logits(66, 0.0f);
  EXPECT_NEAR(angle_from_bins(logits), -1.5f, 1e-4);
  std::vector<float> shifted(66, -42.0f);  // softmax ignores a common offset
  EXPECT_NEAR(angle_from_bins(shifted), -1.5f, 1e-4);
}

TEST(AngleFromBinsTest, IsSoftmaxExpectation) {
  // Two equal peaks at bins 10 and 20: the expectation is bin 15 -> -54 degrees.
  std::vector<float> logits(66, -1000.0f);
  logits[10] = logits[20] = 5.0f;
  EXPECT_NEAR(angle_from_bins(logits), 3.0f * 15 - 99, 1e-3);

  // Logits ln(1) and ln(3) at bins 0 and 1: weights 1/4 and 3/4 -> bin 0.75 -> -96.75 degrees.
  std::fill(logits.begin(), logits.end(), -1000.0f);
  logits[0] = 0.0f;
  logits[1] = std::log(3.0f);
  EXPECT_NEAR(angle_from_bins(logits), 3.0f * 0.75f - 99, 1e-3);
}

TEST(AngleFromBinsTest, LargeLogitsStayFinite) {
  // Raw logits can be large; a naive exp() would overflow to inf/inf.
  std::vector<float> logits(66, 0.0f);
  logits[50] = 1000.0f;
  logits[51] = 1000.0f;
  float a = angle_from_bins(logits);
  EXPECT_TRUE(std::isfinite(a));
  EXPECT_NEAR(a, 3.0f * 50.5f - 99, 1e-3);
}

}  // namespace
}  // namespace faceweave::face
