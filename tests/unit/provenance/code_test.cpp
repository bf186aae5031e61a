// The watermark's payload and error-correcting code: round trips, CRC rejection and error correction.
#include <random>

#include <gtest/gtest.h>

#include "provenance/conv_code.h"
#include "provenance/payload.h"

namespace faceweave::provenance {
namespace {

TEST(Payload, RoundTripsAndTheCrcRejectsAnyFlippedBit) {
  const Payload p{kPayloadVersion, true, 0xDEADBEEFu};
  auto bits = pack_payload(p);
  ASSERT_EQ(bits.size(), size_t(kProtectedBits));
  auto back = unpack_payload(bits);
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(*back, p);
  for (size_t i = 0; i < bits.size(); ++i) {
    auto flipped = bits;
    flipped[i] ^= 1;
    EXPECT_FALSE(unpack_payload(flipped).has_value()) << "bit " << i;
  }
}

TEST(Payload, RunIdsAreFreshEachTime) {
  EXPECT_NE(new_run_id(), new_run_id());  // one in 2^32 chance of a false failure
}

TEST(ConvCode, ViterbiCorrectsNoisySoftValues) {
  std::mt19937 rng(7);
  std::normal_distribution<float> noise(0.0f, 0.7f);  // Eb/N0 about 3 dB; 7.6% of raw symbols wrong
  int failures = 0;
  for (int trial = 0; trial < 200; ++trial) {
    const Payload p{kPayloadVersion, true, uint32_t(rng())};
    const auto bits = pack_payload(p);
    const auto coded = conv_encode(bits);
    ASSERT_EQ(coded.size(), size_t(2 * (kProtectedBits + kConvConstraint - 1)));
    std::vector<float> soft(coded.size());
    for (size_t i = 0; i < coded.size(); ++i) soft[i] = (coded[i] ? 1.0f : -1.0f) + noise(rng);
    auto back = unpack_payload(viterbi_decode(soft, kProtectedBits));
    if (!back || *back != p) ++failures;
  }
  EXPECT_LE(failures, 4);  // uncoded, almost every payload would have a wrong bit at this noise
}

TEST(ConvCode, HardErrorsInAFewPositionsAreCorrected) {
  const auto bits = pack_payload({kPayloadVersion, true, 12345u});
  const auto coded = conv_encode(bits);
  std::vector<float> soft(coded.size());
  for (size_t i = 0; i < coded.size(); ++i) soft[i] = coded[i] ? 1.0f : -1.0f;
  for (size_t i : {3u, 40u, 80u, 110u}) soft[i] = -soft[i];  // four scattered wrong symbols
  EXPECT_EQ(viterbi_decode(soft, kProtectedBits), bits);
}

}  // namespace
}  // namespace faceweave::provenance
