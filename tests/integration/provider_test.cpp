// Asking for a provider this build cannot use falls back to cpu, says why, and gives results identical to a
// cpu run.
#include "analysis_support.h"

namespace faceweave::testing {
namespace {

TEST(Provider, CudaFallsBackToCpuWithIdenticalResults) {
  const Engine& cpu = shared_engine();
  const Engine& cuda = shared_engine("cuda", [](EngineOptions& o) { o.execution_provider = "cuda"; });
  EXPECT_EQ(cuda.provider().requested, "cuda");
  EXPECT_EQ(cuda.provider().used, "cpu");
  EXPECT_FALSE(cuda.provider().fallback_reason.empty());
  EXPECT_EQ(cpu.provider().used, "cpu");
  EXPECT_TRUE(cpu.provider().fallback_reason.empty());

  auto a = analyse_file(image("two_people.jpg"), cpu);
  auto b = analyse_file(image("two_people.jpg"), cuda);
  ASSERT_EQ(a.size(), 2u);
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].box, b[i].box);
    EXPECT_EQ(a[i].score, b[i].score);
    for (size_t k = 0; k < 68; ++k) EXPECT_EQ(a[i].landmarks68[k], b[i].landmarks68[k]);
    EXPECT_EQ(a[i].embedding, b[i].embedding);
    EXPECT_EQ(a[i].age, b[i].age);
    EXPECT_EQ(a[i].pose->yaw, b[i].pose->yaw);
  }
}

TEST(Provider, UnknownProviderIsRejected) {
  EngineOptions o = test_engine_options();
  o.execution_provider = "tpu";
  auto e = Engine::create(o);
  ASSERT_FALSE(e.is_ok());
  EXPECT_EQ(e.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(e.status().message().find("cpu, cuda, openvino, opencl"), std::string::npos);
}

}  // namespace
}  // namespace faceweave::testing
