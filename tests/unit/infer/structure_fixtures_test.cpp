// Structure-true fixtures (tests/fixtures/make_structure_fixtures.py): small random-weight graphs with the
// operator patterns of each downloadable model, run through the same loader and pre/post-processing as the
// real model (OnnxSwapper, Recognizer, FaceDetector, Landmarker) and compared with the NumPy reference the
// generator wrote. The pattern OpenCV 4.6 cannot import (GFPGAN's modulated convolution) is shown to fail,
// and the real manifest refuses that model before any download. The CLI runs on them are in
// tests/integration/structure_cli_test.cpp.
#include <cmath>
#include <filesystem>
#include <fstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>

#include "face/alignment.h"
#include "face/detector.h"
#include "face/landmarker.h"
#include "face/recognizer.h"
#include "faceweave/engine.h"
#include "infer/backend.h"
#include "infer/sha256.h"
#include "pipeline/swap_settings.h"
#include "swap/onnx_swapper.h"
#include "test_support.h"

namespace faceweave {
namespace {

namespace fs = std::filesystem;
using ::faceweave::testing::TempDir;
using ::testing::HasSubstr;

std::string fixture(const std::string& name) {
  return (fs::path(FACEWEAVE_STRUCTURE_FIXTURES) / name).string();
}

nlohmann::json reference(const std::string& name) {
  std::ifstream in(fixture(name + ".json"));
  return nlohmann::json::parse(in);
}

// The manifest entries of the real models, pointing at the structure fixtures (verified by sha256 like a
// download). The file names differ from the real ones: decoders are chosen by the declared kind.
class StructureModels {
 public:
  StructureModels() {
    auto entry = [](const std::string& name, const std::string& role, const std::string& kind,
                    const std::string& file, const std::string& input) {
      return R"({"name": ")" + name + R"(", "role": ")" + role + R"(", "kind": ")" + kind +
             R"(", "pack": "full", "file": ")" + fixture(file) + R"(", "sha256": ")" +
             *infer::sha256_file(fixture(file)) + R"(", "input": )" + input + "}";
    };
    std::string body =
        R"({"schema": 1, "models": [)" +
        entry("inswapper_128", "face_swapper", "", "inswapper_structure.onnx",
              R"({"shape": [1, 3, 128, 128], "template": "arcface_128"})") +
        "," +
        entry("arcface_w600k_r50", "recognizer", "", "arcface_structure.onnx",
              R"({"shape": [1, 3, 112, 112], "mean": [127.5], "std": [127.5]})") +
        "," +
        entry("scrfd_2.5g", "detector", "scrfd", "scrfd_structure.onnx", R"({"shape": [1, 3, 640, 640]})") +
        "," +
        entry("2dfan4", "landmarker", "2dfan4", "fan_structure.onnx", R"({"shape": [1, 3, 256, 256]})") +
        "]}";
    ::faceweave::testing::write_file(dir_.file("manifest.json"), body);
    auto r = infer::ModelRegistry::create({dir_.file("manifest.json"), dir_.file("models")});
    EXPECT_TRUE(r.is_ok()) << r.status().to_string();
    registry_ = std::move(r).value();
  }
  const infer::ModelRegistry& registry() const { return *registry_; }

 private:
  TempDir dir_;
  std::unique_ptr<infer::ModelRegistry> registry_;
};

// --- inswapper_128 --------------------------------------------------------------------------------------

