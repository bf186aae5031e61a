// The user sketches (src/analytics/sketch.h): HyperLogLog error on known populations of pseudonyms,
// merges that count a shared user once, the k-minimum-values set's exact small counts, serialisation, and
// the Laplace noise of shares.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "analytics/sketch.h"
#include "faceweave/analytics_share.h"

namespace faceweave::analytics {
namespace {

// Pseudonyms as the telemetry stores them: 64 hex digits (HMAC-SHA256), here from a seeded generator.
std::string pseudonym(std::mt19937_64& rng) {
  static const char* kHex = "0123456789abcdef";
  std::string s(64, '0');
  for (int i = 0; i < 64; i += 16) {
    uint64_t v = rng();
    for (int k = 0; k < 16; ++k) s[size_t(i + k)] = kHex[(v >> (4 * k)) & 15];
  }
  return s;
}

TEST(Hll, ErrorOnKnownPopulationsStaysWithinItsStatedStandardError) {
  // 1.04 / sqrt(2^14) = 0.81% relative standard error; each estimate must be within 4 of them (a
  // population misses with probability 6e-5), and their root mean square error within 2.
  double sq = 0;
  int n_pops = 0;
  for (int population : {1000, 3000, 10000, 30000, 100000}) {
    for (uint64_t seed : {1, 2, 3}) {
      std::mt19937_64 rng(seed * 7919 + uint64_t(population));
      Hll h;
      for (int i = 0; i < population; ++i) {
        std::string p = pseudonym(rng);
        h.add(p);
        if (i % 3 == 0) h.add(p);  // seen again: no effect
      }
      double rel = (h.estimate() - population) / population;
      EXPECT_LT(std::abs(rel), 4 * Hll::kStandardError)
          << population << " seed " << seed << ": " << h.estimate();
      sq += rel * rel;
      ++n_pops;
    }
  }
  EXPECT_LT(std::sqrt(sq / n_pops), 2 * Hll::kStandardError);
}

TEST(Hll, SmallCountsAreExactForPracticalPurposes) {
  std::mt19937_64 rng(5);
  Hll h;
  EXPECT_EQ(h.estimate(), 0);
  EXPECT_TRUE(h.empty());
  for (int i = 1; i <= 50; ++i) {
    h.add(pseudonym(rng));
    EXPECT_NEAR(h.estimate(), i, 0.5) << i;
  }
}

TEST(Hll, MergeCountsASharedUserOnce) {
  // Two installs' days: 6000 users only in a, 4000 only in b, 2000 in both: the union is 12000, the sum of
  // the two counts 16000.
  std::mt19937_64 rng(11);
  Hll a, b;
  for (int i = 0; i < 6000; ++i) a.add(pseudonym(rng));
  for (int i = 0; i < 4000; ++i) b.add(pseudonym(rng));
  for (int i = 0; i < 2000; ++i) {
    std::string p = pseudonym(rng);
    a.add(p);
    b.add(p);
  }
  Hll u = a;
  u.merge(b);
  EXPECT_NEAR(u.estimate(), 12000, 12000 * 4 * Hll::kStandardError);
  Hll again = u;
  again.merge(a);  // idempotent
  EXPECT_EQ(again.estimate(), u.estimate());
}

TEST(Hll, SerialisesSparseAndDenseAndRefusesGarbage) {
  std::mt19937_64 rng(3);
  Hll small, big;
  for (int i = 0; i < 20; ++i) small.add(pseudonym(rng));
  for (int i = 0; i < 50000; ++i) big.add(pseudonym(rng));
  std::string s = small.serialize(), b = big.serialize();
  EXPECT_EQ(s[0], 'S');
  EXPECT_LE(s.size(), 1 + 3 * 20u);  // at most one register per user
  EXPECT_EQ(b[0], 'D');
  EXPECT_EQ(b.size(), 1 + size_t(Hll::kRegisters));
  for (const Hll* h : {&small, &big}) {
    auto back = Hll::parse(h->serialize());
    ASSERT_TRUE(back);
    EXPECT_EQ(back->estimate(), h->estimate());
  }
  EXPECT_FALSE(Hll::parse("X123"));
  EXPECT_FALSE(Hll::parse("S12"));                            // not whole triples
  EXPECT_FALSE(Hll::parse("D" + std::string(10, '\0')));      // wrong size
  EXPECT_FALSE(Hll::parse(std::string("S\xff\xff\x01", 4)));  // register index out of range
}

TEST(UserSet, CountsExactlyBelowItsCapacityAndEstimatesAbove) {
  std::mt19937_64 rng(9);
  UserSet s;
  std::vector<std::string> users;
  for (int i = 0; i < 31; ++i) users.push_back(pseudonym(rng));
  for (size_t i = 0; i < users.size(); ++i) {
    s.add(users[i]);
    s.add(users[i]);
    EXPECT_EQ(s.count(), double(i + 1));
    EXPECT_TRUE(s.exact());
  }
  // Two cells with users in common: the union counts each once.
  UserSet a, b;
  for (int i = 0; i < 3; ++i) a.add(users[size_t(i)]);
  for (int i = 2; i < 5; ++i) b.add(users[size_t(i)]);
  a.merge(b);
  EXPECT_EQ(a.count(), 5.0);
  EXPECT_EQ(UserSet::parse(a.serialize()).count(), 5.0);
  // Above the capacity the count is an estimate (k-minimum values, error about 1 / sqrt(30) = 18%).
  UserSet many;
  for (int i = 0; i < 5000; ++i) many.add(pseudonym(rng));
  EXPECT_FALSE(many.exact());
  EXPECT_NEAR(many.count(), 5000, 5000 * 0.6);
  EXPECT_GE(many.count(), double(UserSet::kCapacity));
}

TEST(Base64, RoundTripsEveryLengthAndRefusesBadText) {
  std::string bytes;
  for (int i = 0; i < 40; ++i) {
    auto back = base64_decode(base64_encode(bytes));
    ASSERT_TRUE(back);
    EXPECT_EQ(*back, bytes);
    bytes.push_back(char(i * 37));
  }
  EXPECT_EQ(base64_encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(base64_encode("fo"), "Zm8=");
  EXPECT_FALSE(base64_decode("Zm9"));
  EXPECT_FALSE(base64_decode("Zm9v!mFy"));
  EXPECT_FALSE(base64_decode("Zm=vYmFy"));
}

TEST(LaplaceNoise, HasTheLaplaceMeanSpreadAndIsNotRepeatable) {
  // Laplace(0, b): mean 0, mean absolute value b, variance 2 b^2. With 20000 draws the sample mean of |x|
  // has a standard error of b / sqrt(20000) = 0.7% of b.
  const double b = 2.0;
  const int n = 20000;
  double sum = 0, abs_sum = 0, sq = 0;
  for (int i = 0; i < n; ++i) {
    auto x = laplace_noise(b);
    ASSERT_TRUE(x);
    sum += *x;
    abs_sum += std::abs(*x);
    sq += *x * *x;
  }
  EXPECT_NEAR(sum / n, 0, 5 * std::sqrt(2 * b * b / n));
  EXPECT_NEAR(abs_sum / n, b, 5 * b / std::sqrt(double(n)));
  EXPECT_NEAR(sq / n, 2 * b * b, 0.15 * 2 * b * b);
  // Drawn from the CSPRNG, not a fixed seed: two draws in a row differ.
  EXPECT_NE(*laplace_noise(1), *laplace_noise(1));
}

}  // namespace
}  // namespace faceweave::analytics
