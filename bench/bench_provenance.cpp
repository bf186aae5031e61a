// What marking an output as synthetic costs (docs/benchmarks.md "Provenance"): a whole 1080p image swap
// (decode, analyse, swap, encode, write the file) with the watermark and the metadata switched off, and the
// same with both on; the watermark alone on a 1080p frame (a video frame's marking cost); and the metadata
// alone on a written JPEG.
#include <cstdio>
#include <filesystem>
#include <memory>

#include <benchmark/benchmark.h>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "bench_support.h"
#include "core/image_io.h"
#include "face/face_analyser.h"
#include "pipeline/image_swap.h"
#include "pipeline/provenance_marks.h"
#include "provenance/watermark.h"

namespace {
using namespace faceweave;

struct Fixture {
  std::unique_ptr<infer::ModelRegistry> registry;
  std::unique_ptr<face::FaceAnalyser> analyser;
  pipeline::SourceIdentity source;
  cv::Mat frame1080;
  std::vector<uchar> jpeg1080;
  std::string out;
};

Fixture& fixture() {
  static Fixture* f = [] {
    auto* fx = new Fixture();
    fx->registry =
        std::move(infer::ModelRegistry::create({FACEWEAVE_MANIFEST_PATH, bench::models_dir()})).value();
    fx->analyser = std::move(face::FaceAnalyser::create({}, *fx->registry)).value();
    const std::string dir = std::string(FACEWEAVE_TESTDATA_DIR) + "/images/";
    fx->source =
        std::move(pipeline::build_source_identity({dir + "obama.jpg"}, *fx->analyser, nullptr)).value();
    // The 1080p frame of bench_swap: the astronaut portrait scaled to 1080 rows on a 1920-wide canvas.
    cv::Mat portrait = std::move(core::load_image(dir + "astronaut.png")).value();
    cv::Mat scaled;
    cv::resize(portrait, scaled, cv::Size(1080, 1080), 0, 0, cv::INTER_CUBIC);
    fx->frame1080 = cv::Mat(1080, 1920, CV_8UC3, cv::Scalar(90, 90, 90));
    scaled.copyTo(fx->frame1080(cv::Rect(420, 0, 1080, 1080)));
    cv::imencode(".jpg", fx->frame1080, fx->jpeg1080, {cv::IMWRITE_JPEG_QUALITY, 90});
    fx->out = (std::filesystem::temp_directory_path() / "faceweave-bench-provenance.jpg").string();
    return fx;
  }();
  return *f;
}

void swap_1080p(benchmark::State& state, bool marked) {
  auto& f = fixture();
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
    if (!pipeline::save_image_output(f.out, ctx->frame, options, {"face_swapper"}).is_ok()) {
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
  auto& f = fixture();
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

// The metadata alone: added to an encoded 1080p JPEG in memory.
void BM_Metadata_Jpeg_1080p(benchmark::State& state) {
  auto& f = fixture();
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
BENCHMARK(BM_Metadata_Jpeg_1080p)->Unit(benchmark::kMillisecond);

}  // namespace

int main(int argc, char** argv) {
  return faceweave::bench::run_benchmarks(argc, argv);
}