class InswapperStructureTest : public ::testing::Test {
 protected:
  std::unique_ptr<swap::OnnxSwapper> make(swap::OnnxSwapperOptions o = {}) {
    auto s = swap::OnnxSwapper::create(o, models_.registry());
    EXPECT_TRUE(s.is_ok()) << s.status().to_string();
    return s.is_ok() ? std::move(s).value() : nullptr;
  }
  // A 360x320 frame with the reference crop at (90, 70), and a face whose five points are the arcface_128
  // template there, so the swapper's crop is exactly the reference crop (an integer translation).
  void SetUp() override {
    crop_ = cv::imread(fixture("inswapper_structure_crop.png"));
    ASSERT_EQ(crop_.size(), cv::Size(128, 128));
    frame_ = cv::Mat(320, 360, CV_8UC3, cv::Scalar(40, 90, 160));
    crop_.copyTo(frame_(cv::Rect(90, 70, 128, 128)));
    const auto tmpl = face::arcface_128_template(128.f);
    face_.has_landmarks = true;
    for (size_t i = 0; i < 5; ++i) face_.landmarks5[i] = tmpl[i] + cv::Point2f(90, 70);
    for (size_t i = 0; i < 68; ++i) {  // a ring, and a mouth octagon 60..67 around (64, 96) of the crop
      const double th = 2 * CV_PI * double(i) / 68;
      face_.landmarks68[i] =
          cv::Point2f(float(90 + 64 + 50 * std::cos(th)), float(70 + 64 + 56 * std::sin(th)));
    }
    for (size_t i = 60; i < 68; ++i) {
      const double th = 2 * CV_PI * double(i - 60) / 8;
      face_.landmarks68[i] =
          cv::Point2f(float(90 + 64 + 14 * std::cos(th)), float(70 + 96 + 6 * std::sin(th)));
    }
    auto ref = reference("inswapper_structure");
    raw_ = ref["raw_source"].get<std::vector<float>>();
    expected_source_ = ref["model_source"].get<std::vector<double>>();
    expected_ = cv::imread(fixture("inswapper_structure_expected.png"));
  }
  cv::Mat swapped(const swap::OnnxSwapperOptions& o) {
    auto s = make(o);
    cv::Mat f = frame_.clone();
    if (!s) return f;
    auto r = s->swap(f, face_, raw_);
    EXPECT_TRUE(r.is_ok()) << r.status().to_string();
    return f;
  }
  StructureModels models_;
  cv::Mat crop_, frame_, expected_;
  Face face_;
  std::vector<float> raw_;
  std::vector<double> expected_source_;
};

TEST_F(InswapperStructureTest, AdaInGeneratorMatchesTheNumpyReference) {
  auto s = make();
  ASSERT_NE(s, nullptr);
  // The embedding map is read from the graph's last initializer and applied as inswapper expects.
  const auto source = s->model_source(raw_, {});
  double worst = 0;
  for (size_t k = 0; k < 512; ++k) worst = std::max(worst, std::abs(source[k] - expected_source_[k]));
  EXPECT_LT(worst, 1e-4) << "raw @ emap / |raw| differs from NumPy";
  // Reflect Pad, Conv, InstanceNormalization, AdaIN (Gemm + Reshape + Mul + Add), Resize, Tanh: OpenCV's
  // output through the swapper's own pre/post-processing equals the NumPy forward pass to one 8-bit level.
  auto out = s->run_crop(crop_, source);
  ASSERT_TRUE(out.is_ok()) << out.status().to_string();
  EXPECT_LE(cv::norm(*out, expected_, cv::NORM_INF), 1.0);
  EXPECT_GT(cv::norm(*out, crop_, cv::NORM_L1) / double(crop_.total()), 10.0) << "the generator did nothing";
}

TEST_F(InswapperStructureTest, WholeSwapPastesTheReferenceOutput) {
  cv::Mat f = swapped({});
  // Inside the box mask's core the frame now holds the model's output for the crop.
  const cv::Rect core(90 + 40, 70 + 40, 48, 48);
  EXPECT_LE(cv::norm(f(core), expected_(cv::Rect(40, 40, 48, 48)), cv::NORM_INF), 2.0);
  EXPECT_EQ(cv::norm(f(cv::Rect(0, 0, 80, 60)), frame_(cv::Rect(0, 0, 80, 60)), cv::NORM_INF), 0.0);
}

