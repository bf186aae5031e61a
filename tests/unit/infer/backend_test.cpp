#include "infer/backend.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <opencv2/dnn.hpp>

#include "faceweave/log.h"
#include "test_support.h"

namespace faceweave::infer {
namespace {

using ::faceweave::testing::TempDir;
using ::faceweave::testing::write_file;
using ::testing::HasSubstr;

bool opencv_has_cuda_dnn() {
  try {
    auto targets = cv::dnn::getAvailableTargets(cv::dnn::DNN_BACKEND_CUDA);
    return std::find(targets.begin(), targets.end(), cv::dnn::DNN_TARGET_CUDA) != targets.end();
  } catch (const cv::Exception&) {
    return false;
  }
}

// Collects everything logged while it is alive, and puts the previous sink back afterwards.
class LogCapture {
 public:
  LogCapture() {
    previous_ = set_log_sink([this](LogLevel level, std::string_view msg) {
      std::lock_guard lock(mutex_);
      lines_.emplace_back(level, std::string(msg));
    });
  }
  ~LogCapture() { set_log_sink(previous_); }

  // Warnings whose text contains `needle`.
  int warnings_containing(const std::string& needle) const {
    std::lock_guard lock(mutex_);
    return int(std::count_if(lines_.begin(), lines_.end(), [&](const auto& l) {
      return l.first == LogLevel::kWarning && l.second.find(needle) != std::string::npos;
    }));
  }
  std::vector<std::pair<LogLevel, std::string>> lines() const {
    std::lock_guard lock(mutex_);
    return lines_;
  }

