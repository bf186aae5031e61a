// End-to-end image swap of a 1080p frame, per stage, next to just decoding and re-encoding the same image
// with OpenCV in the same run. Run through scripts/run-benchmarks.sh (results in docs/benchmarks.md).
#include <cstdlib>
#include <memory>

#include <benchmark/benchmark.h>
#include <opencv2/core/utility.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "bench_support.h"
#include "face/face_mask.h"
#include "pipeline/image_swap.h"
#include "pipeline/swap_settings.h"
#include "swap/classic_swapper.h"
#include "swap/skin.h"
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

// The swapper's two costliest stages alone, on the fixture's face at the working resolution (384 px long
// side): the skin gate of the mask (a skin model fitted and evaluated on both faces) and the lighting
// transfer. Per call, one face.
struct WorkFace {
  cv::Mat bgr, other;
  std::array<cv::Point2f, 68> points;
};
const WorkFace& work_face() {
  static const WorkFace w = [] {
    auto& f = bench::swap_fixture();
    auto faces = std::move(f.analyser->analyse(f.frame1080)).value();
    const Face& face = faces.at(0);
    const cv::Rect region =
        face::face_region(face::extend_with_forehead(face.landmarks68), f.frame1080.size(), 0.1f);
    const double scale = 384.0 / std::max(region.width, region.height);
    WorkFace out;
    cv::resize(f.frame1080(region), out.bgr, cv::Size(), scale, scale, cv::INTER_AREA);
    cv::GaussianBlur(out.bgr, out.other, cv::Size(0, 0), 2.0);
    for (size_t i = 0; i < 68; ++i)
      out.points[i] = (face.landmarks68[i] - cv::Point2f(float(region.x), float(region.y))) * float(scale);
    return out;
  }();
  return w;
}
void BM_SkinGate_Work(benchmark::State& state) {
  const auto& w = work_face();
  for (auto _ : state) {
    cv::Mat gate = swap::skin_likelihood(w.bgr, swap::fit_skin(w.bgr, w.points))
                       .mul(swap::skin_likelihood(w.other, swap::fit_skin(w.other, w.points)));
    benchmark::DoNotOptimize(gate.data);
  }
}
BENCHMARK(BM_SkinGate_Work)->Unit(benchmark::kMicrosecond);
void BM_TransferLighting_Work(benchmark::State& state) {
  const auto& w = work_face();
  const cv::Mat region(w.bgr.size(), CV_8U, cv::Scalar(255));
  const cv::Mat light(w.bgr.size(), CV_32F, cv::Scalar(0.8)), colour(w.bgr.size(), CV_32F, cv::Scalar(0.9));
  const cv::Mat mid = light * 0.25f;
  const double iod = cv::norm((w.points[36] + w.points[39]) * 0.5f - (w.points[42] + w.points[45]) * 0.5f);
  for (auto _ : state) {
    cv::Mat out = swap::transfer_lighting(w.other, w.bgr, region, light, colour, mid, 0.15 * iod);
    benchmark::DoNotOptimize(out.data);
  }
}
BENCHMARK(BM_TransferLighting_Work)->Unit(benchmark::kMicrosecond);

// The classic swapper alone on the analysed 1080p frame (no decoding, analysis or encoding): what every
// video frame pays for the swap itself.
void BM_ClassicSwap_1080p(benchmark::State& state) {
  auto& f = bench::swap_fixture();
  auto faces = std::move(f.analyser->analyse(f.frame1080)).value();
  auto swapper = std::move(swap::ClassicSwapper::create(
                               std::move(pipeline::classic_swapper_options(SwapOptions{})).value()))
                     .value();
  core::StageTimings timings;
  for (auto _ : state) {
    cv::Mat frame = f.frame1080.clone();
    auto outcome = swapper->swap(frame, faces.at(0), f.source.texture, &timings);
    if (!outcome || !outcome->swapped) {
      state.SkipWithError("the swap did not run");
      return;
    }
  }
  for (const auto& [stage, ms] : timings.stages())
    state.counters[stage + "_ms"] = benchmark::Counter(ms, benchmark::Counter::kAvgIterations);
}
BENCHMARK(BM_ClassicSwap_1080p)->Unit(benchmark::kMillisecond);

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