TEST_F(InswapperStructureTest, ClassicOptionsApplyToTheOnnxSwapper) {
  const cv::Mat base = swapped({});
  const cv::Rect core(90 + 40, 70 + 20, 48, 30);  // above the mouth
  // Identity strength: opacity min(1, 2 x strength); 0 leaves the frame alone.
  swap::OnnxSwapperOptions o;
  o.identity_strength = 0.25f;
  cv::Mat half = swapped(o), expect_half;
  cv::addWeighted(frame_(core), 0.5, base(core), 0.5, 0, expect_half);
  EXPECT_LE(cv::norm(half(core), expect_half, cv::NORM_INF), 2.0);
  EXPECT_GT(cv::norm(half(core), base(core), cv::NORM_INF), 10.0);
  o.identity_strength = 0.f;
  EXPECT_EQ(cv::norm(swapped(o), frame_, cv::NORM_INF), 0.0);
  o.identity_strength = 0.8f;
  EXPECT_EQ(cv::norm(swapped(o), base, cv::NORM_INF), 0.0) << "full opacity from 0.5 on";
  // Colour match: the model's face takes the target crop's colour statistics.
  swap::OnnxSwapperOptions c;
  c.color_match = swap::ColorMatch::kReinhard;
  cv::Mat matched = swapped(c);
  EXPECT_GT(cv::norm(matched(core), base(core), cv::NORM_L1) / double(core.area()), 3.0);
  const cv::Scalar target_mean = cv::mean(crop_(cv::Rect(30, 30, 68, 68)));
  const cv::Scalar matched_mean = cv::mean(matched(cv::Rect(90 + 30, 70 + 30, 68, 68)));
  const cv::Scalar base_mean = cv::mean(base(cv::Rect(90 + 30, 70 + 30, 68, 68)));
  EXPECT_LT(cv::norm(matched_mean - target_mean), cv::norm(base_mean - target_mean));
  // Blend mode: a seamless layer differs from the plain composite.
  swap::OnnxSwapperOptions b;
  b.blend = swap::BlendMode::kSeamless;
  EXPECT_GT(cv::norm(swapped(b)(core), base(core), cv::NORM_L1) / double(core.area()), 1.0);
  // Keep mouth interior: the target's inner-lip area stays.
  swap::OnnxSwapperOptions m;
  m.keep_mouth_interior = true;
  cv::Mat mouth = swapped(m);
  const cv::Rect inner(90 + 64 - 3, 70 + 96 - 1, 6, 2);
  EXPECT_LE(cv::norm(mouth(inner), frame_(inner), cv::NORM_INF), 2.0);
  EXPECT_GT(cv::norm(base(inner), frame_(inner), cv::NORM_INF), 10.0);
}

TEST(OnnxSwapperSettingsTest, SwapOptionsReachTheOnnxSwapper) {
  SwapOptions o;
  o.face_swapper_model = "inswapper_128";
  o.identity_strength = 0.3f;
  o.blend = "laplacian";
  o.color_match = "histogram";
  o.keep_mouth_interior = false;
  auto s = pipeline::onnx_swapper_options(o);
  ASSERT_TRUE(s.is_ok()) << s.status().to_string();
  EXPECT_EQ(s->identity_strength, 0.3f);
  EXPECT_EQ(s->blend, swap::BlendMode::kLaplacian);
  EXPECT_EQ(s->color_match, swap::ColorMatch::kHistogram);
  EXPECT_FALSE(s->keep_mouth_interior);
  o.identity_strength = 1.5f;
  EXPECT_FALSE(pipeline::onnx_swapper_options(o).is_ok());
  o.identity_strength = 0.3f;
  o.blend = "poisson";
  EXPECT_FALSE(pipeline::onnx_swapper_options(o).is_ok());
}

// --- arcface_w600k_r50 ----------------------------------------------------------------------------------

TEST(ArcfaceStructureTest, IResNetEmbeddingMatchesTheNumpyReference) {
  StructureModels models;
  face::RecognizerOptions o;
  o.model = "arcface_w600k_r50";
  auto r = face::Recognizer::create(o, models.registry());
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  cv::Mat crop = cv::imread(fixture("arcface_structure_crop.png"));
  // The crop is already aligned: its five points are the template itself.
  auto e = (*r)->embed(crop, face::arcface_112_template());
  ASSERT_TRUE(e.is_ok()) << e.status().to_string();
  const auto expected = reference("arcface_structure")["embedding"].get<std::vector<double>>();
  ASSERT_EQ(e->size(), expected.size());
  double worst = 0, scale = 0;
  for (size_t k = 0; k < expected.size(); ++k) {
    worst = std::max(worst, std::abs((*e)[k] - expected[k]));
    scale = std::max(scale, std::abs(expected[k]));
  }
  EXPECT_LT(worst, 1e-4 * scale) << "Conv/BN/PReLU/residual/Gemm/BatchNormalization-1d differ from NumPy";
}

