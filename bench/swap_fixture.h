// The image-swap benchmarks' shared setup (bench_swap, bench_provenance): the default models, Obama as the
// source, and a 1080p frame (the astronaut portrait scaled to 1080 rows, centred on a 1920-wide grey canvas)
// with its JPEG. Built once per process.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "bench_support.h"
#include "core/image_io.h"
#include "face/face_analyser.h"
#include "pipeline/image_swap.h"

namespace faceweave::bench {

struct SwapFixture {
  std::unique_ptr<infer::ModelRegistry> registry;
  std::unique_ptr<face::FaceAnalyser> analyser;
  pipeline::SourceIdentity source;
  cv::Mat frame1080;
  std::vector<uchar> jpeg1080;
};

inline SwapFixture& swap_fixture() {
  static SwapFixture* f = [] {
    auto* fx = new SwapFixture();
    fx->registry = std::move(infer::ModelRegistry::create({FACEWEAVE_MANIFEST_PATH, models_dir()})).value();
    fx->analyser = std::move(face::FaceAnalyser::create({}, *fx->registry)).value();
    const std::string dir = std::string(FACEWEAVE_TESTDATA_DIR) + "/images/";
    fx->source =
        std::move(pipeline::build_source_identity({dir + "obama.jpg"}, *fx->analyser, nullptr)).value();
    cv::Mat portrait = std::move(core::load_image(dir + "astronaut.png")).value();
    cv::Mat scaled;
    cv::resize(portrait, scaled, cv::Size(1080, 1080), 0, 0, cv::INTER_CUBIC);
    fx->frame1080 = cv::Mat(1080, 1920, CV_8UC3, cv::Scalar(90, 90, 90));
    scaled.copyTo(fx->frame1080(cv::Rect(420, 0, 1080, 1080)));
    cv::imencode(".jpg", fx->frame1080, fx->jpeg1080, {cv::IMWRITE_JPEG_QUALITY, 90});
    return fx;
  }();
  return *f;
}

}  // namespace faceweave::bench
