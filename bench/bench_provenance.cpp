// What marking an output as synthetic costs (docs/benchmarks.md "Provenance"): a whole 1080p image swap
// (decode, analyse, swap, encode, write the file) with the watermark and the metadata switched off, and the
// same with both on; the watermark alone on a 1080p frame (an image's marking cost), and a video frame's
// (the stamp made once per mark box, added to every frame); the search that `inspect` runs per face; and the
// metadata alone on a written JPEG.
#include <cstdio>
#include <filesystem>
#include <memory>

#include <benchmark/benchmark.h>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "bench_support.h"
#include "pipeline/image_swap.h"
#include "pipeline/provenance_marks.h"
#include "provenance/watermark.h"
#include "swap_fixture.h"

namespace {
using namespace faceweave;

// Where the benchmark writes its output file.
const std::string& output_path() {
  static const std::string path =
      (std::filesystem::temp_directory_path() / "faceweave-bench-provenance.jpg").string();
  return path;
}

void swap_1080p(benchmark::State& state, bool marked) {
  auto& f = bench::swap_fixture();
  SwapOptions options;
  options.watermark = marked;
  options.provenance = marked;
  const auto payload = pipeline::new_run_payload();
  for (auto _ : state) {
    cv::Mat img = cv::imdecode(f.jpeg1080, cv::IMREAD_COLOR);
    auto ctx = pipeline::swap_frame(img, options, f.source, *f.analyser, *f.registry, nullptr, nullptr);
    if (!ctx || ctx->swaps.size() != 1) {
      state.SkipWithError("the swap did not find the face");
      return;
    }
    pipeline::watermark_frame(*ctx, img.size(), options, payload);
    if (!pipeline::save_image_output(output_path(), ctx->frame, options, {"face_swapper"}).is_ok()) {
      state.SkipWithError("writing the output failed");
      return;
    }
  }
}
void BM_Swap_1080p_Unmarked(benchmark::State& state) {
  swap_1080p(state, false);
}
void BM_Swap_1080p_Marked(benchmark::State& state) {
  swap_1080p(state, true);
}

// The watermark alone on a 1080p frame with a 1080-pixel face box (the largest square; the cost grows with
// it).
void BM_Watermark_1080p_Frame(benchmark::State& state) {
  auto& f = bench::swap_fixture();
  auto faces = std::move(f.analyser->analyse(f.frame1080)).value();
  std::vector<cv::Rect2f> boxes;
  for (const auto& face : faces) boxes.push_back(face.box);
  const auto payload = pipeline::new_run_payload();
  cv::Mat frame;
  for (auto _ : state) {
    state.PauseTiming();
    f.frame1080.copyTo(frame);
    state.ResumeTiming();
    benchmark::DoNotOptimize(provenance::embed_watermark_faces(frame, boxes, payload));
  }
}

// A video frame's marking: the stamp for the face's mark box is made once (VideoMarks) and added to every
// frame after it; this is what each frame pays while the box holds.
void BM_VideoStamp_1080p_Frame(benchmark::State& state) {
  auto& f = bench::swap_fixture();
  auto faces = std::move(f.analyser->analyse(f.frame1080)).value();
  std::vector<cv::Rect2f> boxes;
  for (const auto& face : faces) boxes.push_back(face.box);
  pipeline::VideoMarks marks(pipeline::new_run_payload());
  const SwapOptions options;
  pipeline::FrameContext ctx;
  for (auto _ : state) {
    state.PauseTiming();
    f.frame1080.copyTo(ctx.frame);
    state.ResumeTiming();
    benchmark::DoNotOptimize(marks.mark(ctx, ctx.frame.size(), options, boxes));
  }
}

// What `inspect` pays per face: the watermark search (payload and presence mark, every scale and grid
// offset) around the detected face of the marked 1080p frame. The face detector is not part of it.
void BM_DetectWatermark_1080p_Face(benchmark::State& state) {
  auto& f = bench::swap_fixture();
  auto faces = std::move(f.analyser->analyse(f.frame1080)).value();
  std::vector<cv::Rect2f> boxes;
  for (const auto& face : faces) boxes.push_back(face.box);
  cv::Mat frame = f.frame1080.clone();
  provenance::embed_watermark_faces(frame, boxes, pipeline::new_run_payload());
  for (auto _ : state) {
    const auto found = provenance::detect_watermark(frame, boxes);
    if (!found.payload) {
      state.SkipWithError("the mark was not read");
      return;
    }
  }
}

// The metadata alone: added to an encoded 1080p JPEG in memory.
void BM_Metadata_Jpeg_1080p(benchmark::State& state) {
  auto& f = bench::swap_fixture();
  const auto info = pipeline::provenance_info({"face_swapper"});
  std::vector<uint8_t> bytes;
  for (auto _ : state) {
    state.PauseTiming();
    bytes.assign(f.jpeg1080.begin(), f.jpeg1080.end());
    state.ResumeTiming();
    if (!provenance::add_image_metadata(bytes, info).is_ok()) state.SkipWithError("metadata failed");
  }
}

BENCHMARK(BM_Swap_1080p_Unmarked)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Swap_1080p_Marked)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Watermark_1080p_Frame)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_VideoStamp_1080p_Frame)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_DetectWatermark_1080p_Face)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Metadata_Jpeg_1080p)->Unit(benchmark::kMillisecond);

}  // namespace

int main(int argc, char** argv) {
  return faceweave::bench::run_benchmarks(argc, argv);
}