// --- scrfd_2.5g -----------------------------------------------------------------------------------------

TEST(ScrfdStructureTest, DecoderMatchesTheNumpyReference) {
  StructureModels models;
  const auto ref = reference("scrfd_structure");
  face::FaceDetectorOptions o;
  o.model = "scrfd_2.5g";
  o.score_threshold = ref["threshold"].get<float>();
  o.nms_iou = ref["nms_iou"].get<float>();
  auto d = face::FaceDetector::create(o, models.registry());
  ASSERT_TRUE(d.is_ok()) << d.status().to_string();
  cv::Mat image = cv::imread(fixture("scrfd_structure_image.png"));
  ASSERT_EQ(image.size(), cv::Size(800, 600)) << "letterboxed: scaled by 0.8, padded below";
  auto found = (*d)->detect(image);
  ASSERT_TRUE(found.is_ok()) << found.status().to_string();
  const auto& expected = ref["detections"];
  ASSERT_GE(expected.size(), 3u) << "the fixture should yield several faces";
  ASSERT_EQ(found->size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    const auto b = expected[i]["box"].get<std::vector<float>>();
    const cv::Rect2f want = cv::Rect2f(cv::Point2f(b[0], b[1]), cv::Point2f(b[2], b[3])) &
                            cv::Rect2f(0, 0, float(image.cols), float(image.rows));
    const auto& got = (*found)[i];
    EXPECT_NEAR(got.score, expected[i]["score"].get<float>(), 1e-4) << "face " << i;
    EXPECT_NEAR(got.box.x, want.x, 0.05) << "face " << i;
    EXPECT_NEAR(got.box.y, want.y, 0.05) << "face " << i;
    EXPECT_NEAR(got.box.width, want.width, 0.05) << "face " << i;
    EXPECT_NEAR(got.box.height, want.height, 0.05) << "face " << i;
    const auto k = expected[i]["kps"].get<std::vector<float>>();
    ASSERT_EQ(got.points5.size(), 5u);
    for (size_t j = 0; j < 5; ++j) {
      EXPECT_NEAR(got.points5[j].x, k[2 * j], 0.05) << "face " << i << " point " << j;
      EXPECT_NEAR(got.points5[j].y, k[2 * j + 1], 0.05) << "face " << i << " point " << j;
    }
  }
}

TEST(ScrfdStructureTest, DecoderIsChosenByTheDeclaredKindNotTheFileName) {
  // The SCRFD graph in a file whose name says yunet, declared `scrfd`: read as SCRFD. The same graph
  // declared `ultraface` is read with UltraFace's input size and outputs, and fails.
  TempDir dir;
  const std::string file = dir.file("face_detection_yunet_lookalike.onnx");
  fs::copy_file(fixture("scrfd_structure.onnx"), file);
  const std::string sha = *infer::sha256_file(file);
  ::faceweave::testing::write_file(
      dir.file("manifest.json"),
      R"({"schema": 1, "models": [{"name": "as_scrfd", "role": "detector", "kind": "scrfd", "file": ")" +
          file + R"(", "sha256": ")" + sha +
          R"("}, {"name": "as_ultraface", "role": "detector", "kind": "ultraface", )" + R"("file": ")" +
          file + R"(", "sha256": ")" + sha + R"("}]})");
  auto reg = infer::ModelRegistry::create({dir.file("manifest.json"), dir.file("models")});
  ASSERT_TRUE(reg.is_ok());
  const cv::Mat image = cv::imread(fixture("scrfd_structure_image.png"));
  face::FaceDetectorOptions o;
  o.model = "as_scrfd";
  o.score_threshold = 0.5f;
  o.nms_iou = 0.4f;
  auto scrfd = face::FaceDetector::create(o, **reg);
  ASSERT_TRUE(scrfd.is_ok()) << scrfd.status().to_string();
  auto found = (*scrfd)->detect(image);
  ASSERT_TRUE(found.is_ok()) << found.status().to_string();
  EXPECT_EQ(found->size(), reference("scrfd_structure")["detections"].size());
  o.model = "as_ultraface";
  auto ultra = face::FaceDetector::create(o, **reg);
  ASSERT_TRUE(ultra.is_ok()) << ultra.status().to_string();
  EXPECT_FALSE((*ultra)->detect(image).is_ok());
}

