// Face analysis micro-benchmarks on real photos: detection, landmarks, embedding per face, and the whole
// analysis of a 1080p image. Run through scripts/run-benchmarks.sh, which records the results in
// docs/benchmarks.md.
#include <cstdlib>
#include <memory>

#include <benchmark/benchmark.h>
#include <opencv2/core/utility.hpp>
#include <opencv2/imgproc.hpp>

#include "bench_support.h"
#include "core/image_io.h"
#include "face/face_analyser.h"
#include "infer/model_registry.h"

namespace {
using namespace faceweave;

struct Fixture {
  std::unique_ptr<infer::ModelRegistry> registry;
  std::unique_ptr<face::FaceDetector> detector;
  std::unique_ptr<face::Landmarker> landmarker;
  std::unique_ptr<face::Recognizer> recognizer;
  std::unique_ptr<face::FaceAnalyser> analyser;
  cv::Mat portrait;   // obama.jpg
  cv::Mat frame1080;  // two_people.jpg letterboxed into 1920x1080
  cv::Rect2f box;
  face::Points5 points;
};

Fixture& fixture() {
  static Fixture* f = [] {
    auto* fx = new Fixture();
    const std::string models = bench::models_dir();
    fx->registry = std::move(infer::ModelRegistry::create({FACEWEAVE_MANIFEST_PATH, models})).value();
    fx->detector = std::move(face::FaceDetector::create({}, *fx->registry)).value();
    fx->landmarker = std::move(face::Landmarker::create({}, *fx->registry)).value();
    fx->recognizer = std::move(face::Recognizer::create({}, *fx->registry)).value();
    fx->analyser = std::move(face::FaceAnalyser::create({}, *fx->registry)).value();
    std::string dir = std::string(FACEWEAVE_TESTDATA_DIR) + "/images/";
    fx->portrait = std::move(core::load_image(dir + "obama.jpg")).value();
    cv::Mat two = std::move(core::load_image(dir + "two_people.jpg")).value();
    fx->frame1080 = cv::Mat(1080, 1920, CV_8UC3, cv::Scalar::all(0));
    cv::Mat scaled;
    double s = std::min(1920.0 / two.cols, 1080.0 / two.rows);
    cv::resize(two, scaled, cv::Size(), s, s, cv::INTER_LINEAR);
    scaled.copyTo(fx->frame1080(
        cv::Rect((1920 - scaled.cols) / 2, (1080 - scaled.rows) / 2, scaled.cols, scaled.rows)));
    auto dets = std::move(fx->detector->detect(fx->portrait)).value();
    fx->box = dets.at(0).box;
    fx->points = face::five_from_68(std::move(fx->landmarker->detect(fx->portrait, fx->box)).value());
    return fx;
  }();
  return *f;
}

void BM_Detect_Portrait(benchmark::State& state) {
  auto& f = fixture();
  for (auto _ : state) benchmark::DoNotOptimize(f.detector->detect(f.portrait));
}
BENCHMARK(BM_Detect_Portrait)->Unit(benchmark::kMillisecond);

void BM_Detect_1080p(benchmark::State& state) {
  auto& f = fixture();
  for (auto _ : state) benchmark::DoNotOptimize(f.detector->detect(f.frame1080));
}
BENCHMARK(BM_Detect_1080p)->Unit(benchmark::kMillisecond);

void BM_Landmarks68_PerFace(benchmark::State& state) {
  auto& f = fixture();
  for (auto _ : state) benchmark::DoNotOptimize(f.landmarker->detect(f.portrait, f.box));
}
BENCHMARK(BM_Landmarks68_PerFace)->Unit(benchmark::kMillisecond);

void BM_Embedding_PerFace(benchmark::State& state) {
  auto& f = fixture();
  for (auto _ : state) benchmark::DoNotOptimize(f.recognizer->embed(f.portrait, f.points));
}
BENCHMARK(BM_Embedding_PerFace)->Unit(benchmark::kMillisecond);

void BM_FullAnalysis_1080p_TwoFaces(benchmark::State& state) {
  auto& f = fixture();
  size_t faces = 0;
  for (auto _ : state) {
    auto r = f.analyser->analyse(f.frame1080);
    faces = r ? r->size() : 0;
    benchmark::DoNotOptimize(r);
  }
  state.counters["faces"] = double(faces);
}
BENCHMARK(BM_FullAnalysis_1080p_TwoFaces)->Unit(benchmark::kMillisecond);

}  // namespace

int main(int argc, char** argv) {
  return faceweave::bench::run_benchmarks(argc, argv);
}
