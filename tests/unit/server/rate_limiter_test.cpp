#include "server/rate_limiter.h"

#include <thread>

#include <gtest/gtest.h>

namespace faceweave::server {
namespace {

TEST(RateLimiter, AllowsTheBurstThenRefusesWithARetryTime) {
  RateLimiter limiter(10, 5);
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(limiter.allow("a")) << i;
  double retry = 0;
  EXPECT_FALSE(limiter.allow("a", &retry));
  EXPECT_GT(retry, 0);
  EXPECT_LE(retry, 0.1 + 1e-9);
  EXPECT_TRUE(limiter.allow("b"));  // clients are counted apart
}

TEST(RateLimiter, RefillsOverTime) {
  RateLimiter limiter(100, 1);
  EXPECT_TRUE(limiter.allow("a"));
  EXPECT_FALSE(limiter.allow("a"));
  std::this_thread::sleep_for(std::chrono::milliseconds(30));
  EXPECT_TRUE(limiter.allow("a"));
}

}  // namespace
}  // namespace faceweave::server
