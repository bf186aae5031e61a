#include "face/alignment.h"

#include <opencv2/imgproc.hpp>

namespace faceweave::face {

const Points5& arcface_112_template() {
  static const Points5 kTemplate = {cv::Point2f(38.2946f, 51.6963f), cv::Point2f(73.5318f, 51.5014f),
                                    cv::Point2f(56.0252f, 71.7366f), cv::Point2f(41.5493f, 92.3655f),
                                    cv::Point2f(70.7299f, 92.2041f)};
  return kTemplate;
}

namespace {
Points5 normalised(const float (&xy)[5][2], float size) {
  Points5 out;
  for (size_t i = 0; i < 5; ++i) out[i] = cv::Point2f(xy[i][0] * size, xy[i][1] * size);
  return out;
}
}  // namespace

Points5 arcface_128_template(float size) {
  static const float kXy[5][2] = {{0.36167656f, 0.40387734f},
                                  {0.63696719f, 0.40235469f},
                                  {0.50019687f, 0.56044219f},
                                  {0.38710391f, 0.72160547f},
                                  {0.61507734f, 0.72034453f}};
  return normalised(kXy, size);
}

Points5 ffhq_512_template(float size) {
  static const float kXy[5][2] = {{0.37691676f, 0.46864664f},
                                  {0.62285697f, 0.46912813f},
                                  {0.50123859f, 0.61331904f},
                                  {0.39308822f, 0.72541100f},
                                  {0.61150205f, 0.72490465f}};
  return normalised(kXy, size);
}

bool template_by_name(const std::string& name, float size, Points5* out) {
  if (name == "arcface_112") {
    *out = scale_template(arcface_112_template(), 112, size);
  } else if (name == "arcface_128") {
    *out = arcface_128_template(size);
  } else if (name == "ffhq_512") {
    *out = ffhq_512_template(size);
  } else {
    return false;
  }
  return true;
}

Points5 scale_template(const Points5& tmpl, float from_size, float to_size) {
  Points5 out;
  float s = to_size / from_size;
  for (size_t i = 0; i < tmpl.size(); ++i) out[i] = tmpl[i] * s;
  return out;
}

Points5 five_from_68(std::span<const cv::Point2f, 68> p) {
  auto mean = [&](std::initializer_list<int> idx) {
    cv::Point2f sum(0, 0);
    for (int i : idx) sum += p[size_t(i)];
    return sum * (1.0f / float(idx.size()));
  };
  return {mean({37, 38, 40, 41}), mean({43, 44, 46, 47}), p[30], mean({48, 60}), mean({54, 64})};
}

cv::Mat estimate_similarity(std::span<const cv::Point2f> from, std::span<const cv::Point2f> to) {
  // Umeyama (1991): for 2-D points the optimal rotation+scale has a closed form via the cross-covariance.
  const size_t n = std::min(from.size(), to.size());
  cv::Point2d mf(0, 0), mt(0, 0);
  for (size_t i = 0; i < n; ++i) {
    mf += cv::Point2d(from[i]);
    mt += cv::Point2d(to[i]);
  }
  mf *= 1.0 / double(n);
  mt *= 1.0 / double(n);
  double sxx = 0, sxy = 0, var = 0;  // a = sum(f.t), b = sum(f x t)
  for (size_t i = 0; i < n; ++i) {
    cv::Point2d f = cv::Point2d(from[i]) - mf;
    cv::Point2d t = cv::Point2d(to[i]) - mt;
    sxx += f.x * t.x + f.y * t.y;
    sxy += f.x * t.y - f.y * t.x;
    var += f.x * f.x + f.y * f.y;
  }
  cv::Mat m = cv::Mat::zeros(2, 3, CV_64F);
  if (var <= 1e-12) {  // all source points coincide: no rotation or scale can be told, only the shift
    m.at<double>(0, 0) = m.at<double>(1, 1) = 1;
    m.at<double>(0, 2) = mt.x - mf.x;
    m.at<double>(1, 2) = mt.y - mf.y;
    return m;
  }
  const double a = sxx / var;  // s*cos
  const double b = sxy / var;  // s*sin
  m.at<double>(0, 0) = a;
  m.at<double>(0, 1) = -b;
  m.at<double>(1, 0) = b;
  m.at<double>(1, 1) = a;
  m.at<double>(0, 2) = mt.x - (a * mf.x - b * mf.y);
  m.at<double>(1, 2) = mt.y - (b * mf.x + a * mf.y);
  return m;
}

cv::Mat align_face(const cv::Mat& image, const Points5& points, const Points5& tmpl, int size,
                   cv::Mat* matrix) {
  cv::Mat m = estimate_similarity(points, tmpl);
  cv::Mat crop;
  cv::warpAffine(image, crop, m, cv::Size(size, size), cv::INTER_LINEAR, cv::BORDER_CONSTANT,
                 cv::Scalar::all(0));
  if (matrix) *matrix = m;
  return crop;
}

}  // namespace faceweave::face
