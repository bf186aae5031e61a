// record() allocates nothing after a thread's first call: malloc is counted while a thread records.
// Its own executable, because it replaces malloc for the whole process.
#include <malloc.h>

#include <atomic>
#include <thread>

#include <gtest/gtest.h>

#include "telemetry/engine.h"
#include "telemetry_test_support.h"

extern "C" void* __libc_malloc(size_t size);  // NOLINT: glibc's own allocator, under the interposed one

namespace {
thread_local bool tl_counting = false;
std::atomic<uint64_t> g_allocations{0};
}  // namespace

#if !defined(__SANITIZE_ADDRESS__)
// operator new, std::string, moodycamel (std::malloc) all end here.
extern "C" void* malloc(size_t size) {
  if (tl_counting) g_allocations.fetch_add(1, std::memory_order_relaxed);
  return __libc_malloc(size);
}
#endif

namespace faceweave::testing {
namespace {

TEST(TelemetryHotPath, RecordAllocatesNothingAfterTheFirstCallOfAThread) {
#if defined(__SANITIZE_ADDRESS__)
  GTEST_SKIP() << "AddressSanitizer owns malloc";
#endif
  TempDir dir;
  auto t = Telemetry::create(telemetry_options(dir));
  ASSERT_TRUE(t.is_ok());
  Telemetry& tel = **t;
  // Allocation is counted on this thread only: the writer thread allocates freely (SQLite, JSON).
  std::thread producer([&] {
    tel.record_stage("detect", 1, 1920, 1080);  // the thread's one-time producer record
    tl_counting = true;
    for (int i = 0; i < 20000; ++i) {
      tel.record_stage("detect", 1.5, 1920, 1080, 1, "video");
      tel.record_frame_stage("swap", 2.5, 1920, 1080, i);
      tel.record_option("swap", "blend", "laplacian");
      tel.record_command("swap", StatusCode::kOk, 3.0, 0, 2);
    }
    tl_counting = false;
  });
  producer.join();
  ASSERT_TRUE(tel.flush().is_ok());
  EXPECT_EQ(g_allocations.load(), 0u);
  EXPECT_GT(tel.stats().committed, 1000u);
  // The counter works: an allocation on a counting thread is seen.
  tl_counting = true;
  void* p = std::malloc(16);
  tl_counting = false;
  std::free(p);
  EXPECT_EQ(g_allocations.load(), 1u);
}

}  // namespace
}  // namespace faceweave::testing
