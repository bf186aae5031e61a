// 68-point landmarks: the default pack's landmarker agrees with dlib's shape predictor, an independent
// model, to within 5% of the inter-ocular distance on single-face photos.
#include <cmath>

#include <opencv2/imgproc.hpp>

#include "analysis_support.h"

namespace faceweave::testing {
namespace {

const Engine& with_landmarker(const std::string& model) {
  return shared_engine("lm-" + model, [model](EngineOptions& o) {
    o.analysis.landmarker_model = model;
    o.analysis.embeddings = false;
    o.analysis.attributes = false;
  });
}

float inter_ocular(const Face& f) {
  return float(cv::norm(f.landmarks5[0] - f.landmarks5[1]));
}

class LandmarksAgree : public ::testing::TestWithParam<const char*> {};

TEST_P(LandmarksAgree, DefaultLandmarkerMatchesDlibWithinFivePercentOfIod) {
  auto ours = analyse_file(image(GetParam()), with_landmarker("fr_landmark"));
  auto dlib = analyse_file(image(GetParam()), with_landmarker("dlib_68"));
  ASSERT_EQ(ours.size(), 1u);
  ASSERT_EQ(dlib.size(), 1u);
  double sum = 0;
  for (size_t i = 0; i < 68; ++i) sum += cv::norm(ours[0].landmarks68[i] - dlib[0].landmarks68[i]);
  const double mean_error = sum / 68;
  const double iod = inter_ocular(dlib[0]);
  ASSERT_GT(iod, 10);
  EXPECT_LE(mean_error / iod, 0.05) << GetParam() << ": mean error " << mean_error << " px, IOD " << iod
                                    << " px";
  RecordProperty("normalised_mean_error", std::to_string(mean_error / iod));
}

INSTANTIATE_TEST_SUITE_P(SingleFaceImages, LandmarksAgree,
                         ::testing::Values("astronaut.png", "obama.jpg", "biden.jpg", "meds-aa-S001-01.jpg",
                                           "meds-aa-S001-02.jpg", "meds-aa-S029-01.jpg",
                                           "meds-af-S419-01.jpg"),
                         [](const auto& info) {
                           std::string n = info.param;
                           for (char& c : n)
                             if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                           return n;
                         });

TEST(Landmarks, PointsAreAnatomicallyOrdered) {
  auto faces = analyse_file(image("obama.jpg"), with_landmarker("fr_landmark"));
  ASSERT_EQ(faces.size(), 1u);
  const auto& p = faces[0].landmarks68;
  // Left eye (36-41) is left of the right eye (42-47); the nose tip (30) is below the eyes and above the
  // mouth (48-67); the chin (8) is the lowest jaw point.
  EXPECT_LT(p[39].x, p[42].x);
  EXPECT_GT(p[30].y, p[37].y);
  EXPECT_LT(p[30].y, p[51].y);
  for (int i = 0; i <= 16; ++i) EXPECT_LE(p[size_t(i)].y, p[8].y + 1) << i;
  // Five-point eyes lie inside their eye contours' bounding boxes.
  cv::Rect2f left_eye = cv::boundingRect(std::vector<cv::Point2f>(p.begin() + 36, p.begin() + 42));
  EXPECT_TRUE(left_eye.contains(faces[0].landmarks5[0]));
}

}  // namespace
}  // namespace faceweave::testing
