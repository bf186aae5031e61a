// Face detection on real photographs: the expected number of faces, boxes in original-image pixels, and
// nothing on images without faces.
#include <opencv2/imgproc.hpp>

#include "analysis_support.h"

namespace faceweave::testing {
namespace {

const Engine& detect_only() {
  return shared_engine("detect-only", [](EngineOptions& o) {
    o.analysis.embeddings = false;
    o.analysis.attributes = false;
  });
}

const Engine& yunet() {
  return shared_engine("yunet", [](EngineOptions& o) {
    o.analysis.detector_model = testdata("models/detector/face_detection_yunet_2022mar.onnx");
    o.analysis.embeddings = false;
    o.analysis.attributes = false;
  });
}

struct Expected {
  const char* file;
  int faces;  // exact count, or the minimum when at_least
  bool at_least;
};

class DetectionCount : public ::testing::TestWithParam<Expected> {};

TEST_P(DetectionCount, FindsTheFacesInThePhoto) {
  const Expected& e = GetParam();
  auto faces = analyse_file(image(e.file), detect_only());
  if (e.at_least)
    EXPECT_GE(int(faces.size()), e.faces) << e.file;
  else
    EXPECT_EQ(int(faces.size()), e.faces) << e.file;
}

INSTANTIATE_TEST_SUITE_P(
    TestImages, DetectionCount,
    ::testing::Values(Expected{"astronaut.png", 1, false}, Expected{"obama.jpg", 1, false},
                      Expected{"biden.jpg", 1, false}, Expected{"meds-aa-S001-01.jpg", 1, false},
                      Expected{"meds-aa-S001-02.jpg", 1, false}, Expected{"meds-aa-S029-01.jpg", 1, false},
                      Expected{"meds-af-S419-01.jpg", 1, false}, Expected{"two_people.jpg", 2, false},
                      Expected{"2008_002470.jpg", 6, false}, Expected{"bald_guys.jpg", 20, true}),
    [](const auto& info) {
      std::string n = info.param.file;
      for (char& c : n)
        if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
      return n;
    });

TEST(Detection, NoFacesInNoiseOrGradient) {
  cv::Mat noise(480, 640, CV_8UC3);
  cv::RNG rng(7);
  rng.fill(noise, cv::RNG::UNIFORM, 0, 256);
  auto faces = detect_only().analyse(noise);
  ASSERT_TRUE(faces.is_ok()) << faces.status().to_string();
  EXPECT_TRUE(faces->empty());

  cv::Mat gradient(480, 640, CV_8UC3);
  for (int y = 0; y < gradient.rows; ++y)
    for (int x = 0; x < gradient.cols; ++x)
      gradient.at<cv::Vec3b>(y, x) = cv::Vec3b(uchar(x * 255 / 639), uchar(y * 255 / 479), 128);
  faces = detect_only().analyse(gradient);
  ASSERT_TRUE(faces.is_ok());
  EXPECT_TRUE(faces->empty());
}

TEST(Detection, BoxesAreInOriginalPixelsWhateverTheScale) {
  // The same photo at full size and at half size: boxes scale with it (the network always runs at 320x240).
  auto img = load_image(image("obama.jpg"));
  ASSERT_TRUE(img.is_ok());
  cv::Mat half;
  cv::resize(*img, half, cv::Size(), 0.5, 0.5, cv::INTER_AREA);
  auto full_faces = detect_only().analyse(*img);
  auto half_faces = detect_only().analyse(half);
  ASSERT_TRUE(full_faces.is_ok() && half_faces.is_ok());
  ASSERT_EQ(full_faces->size(), 1u);
  ASSERT_EQ(half_faces->size(), 1u);
  const auto& a = (*full_faces)[0].box;
  const auto& b = (*half_faces)[0].box;
  EXPECT_NEAR(a.x, b.x * 2, a.width * 0.05);
  EXPECT_NEAR(a.y, b.y * 2, a.height * 0.05);
  EXPECT_NEAR(a.width, b.width * 2, a.width * 0.05);
  // The box covers the face: its centre lies between the eyes and the mouth.
  const auto& f = (*full_faces)[0];
  cv::Point2f eyes = (f.landmarks5[0] + f.landmarks5[1]) * 0.5f;
  cv::Point2f mouth = (f.landmarks5[3] + f.landmarks5[4]) * 0.5f;
  cv::Point2f centre(a.x + a.width / 2, a.y + a.height / 2);
  EXPECT_GT(centre.y, eyes.y - a.height * 0.1f);
  EXPECT_LT(centre.y, mouth.y + a.height * 0.1f);
  EXPECT_TRUE(a.contains(eyes));
  EXPECT_TRUE(a.contains(mouth));
}

TEST(Detection, YuNetFindsTheSameFaces) {
  for (const auto& [file, count] : std::vector<std::pair<std::string, int>>{
           {"obama.jpg", 1}, {"two_people.jpg", 2}, {"astronaut.png", 1}, {"2008_002470.jpg", 6}}) {
    auto yn = analyse_file(image(file), yunet());
    auto fr = analyse_file(image(file), detect_only());
    EXPECT_EQ(int(yn.size()), count) << file;
    // Every YuNet face overlaps a default-detector face.
    for (const auto& y : yn) {
      float best = 0;
      for (const auto& f : fr) {
        cv::Rect2f inter = y.box & f.box;
        best = std::max(best, inter.area() / (y.box.area() + f.box.area() - inter.area()));
      }
      EXPECT_GT(best, 0.3f) << file;
    }
  }
}

TEST(Detection, ScoreThresholdIsValidated) {
  EngineOptions o = test_engine_options();
  o.analysis.detector_score = 1.5f;
  auto e = Engine::create(o);
  ASSERT_FALSE(e.is_ok());
  EXPECT_EQ(e.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(e.status().message().find("threshold"), std::string::npos);
}

}  // namespace
}  // namespace faceweave::testing