 private:
  LogSink previous_;
  mutable std::mutex mutex_;
  std::vector<std::pair<LogLevel, std::string>> lines_;
};

TEST(ParseProviderTest, AcceptsKnownNames) {
  struct Case {
    const char* name;
    ExecutionProvider provider;
  };
  for (const Case& c :
       {Case{"cpu", ExecutionProvider::kCpu}, Case{"cuda", ExecutionProvider::kCuda},
        Case{"openvino", ExecutionProvider::kOpenVino}, Case{"opencl", ExecutionProvider::kOpenCl}}) {
    auto r = parse_provider(c.name);
    ASSERT_TRUE(r.is_ok()) << c.name << ": " << r.status().to_string();
    EXPECT_EQ(*r, c.provider) << c.name;
    EXPECT_STREQ(provider_name(c.provider), c.name);  // names round-trip
  }
}

TEST(ParseProviderTest, RejectsOthersWithInvalidArgument) {
  for (const std::string bad : {"", "gpu", "tensorrt", "cpu ", "cud", "directml"}) {
    auto r = parse_provider(bad);
    ASSERT_FALSE(r.is_ok()) << "'" << bad << "' was accepted";
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << bad;
    EXPECT_THAT(r.status().message(), HasSubstr("'" + bad + "'"));
    for (const char* valid : {"cpu", "cuda", "openvino", "opencl"})
      EXPECT_THAT(r.status().message(), HasSubstr(valid)) << "the error should list the valid names";
  }
}

TEST(ResolveProviderTest, CpuNeverFallsBackNorWarns) {
  LogCapture log;
  for (int i = 0; i < 3; ++i) {
    ProviderResolution r = resolve_provider(ExecutionProvider::kCpu);
    EXPECT_EQ(r.requested, ExecutionProvider::kCpu);
    EXPECT_EQ(r.used, ExecutionProvider::kCpu);
    EXPECT_FALSE(r.fell_back());
    EXPECT_TRUE(r.reason.empty()) << r.reason;
  }
  EXPECT_TRUE(log.lines().empty());
}

TEST(ResolveProviderTest, CudaFallsBackToCpuWithReason) {
  if (opencv_has_cuda_dnn()) GTEST_SKIP() << "this OpenCV build has a CUDA DNN backend";
  ProviderResolution r = resolve_provider(ExecutionProvider::kCuda);
  EXPECT_EQ(r.requested, ExecutionProvider::kCuda);
  EXPECT_EQ(r.used, ExecutionProvider::kCpu);
  EXPECT_TRUE(r.fell_back());
  EXPECT_FALSE(r.reason.empty());
  EXPECT_THAT(r.reason, HasSubstr("CUDA"));
}

TEST(ResolveProviderTest, EveryFallbackHasAReason) {
  for (auto p : {ExecutionProvider::kCuda, ExecutionProvider::kOpenVino, ExecutionProvider::kOpenCl}) {
    ProviderResolution r = resolve_provider(p);
    EXPECT_EQ(r.requested, p);
    EXPECT_TRUE(r.used == p || r.used == ExecutionProvider::kCpu) << provider_name(p);
    EXPECT_EQ(r.fell_back(), !r.reason.empty()) << provider_name(p) << ": '" << r.reason << "'";
    // Asking again gives the same answer.
    ProviderResolution again = resolve_provider(p);
    EXPECT_EQ(again.used, r.used);
    EXPECT_EQ(again.reason, r.reason);
  }
}

// Counts fallback warnings per provider over repeated requests, in a process of its own (see below), so no
// earlier test has used up the one warning. Exits 0 when every fallen-back provider warned exactly once and
// the others not at all.
[[noreturn]] void check_warned_once_and_exit() {
  LogCapture log;
  int failures = 0;
  for (auto p : {ExecutionProvider::kCuda, ExecutionProvider::kOpenVino, ExecutionProvider::kOpenCl}) {
    bool fell_back = false;
    for (int i = 0; i < 4; ++i) fell_back = resolve_provider(p).fell_back();
    const std::string quoted = std::string("'") + provider_name(p) + "'";
    const int warnings = log.warnings_containing(quoted);
    std::fprintf(stderr, "%s fell_back=%d warnings=%d\n", provider_name(p), int(fell_back), warnings);
    if (warnings != (fell_back ? 1 : 0)) ++failures;
  }
  if (!opencv_has_cuda_dnn()) {
    // The one cuda warning says what was asked for, why it is not available and what runs instead.
    for (const auto& [level, text] : log.lines()) {
      if (text.find("'cuda'") == std::string::npos) continue;
      if (text.find("CUDA") == std::string::npos || text.find("cpu") == std::string::npos) {
        std::fprintf(stderr, "unhelpful warning: %s\n", text.c_str());
        ++failures;
      }
    }
    if (log.warnings_containing("'cuda'") != 1) ++failures;
  }
  std::exit(failures == 0 ? 0 : 1);
}

TEST(ResolveProviderDeathTest, FallbackWarningIsLoggedOncePerProvider) {
  // "threadsafe" re-runs this test in a fresh process, so the process-wide "already warned" set starts empty.
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(check_warned_once_and_exit(), ::testing::ExitedWithCode(0),
              opencv_has_cuda_dnn() ? "cuda fell_back=0 warnings=0" : "cuda fell_back=1 warnings=1");
}

TEST(ResolveProviderTest, FallbackWarningIsLoggedAtMostOncePerProvider) {
  // In this process other tests may have warned already; whatever happened before, at most one more is
  // allowed in total, and repeated requests add none.
  LogCapture log;
  for (int i = 0; i < 5; ++i)
    for (auto p : {ExecutionProvider::kCuda, ExecutionProvider::kOpenVino, ExecutionProvider::kOpenCl})
      resolve_provider(p);
  for (const char* name : {"'cuda'", "'openvino'", "'opencl'"})
    EXPECT_LE(log.warnings_containing(name), 1) << name;
}

TEST(ModelCreateTest, MissingFileIsModelError) {
  TempDir dir;
  auto r = Model::create("ghost", dir.file("ghost.onnx"), {});
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().code(), StatusCode::kModelError);
  EXPECT_THAT(r.status().message(), HasSubstr(dir.file("ghost.onnx")));
}

TEST(ModelCreateTest, EmptyFileIsModelError) {
  TempDir dir;
  write_file(dir.file("empty.onnx"), "");
  auto r = Model::create("empty", dir.file("empty.onnx"), {});
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().code(), StatusCode::kModelError);
  EXPECT_THAT(r.status().message(), HasSubstr("empty"));
}

TEST(ModelCreateTest, GarbageFileIsModelError) {
  TempDir dir;
  write_file(dir.file("junk.onnx"), std::string(4096, '\x7f') + "definitely not protobuf");
  auto r = Model::create("junk", dir.file("junk.onnx"), {});
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().code(), StatusCode::kModelError);
  EXPECT_THAT(r.status().message(), HasSubstr("junk"));
  EXPECT_THAT(r.status().message(), HasSubstr(dir.file("junk.onnx")));
}

}  // namespace
}  // namespace faceweave::infer
