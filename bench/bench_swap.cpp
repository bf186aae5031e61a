// End-to-end image swap of a 1080p frame, per stage, next to just decoding and re-encoding the same image
// with OpenCV in the same run. Run through scripts/run-benchmarks.sh (results in docs/benchmarks.md).
#include <cstdlib>
#include <memory>

#include <benchmark/benchmark.h>
#include <opencv2/core/utility.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "bench_support.h"
#include "pipeline/image_swap.h"
#include "swap_fixture.h"

namespace {
using namespace faceweave;

// The baseline: decode the 1080p JPEG and encode it again, nothing else.
void BM_DecodeEncode_1080p(benchmark::State& state) {
  auto& f = bench::swap_fixture();
  std::vector<uchar> out;
  for (auto _ : state) {
    cv::Mat img = cv::imdecode(f.jpeg1080, cv::IMREAD_COLOR);
    cv::imencode(".jpg", img, out, {cv::IMWRITE_JPEG_QUALITY, 90});
    benchmark::DoNotOptimize(out.data());
  }
}
BENCHMARK(BM_DecodeEncode_1080p)->Unit(benchmark::kMillisecond);

// Decode + analyse + swap + encode, with every stage's share reported as a counter (ms per iteration).
void swap_1080p(benchmark::State& state, const char* blend) {
  auto& f = bench::swap_fixture();
  SwapOptions options;
  options.blend = blend;
  std::vector<uchar> out;
  core::StageTimings timings;
  for (auto _ : state) {
    cv::Mat img;
    {
      core::ScopedStage s(&timings, "decode");
      img = cv::imdecode(f.jpeg1080, cv::IMREAD_COLOR);
    }
    auto ctx = pipeline::swap_frame(img, options, f.source, *f.analyser, *f.registry, nullptr, &timings);
    if (!ctx || ctx->swaps.size() != 1) {
      state.SkipWithError("the swap did not find the face");
      return;
    }
    core::ScopedStage s(&timings, "encode");
    cv::imencode(".jpg", ctx->frame, out, {cv::IMWRITE_JPEG_QUALITY, 90});
  }
  for (const auto& [stage, ms] : timings.stages())
    state.counters[stage + "_ms"] = benchmark::Counter(ms, benchmark::Counter::kAvgIterations);
}
void BM_Swap_1080p_Seamless(benchmark::State& state) {
  swap_1080p(state, "seamless");
}
void BM_Swap_1080p_Affine(benchmark::State& state) {
  swap_1080p(state, "affine");
}
void BM_Swap_1080p_Laplacian(benchmark::State& state) {
  swap_1080p(state, "laplacian");
}
BENCHMARK(BM_Swap_1080p_Seamless)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Swap_1080p_Affine)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Swap_1080p_Laplacian)->Unit(benchmark::kMillisecond);

}  // namespace

int main(int argc, char** argv) {
  return faceweave::bench::run_benchmarks(argc, argv);
}
