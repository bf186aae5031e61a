// The CLI on the structure-true fixtures (tests/fixtures/make_structure_fixtures.py): the real manifest
// with the downloadable models' entries pointing at the fixtures, so `faceweave swap` and `faceweave
// analyse` run them through the whole processor chain on real photos.
#include <filesystem>
#include <fstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>

#include "infer/sha256.h"
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

// The real manifest with inswapper_128 and arcface_w600k_r50 pointing at the structure fixtures, so the
// CLI runs the ONNX swapper through the whole processor chain on a real photo.
class StructureSwapCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::ifstream in(FACEWEAVE_MANIFEST_PATH);
    nlohmann::json doc = nlohmann::json::parse(in);
    for (auto& m : doc["models"]) {
      std::string file;
      if (m["name"] == "inswapper_128") file = fixture("inswapper_structure.onnx");
      if (m["name"] == "arcface_w600k_r50") file = fixture("arcface_structure.onnx");
      if (file.empty()) continue;
      m["file"] = file;
      m["sha256"] = *infer::sha256_file(file);
    }
    ::faceweave::testing::write_file(dir_.file("manifest.json"), doc.dump());
  }
  ::faceweave::testing::CommandResult swap(const std::string& name, const std::string& flags) {
    return ::faceweave::testing::run_command(
        "FACEWEAVE_TELEMETRY=off FACEWEAVE_MANIFEST=" + dir_.file("manifest.json") +
        " FACEWEAVE_MODELS_DIR=" + FACEWEAVE_MODELS_DIR_DEFAULT + " " + FACEWEAVE_BINARY + " swap -s " +
        ::faceweave::testing::image("obama.jpg") + " -t " + ::faceweave::testing::image("astronaut.png") +
        " -o " + dir_.file(name) + " --face-swapper-model inswapper_128 --no-watermark --no-provenance " +
        flags + " 2>&1");
  }
  TempDir dir_;
};

TEST_F(StructureSwapCliTest, EveryFinishingOptionChangesTheOutputAndClassicOnlyOnesAreRefused) {
  auto base = swap("base.png", "");
  ASSERT_EQ(base.code, 0) << base.out;
  const cv::Mat b = cv::imread(dir_.file("base.png"));
  const cv::Mat target = cv::imread(::faceweave::testing::image("astronaut.png"));
  ASSERT_EQ(b.size(), target.size());
  EXPECT_GT(cv::norm(b, target, cv::NORM_L1), 0.0) << "nothing was swapped";
  const std::vector<std::string> variants = {"--identity-strength 0.3", "--color-match none",
                                             "--blend affine", "--keep-mouth-interior false"};
  for (size_t i = 0; i < variants.size(); ++i) {
    const std::string name = "v" + std::to_string(i) + ".png";
    auto r = swap(name, variants[i]);
    ASSERT_EQ(r.code, 0) << variants[i] << ": " << r.out;
    const cv::Mat v = cv::imread(dir_.file(name));
    cv::Mat diff;
    cv::absdiff(v, b, diff);
    EXPECT_GT(cv::countNonZero(diff.reshape(1)), 50) << variants[i] << " was ignored";
  }
  for (const std::string flag : {"--skin-mask false", "--target-lighting 0.5", "--match-sharpness false"}) {
    auto r = swap("refused.png", flag);
    EXPECT_EQ(r.code, 2) << flag << ": " << r.out;
    EXPECT_THAT(r.out, HasSubstr("classic swapper only")) << flag;
    EXPECT_FALSE(fs::exists(dir_.file("refused.png")));
  }
}

TEST(StructureCliTest, AnalyseRunsScrfdAndFan) {
  // `analyse --face-detector-model scrfd_2.5g --face-landmarker-model 2dfan4` with the two fixtures in the
  // real manifest's entries: the whole analyser runs on them, and the strongest face is NumPy's.
  TempDir dir;
  std::ifstream in(FACEWEAVE_MANIFEST_PATH);
  nlohmann::json doc = nlohmann::json::parse(in);
  for (auto& m : doc["models"]) {
    std::string file;
    if (m["name"] == "scrfd_2.5g") file = fixture("scrfd_structure.onnx");
    if (m["name"] == "2dfan4") file = fixture("fan_structure.onnx");
    if (file.empty()) continue;
    m["file"] = file;
    m["sha256"] = *infer::sha256_file(file);
  }
  ::faceweave::testing::write_file(dir.file("manifest.json"), doc.dump());
  auto r = ::faceweave::testing::run_command(
      "FACEWEAVE_TELEMETRY=off FACEWEAVE_MANIFEST=" + dir.file("manifest.json") +
      " FACEWEAVE_MODELS_DIR=" + FACEWEAVE_MODELS_DIR_DEFAULT + " " + FACEWEAVE_BINARY + " analyse " +
      fixture("scrfd_structure_image.png") +
      " --face-detector-model scrfd_2.5g --face-detector-score 0.5 --face-landmarker-model 2dfan4 --json");
  ASSERT_EQ(r.code, 0) << r.out;
  const auto out = nlohmann::json::parse(r.out);
  ASSERT_GE(out["faces"].size(), 1u);
  const auto& face = out["faces"][0];
  const auto want = reference("scrfd_structure")["detections"][0]["box"].get<std::vector<double>>();
  EXPECT_NEAR(face["box"]["x"].get<double>(), want[0], 0.05);
  EXPECT_NEAR(face["box"]["y"].get<double>(), want[1], 0.05);
  EXPECT_NEAR(face["box"]["width"].get<double>(), want[2] - want[0], 0.05);
  EXPECT_EQ(face["landmarks68"].size(), 68u);
}

}  // namespace
}  // namespace faceweave
