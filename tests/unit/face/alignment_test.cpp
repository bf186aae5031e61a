#include "face/alignment.h"

#include <array>
#include <cmath>
#include <vector>

#include <gtest/gtest.h>
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include "test_support.h"

namespace faceweave::face {
namespace {

struct Similarity {
  double scale, angle_deg, tx, ty;
  cv::Point2d apply(cv::Point2d p) const {
    const double a = scale * std::cos(angle_deg * CV_PI / 180), b = scale * std::sin(angle_deg * CV_PI / 180);
    return {a * p.x - b * p.y + tx, b * p.x + a * p.y + ty};
  }
};

cv::Point2d apply(const cv::Mat& m, cv::Point2d p) {
  return {m.at<double>(0, 0) * p.x + m.at<double>(0, 1) * p.y + m.at<double>(0, 2),
          m.at<double>(1, 0) * p.x + m.at<double>(1, 1) * p.y + m.at<double>(1, 2)};
}

double sum_sq_residual(const cv::Mat& m, std::span<const cv::Point2f> from, std::span<const cv::Point2f> to) {
  double e = 0;
  for (size_t i = 0; i < from.size(); ++i) {
    cv::Point2d d = apply(m, cv::Point2d(from[i])) - cv::Point2d(to[i]);
    e += d.dot(d);
  }
  return e;
}

// An independent least-squares solution: x' = a x - b y + tx, y' = b x + a y + ty, solved by SVD.
cv::Mat linear_least_squares(std::span<const cv::Point2f> from, std::span<const cv::Point2f> to) {
  const int n = int(from.size());
  cv::Mat A(2 * n, 4, CV_64F), rhs(2 * n, 1, CV_64F);
  for (int i = 0; i < n; ++i) {
    const double x = from[size_t(i)].x, y = from[size_t(i)].y;
    double r0[] = {x, -y, 1, 0}, r1[] = {y, x, 0, 1};
    for (int k = 0; k < 4; ++k) {
      A.at<double>(2 * i, k) = r0[k];
      A.at<double>(2 * i + 1, k) = r1[k];
    }
    rhs.at<double>(2 * i) = to[size_t(i)].x;
    rhs.at<double>(2 * i + 1) = to[size_t(i)].y;
  }
  cv::Mat sol;
  cv::solve(A, rhs, sol, cv::DECOMP_SVD);
  const double a = sol.at<double>(0), b = sol.at<double>(1);
  return (cv::Mat_<double>(2, 3) << a, -b, sol.at<double>(2), b, a, sol.at<double>(3));
}

// Five face-like points in a larger photo.
Points5 face_points() {
  return {cv::Point2f(210.f, 180.f), cv::Point2f(290.f, 172.f), cv::Point2f(252.f, 225.f),
          cv::Point2f(218.f, 268.f), cv::Point2f(284.f, 262.f)};
}

TEST(EstimateSimilarityTest, RecoversKnownTransformExactly) {
  for (const Similarity& t : {Similarity{1.3, 20, 15, -7}, Similarity{0.45, -35, 120.5, 33.25},
                              Similarity{1.0, 0, 0, 0}, Similarity{2.5, 170, -40, 80}}) {
    Points5 from = face_points();
    Points5 to;
    for (size_t i = 0; i < 5; ++i) to[i] = cv::Point2f(t.apply(cv::Point2d(from[i])));
    cv::Mat m = estimate_similarity(from, to);
    ASSERT_EQ(m.rows, 2);
    ASSERT_EQ(m.cols, 3);
    ASSERT_EQ(m.type(), CV_64F);
    const double a = t.scale * std::cos(t.angle_deg * CV_PI / 180),
                 b = t.scale * std::sin(t.angle_deg * CV_PI / 180);
    // Targets were rounded to float, so agreement is to float precision over coordinates of a few hundred.
    EXPECT_NEAR(m.at<double>(0, 0), a, 1e-5) << t.angle_deg;
    EXPECT_NEAR(m.at<double>(0, 1), -b, 1e-5) << t.angle_deg;
    EXPECT_NEAR(m.at<double>(1, 0), b, 1e-5) << t.angle_deg;
    EXPECT_NEAR(m.at<double>(1, 1), a, 1e-5) << t.angle_deg;
    EXPECT_NEAR(m.at<double>(0, 2), t.tx, 2e-3) << t.angle_deg;
    EXPECT_NEAR(m.at<double>(1, 2), t.ty, 2e-3) << t.angle_deg;
    for (size_t i = 0; i < 5; ++i) {
      cv::Point2d p = apply(m, cv::Point2d(from[i]));
      EXPECT_NEAR(p.x, to[i].x, 1e-3);
      EXPECT_NEAR(p.y, to[i].y, 1e-3);
    }
  }
}

TEST(EstimateSimilarityTest, IsLeastSquaresUnderNoise) {
  const Similarity truth{0.8, 12, -60, 25};
  Points5 from = face_points();
  Points5 to;
  const float noise[5][2] = {{1.5f, -0.7f}, {-2.1f, 0.4f}, {0.3f, 1.9f}, {-0.8f, -1.6f}, {1.2f, 0.9f}};
  for (size_t i = 0; i < 5; ++i)
    to[i] = cv::Point2f(truth.apply(cv::Point2d(from[i]))) + cv::Point2f(noise[i][0], noise[i][1]);

  cv::Mat m = estimate_similarity(from, to);
  cv::Mat reference = linear_least_squares(from, to);
  for (int r = 0; r < 2; ++r)
    for (int c = 0; c < 3; ++c)
      EXPECT_NEAR(m.at<double>(r, c), reference.at<double>(r, c), 1e-6) << r << "," << c;

  // It is a similarity (no shear, no reflection), and no nearby similarity fits better.
  EXPECT_DOUBLE_EQ(m.at<double>(0, 0), m.at<double>(1, 1));
  EXPECT_DOUBLE_EQ(m.at<double>(0, 1), -m.at<double>(1, 0));
  const double best = sum_sq_residual(m, from, to);
  cv::Mat true_m =
      (cv::Mat_<double>(2, 3) << truth.scale * std::cos(12 * CV_PI / 180),
       -truth.scale * std::sin(12 * CV_PI / 180), truth.tx, truth.scale * std::sin(12 * CV_PI / 180),
       truth.scale * std::cos(12 * CV_PI / 180), truth.ty);
  EXPECT_LT(best, sum_sq_residual(true_m, from, to));
  const double steps[] = {1e-3, -1e-3};
  for (int param = 0; param < 4; ++param)
    for (double step : steps) {
      cv::Mat p = m.clone();
      if (param == 0) {
        p.at<double>(0, 0) += step;
        p.at<double>(1, 1) += step;
      } else if (param == 1) {
        p.at<double>(1, 0) += step;
        p.at<double>(0, 1) -= step;
      } else {
        p.at<double>(param - 2, 2) += step * 100;
      }
      EXPECT_GT(sum_sq_residual(p, from, to), best) << "param " << param << " step " << step;
    }
}

TEST(EstimateSimilarityTest, MoreThanFivePointsAndDegenerateInput) {
  std::vector<cv::Point2f> from, to;
  const Similarity t{1.7, -50, 3, 9};
  for (int i = 0; i < 12; ++i) {
    from.emplace_back(float(10 * i % 37), float(7 * i % 23));
    to.push_back(cv::Point2f(t.apply(cv::Point2d(from.back()))));
  }
  cv::Mat m = estimate_similarity(from, to);
  for (size_t i = 0; i < from.size(); ++i) {
    cv::Point2d p = apply(m, cv::Point2d(from[i]));
    EXPECT_NEAR(p.x, to[i].x, 1e-3);
    EXPECT_NEAR(p.y, to[i].y, 1e-3);
  }

  // All source points equal: there is no rotation or scale to find; the result must still be finite.
  std::vector<cv::Point2f> same(5, cv::Point2f(4, 4));
  cv::Mat d = estimate_similarity(same, to);
  ASSERT_EQ(d.size(), cv::Size(3, 2));
  EXPECT_TRUE(cv::checkRange(d));
}

TEST(FiveFrom68Test, UsesLidPointsNoseTipAndMouthCorners) {
  // y grows non-linearly with the index, so a wrong index set gives a different mean.
  std::array<cv::Point2f, 68> p;
  for (int i = 0; i < 68; ++i) p[size_t(i)] = cv::Point2f(float(i), 0.01f * float(i * i));
  auto y = [](std::initializer_list<int> idx) {
    float s = 0;
    for (int i : idx) s += 0.01f * float(i * i);
    return s / float(idx.size());
  };
  Points5 five = five_from_68(p);
  EXPECT_FLOAT_EQ(five[0].x, (37 + 38 + 40 + 41) / 4.0f);
  EXPECT_FLOAT_EQ(five[0].y, y({37, 38, 40, 41}));
  EXPECT_FLOAT_EQ(five[1].x, (43 + 44 + 46 + 47) / 4.0f);
  EXPECT_FLOAT_EQ(five[1].y, y({43, 44, 46, 47}));
  EXPECT_FLOAT_EQ(five[2].x, 30.0f);
  EXPECT_FLOAT_EQ(five[2].y, 0.01f * 900);
  EXPECT_FLOAT_EQ(five[3].x, (48 + 60) / 2.0f);
  EXPECT_FLOAT_EQ(five[3].y, y({48, 60}));
  EXPECT_FLOAT_EQ(five[4].x, (54 + 64) / 2.0f);
  EXPECT_FLOAT_EQ(five[4].y, y({54, 64}));
}

TEST(FiveFrom68Test, EyeCornersAreExcluded) {
  // Moving the eye corners (36, 39, 42, 45) or any point not listed must not move the five points.
  std::array<cv::Point2f, 68> p;
  for (int i = 0; i < 68; ++i) p[size_t(i)] = cv::Point2f(float(3 * i), float(100 - i));
  Points5 before = five_from_68(p);
  for (int i : {36, 39, 42, 45, 31, 33, 49, 53, 59, 61, 63, 65, 0, 67}) p[size_t(i)] += cv::Point2f(50, -50);
  Points5 after = five_from_68(p);
  for (size_t k = 0; k < 5; ++k) EXPECT_EQ(before[k], after[k]) << k;
}

TEST(TemplateTest, ArcfaceTemplateValues) {
  const Points5& t = arcface_112_template();
  EXPECT_FLOAT_EQ(t[0].x, 38.2946f);
  EXPECT_FLOAT_EQ(t[0].y, 51.6963f);
  EXPECT_FLOAT_EQ(t[1].x, 73.5318f);
  EXPECT_FLOAT_EQ(t[1].y, 51.5014f);
  EXPECT_FLOAT_EQ(t[2].x, 56.0252f);
  EXPECT_FLOAT_EQ(t[2].y, 71.7366f);
  EXPECT_FLOAT_EQ(t[3].x, 41.5493f);
  EXPECT_FLOAT_EQ(t[3].y, 92.3655f);
  EXPECT_FLOAT_EQ(t[4].x, 70.7299f);
  EXPECT_FLOAT_EQ(t[4].y, 92.2041f);
}

TEST(TemplateTest, ScaleTemplate) {
  const Points5& t = arcface_112_template();
  Points5 s = scale_template(t, 112, 224);
  Points5 h = scale_template(t, 112, 56);
  Points5 same = scale_template(t, 112, 112);
  for (size_t i = 0; i < 5; ++i) {
    EXPECT_FLOAT_EQ(s[i].x, t[i].x * 2);
    EXPECT_FLOAT_EQ(s[i].y, t[i].y * 2);
    EXPECT_FLOAT_EQ(h[i].x, t[i].x / 2);
    EXPECT_FLOAT_EQ(h[i].y, t[i].y / 2);
    EXPECT_FLOAT_EQ(same[i].x, t[i].x);
    EXPECT_FLOAT_EQ(same[i].y, t[i].y);
  }
  Points5 s128 = scale_template(t, 112, 128);
  EXPECT_NEAR(s128[2].x, 56.0252f * 128 / 112, 1e-4);
  EXPECT_NEAR(s128[4].y, 92.2041f * 128 / 112, 1e-4);
}

// Intensity-weighted centroid of the bright pixels in a window around `around`.
cv::Point2d blob_centre(const cv::Mat& grey, cv::Point2f around, int radius) {
  double sw = 0, sx = 0, sy = 0;
  for (int y = int(around.y) - radius; y <= int(around.y) + radius; ++y)
    for (int x = int(around.x) - radius; x <= int(around.x) + radius; ++x) {
      if (x < 0 || y < 0 || x >= grey.cols || y >= grey.rows) continue;
      double w = grey.at<uint8_t>(y, x);
      sw += w;
      sx += w * x;
      sy += w * y;
    }
  return sw > 0 ? cv::Point2d(sx / sw, sy / sw) : cv::Point2d(-1, -1);
}

// A dark photo with a bright dot at each of the five points (drawn with sub-pixel precision).
cv::Mat photo_with_dots(cv::Size size, const Points5& points, int dot_radius) {
  cv::Mat img(size, CV_8UC3, cv::Scalar(0, 0, 0));
  constexpr int kShift = 4;
  for (const auto& p : points)
    cv::circle(img, cv::Point(cvRound(p.x * (1 << kShift)), cvRound(p.y * (1 << kShift))),
               dot_radius * (1 << kShift), cv::Scalar(255, 255, 255), -1, cv::LINE_AA, kShift);
  return img;
}

TEST(AlignFaceTest, DotsLandOnTheTemplate) {
  // A face rotated by ~25 degrees, about 2.2x the template's scale, in a 480x360 photo.
  const Similarity pose{2.2, 25, 180, 20};
  const Points5& tmpl = arcface_112_template();
  Points5 points;
  for (size_t i = 0; i < 5; ++i) points[i] = cv::Point2f(pose.apply(cv::Point2d(tmpl[i])));
  cv::Mat photo = photo_with_dots({480, 360}, points, 6);

  for (int size : {112, 224}) {
    Points5 target = scale_template(tmpl, 112, float(size));
    cv::Mat matrix;
    cv::Mat crop = align_face(photo, points, target, size, &matrix);
    ASSERT_EQ(crop.size(), cv::Size(size, size));
    ASSERT_EQ(crop.type(), photo.type());
    ASSERT_EQ(matrix.size(), cv::Size(3, 2));

    cv::Mat grey;
    cv::cvtColor(crop, grey, cv::COLOR_BGR2GRAY);
    for (size_t i = 0; i < 5; ++i) {
      // The matrix maps the photo's point onto the template...
      cv::Point2d mapped = apply(matrix, cv::Point2d(points[i]));
      EXPECT_NEAR(mapped.x, target[i].x, 1e-3) << size << " point " << i;
      EXPECT_NEAR(mapped.y, target[i].y, 1e-3) << size << " point " << i;
      // ...and the pixels went there too: the dot is drawn around the template point, not elsewhere.
      EXPECT_GT(grey.at<uint8_t>(cvRound(target[i].y), cvRound(target[i].x)), 200) << size << " point " << i;
      cv::Point2d c = blob_centre(grey, target[i], size / 14);
      EXPECT_NEAR(c.x, target[i].x, 0.35) << size << " point " << i;
      EXPECT_NEAR(c.y, target[i].y, 0.35) << size << " point " << i;
    }
    // Outside the dots the crop stays dark (nothing else from the photo was pulled in).
    EXPECT_LT(grey.at<uint8_t>(size / 10, size / 10), 10);
  }
}

TEST(AlignFaceTest, MatrixIsOptionalAndCropMatchesWarp) {
  const Points5& tmpl = arcface_112_template();
  const Similarity pose{1.5, -10, 60, 90};
  Points5 points;
  for (size_t i = 0; i < 5; ++i) points[i] = cv::Point2f(pose.apply(cv::Point2d(tmpl[i])));
  cv::Mat photo(300, 300, CV_8UC3);
  cv::randu(photo, cv::Scalar::all(0), cv::Scalar::all(255));
  cv::Mat with_matrix, m;
  with_matrix = align_face(photo, points, tmpl, 112, &m);
  cv::Mat without = align_face(photo, points, tmpl, 112);
  EXPECT_EQ(cv::norm(with_matrix, without, cv::NORM_INF), 0.0);
  cv::Mat expected;
  cv::warpAffine(photo, expected, m, cv::Size(112, 112), cv::INTER_LINEAR, cv::BORDER_CONSTANT,
                 cv::Scalar::all(0));
  EXPECT_EQ(cv::norm(expected, without, cv::NORM_INF), 0.0);
}

}  // namespace
}  // namespace faceweave::face