// --- 2dfan4 ---------------------------------------------------------------------------------------------

TEST(FanStructureTest, HourglassHeatmapLandmarksMatchTheNumpyReference) {
  StructureModels models;
  face::LandmarkerOptions o;
  o.model = "2dfan4";
  auto lm = face::Landmarker::create(o, models.registry());
  ASSERT_TRUE(lm.is_ok()) << lm.status().to_string();
  const auto ref = reference("fan_structure");
  const auto b = ref["box"].get<std::vector<float>>();
  auto pts = (*lm)->detect(cv::imread(fixture("fan_structure_image.png")),
                           cv::Rect2f(cv::Point2f(b[0], b[1]), cv::Point2f(b[2], b[3])));
  ASSERT_TRUE(pts.is_ok()) << pts.status().to_string();
  const auto want = ref["landmarks"].get<std::vector<std::vector<double>>>();
  int off = 0;
  for (size_t i = 0; i < 68; ++i)
    if (std::abs((*pts)[i].x - want[i][0]) > 1e-3 || std::abs((*pts)[i].y - want[i][1]) > 1e-3) ++off;
  EXPECT_EQ(off, 0) << "points whose heatmap peak differs from NumPy's";
}

// --- gfpgan_1.4 -----------------------------------------------------------------------------------------

TEST(GfpganStructureTest, ModulatedConvolutionCannotBeImportedByThisOpenCv) {
  auto m = infer::Model::create("gfpgan_1.4", fixture("gfpgan_structure.onnx"), {});
  ASSERT_FALSE(m.is_ok()) << "OpenCV now imports modulated convolution: gfpgan_1.4 may run; revisit the "
                             "manifest's `unsupported` mark";
  EXPECT_EQ(m.status().code(), StatusCode::kModelError);
}

TEST(UnsupportedModelsTest, ListedButRefusedBeforeDownloadAndLoad) {
  TempDir dir;
  EngineOptions e;
  e.manifest_path = FACEWEAVE_MANIFEST_PATH;
  e.models_dir = dir.file("models");
  auto list = list_models(e);
  ASSERT_TRUE(list.is_ok()) << list.status().to_string();
  int unsupported = 0;
  for (const auto& m : *list) {
    if (m.name == "gfpgan_1.4" || m.name == "inswapper_128_fp16") {
      EXPECT_FALSE(m.unsupported.empty()) << m.name;
      EXPECT_FALSE(m.downloadable) << m.name;
      ++unsupported;
    } else if (m.pack == "full") {
      EXPECT_TRUE(m.unsupported.empty()) << m.name << " has a structure fixture that runs";
      EXPECT_TRUE(m.downloadable) << m.name;
    }
  }
  EXPECT_EQ(unsupported, 2);
  for (const char* name : {"gfpgan_1.4", "inswapper_128_fp16"}) {
    ModelDownloadOptions d;
    d.names = {name};
    d.attempts = 1;
    auto r = download_models(e, d);
    ASSERT_FALSE(r.is_ok()) << name;
    EXPECT_EQ(r.status().code(), StatusCode::kUnsupported) << r.status().to_string();
    EXPECT_THAT(r.status().message(), HasSubstr("unsupported on this build"));
    EXPECT_FALSE(fs::exists(dir.file("models"))) << "something was fetched for " << name;
  }
  auto reg = infer::ModelRegistry::create({FACEWEAVE_MANIFEST_PATH, dir.file("models")});
  ASSERT_TRUE(reg.is_ok());
  auto resolved = (*reg)->resolve("gfpgan_1.4");
  ASSERT_FALSE(resolved.is_ok());
  EXPECT_THAT(resolved.status().message(), HasSubstr("modulated convolution"));
}

}  // namespace
}  // namespace faceweave
