// The process-wide decode budget: reservations beyond the capacity wait (in another thread) until pixels are
// given back, and an image decode takes its pixels from the budget before decoding.
#include "core/pixel_budget.h"

#include <atomic>
#include <chrono>
#include <future>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <opencv2/imgcodecs.hpp>

#include "core/image_io.h"

namespace faceweave::core {
namespace {

using namespace std::chrono_literals;

TEST(PixelBudget, ASecondReservationWaitsUntilTheFirstIsGivenBack) {
  PixelBudget budget(100);
  PixelBudget::Lease first = budget.acquire(60);
  EXPECT_EQ(budget.in_flight(), 60);
  // Another thread asks for more than is left: it must not get it while the first lease is held.
  std::atomic<bool> got{false};
  std::thread second([&] {
    PixelBudget::Lease lease = budget.acquire(60);
    got = true;
    EXPECT_EQ(lease.pixels(), 60);
  });
  std::this_thread::sleep_for(200ms);
  EXPECT_FALSE(got.load());
  auto timed = std::async(std::launch::async, [&] { return budget.try_acquire_for(60, 50ms).has_value(); });
  EXPECT_FALSE(timed.get());
  first.release();
  second.join();
  EXPECT_TRUE(got.load());
  EXPECT_EQ(budget.in_flight(), 0);
}

TEST(PixelBudget, SmallReservationsShareTheBudgetAndOversizedOnesRunAlone) {
  PixelBudget budget(100);
  auto a = budget.try_acquire_for(40, 10ms);
  auto b = std::async(std::launch::async, [&] { return budget.try_acquire_for(60, 10ms); }).get();
  ASSERT_TRUE(a && b);
  EXPECT_EQ(budget.in_flight(), 100);
  EXPECT_FALSE(
      std::async(std::launch::async, [&] { return budget.try_acquire_for(1, 10ms).has_value(); }).get());
  a.reset();
  b.reset();
  // More than the whole budget is clamped to it, so it neither waits forever nor overdraws.
  auto huge = budget.try_acquire_for(1'000'000, 10ms);
  ASSERT_TRUE(huge);
  EXPECT_EQ(huge->pixels(), 100);
  EXPECT_EQ(budget.in_flight(), 100);
  huge.reset();
  EXPECT_EQ(budget.in_flight(), 0);
}

TEST(PixelBudget, MovedLeasesAreGivenBackOnce) {
  PixelBudget budget(10);
  {
    PixelBudget::Lease a = budget.acquire(7);
    PixelBudget::Lease b = std::move(a);
    EXPECT_EQ(a.pixels(), 0);
    EXPECT_EQ(budget.in_flight(), 7);
    a = budget.acquire(3);
    EXPECT_EQ(budget.in_flight(), 10);
  }
  EXPECT_EQ(budget.in_flight(), 0);
}

TEST(PixelBudget, ADecodeWaitsForItsPixels) {
  cv::Mat image(40, 50, CV_8UC3, cv::Scalar(10, 120, 240));
  std::vector<uchar> png;
  ASSERT_TRUE(cv::imencode(".png", image, png));
  PixelBudget budget(50 * 40);
  ImageLimits limits;
  limits.budget = &budget;
  PixelBudget::Lease held = budget.acquire(1);  // one pixel short of what the decode needs
  std::atomic<bool> decoded{false};
  std::thread decoder([&] {
    auto r = decode_image({png.data(), png.size()}, "the test image", limits);
    EXPECT_TRUE(r.is_ok()) << r.status().message();
    decoded = true;
  });
  std::this_thread::sleep_for(300ms);
  EXPECT_FALSE(decoded.load()) << "the decode did not wait for the budget";
  held.release();
  decoder.join();
  EXPECT_TRUE(decoded.load());
  EXPECT_EQ(budget.in_flight(), 0);  // given back after the decode
}

}  // namespace
}  // namespace faceweave::core
