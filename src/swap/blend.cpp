#include "swap/blend.h"

#include <algorithm>
#include <cmath>

#include <opencv2/imgproc.hpp>
#include <opencv2/photo.hpp>

namespace faceweave::swap {

Result<BlendMode> parse_blend_mode(const std::string& s) {
  if (s == "seamless") return BlendMode::kSeamless;
  if (s == "affine") return BlendMode::kAffine;
  if (s == "laplacian") return BlendMode::kLaplacian;
  return invalid_argument("unknown blend mode '" + s + "'; use seamless, affine or laplacian");
}

const char* blend_mode_name(BlendMode b) {
  switch (b) {
    case BlendMode::kSeamless:
      return "seamless";
    case BlendMode::kAffine:
      return "affine";
    case BlendMode::kLaplacian:
      return "laplacian";
  }
  return "seamless";
}

namespace {

// out = target * (1 - mask) + face * mask, in float, rounded back to 8-bit; exact where mask is 0 or 1.
cv::Mat composite(const cv::Mat& face, const cv::Mat& target, const cv::Mat& mask) {
  cv::Mat out = target.clone();
  for (int y = 0; y < target.rows; ++y) {
    const float* m = mask.ptr<float>(y);
    const cv::Vec3b* f = face.ptr<cv::Vec3b>(y);
    cv::Vec3b* o = out.ptr<cv::Vec3b>(y);
    for (int x = 0; x < target.cols; ++x) {
      const float a = m[x];
      if (a <= 0) continue;
      if (a >= 1) {
        o[x] = f[x];
        continue;
      }
      for (int c = 0; c < 3; ++c)
        o[x][c] = cv::saturate_cast<uchar>(o[x][c] + (float(f[x][c]) - o[x][c]) * a);
    }
  }
  return out;
}

cv::Mat seamless(const cv::Mat& face, const cv::Mat& target, const cv::Mat& mask) {
  // The Poisson boundary sits inside the feather, on skin rather than on hair or background edges.
  cv::Mat binary = mask > 0.2f;
  // seamlessClone needs the mask clear of the image border.
  binary.row(0) = 0, binary.row(binary.rows - 1) = 0, binary.col(0) = 0, binary.col(binary.cols - 1) = 0;
  if (cv::countNonZero(binary) < 16) return target.clone();
  const double scale = std::min(1.0, 256.0 / std::max(target.cols, target.rows));
  cv::Mat f = face, t = target, b = binary;
  if (scale < 1.0) {
    cv::resize(face, f, cv::Size(), scale, scale, cv::INTER_AREA);
    cv::resize(target, t, f.size(), 0, 0, cv::INTER_AREA);
    cv::resize(binary, b, f.size(), 0, 0, cv::INTER_NEAREST);
    b.row(0) = 0, b.row(b.rows - 1) = 0, b.col(0) = 0, b.col(b.cols - 1) = 0;
    if (cv::countNonZero(b) < 16) return composite(face, target, mask);
  }
  const cv::Rect bounds = cv::boundingRect(b);
  const cv::Point centre(bounds.x + bounds.width / 2, bounds.y + bounds.height / 2);
  cv::Mat cloned;
  cv::seamlessClone(f, t, b, centre, cloned, cv::NORMAL_CLONE);
  // The Poisson correction (cloned - face) is a smooth membrane. Outside the cloned core it is extended by
  // normalised convolution, so the feather zone gets the same colour correction; then it is upsampled and
  // added to the full-resolution face.
  cv::Mat correction;
  cv::subtract(cloned, f, correction, cv::noArray(), CV_32FC3);
  cv::Mat weight;
  b.convertTo(weight, CV_32F, 1.0 / 255.0);
  const double sigma = std::max(2.0, 0.08 * std::max(b.cols, b.rows));
  cv::Mat weighted_sum, weight_sum;
  cv::Mat w3;
  cv::merge(std::vector<cv::Mat>{weight, weight, weight}, w3);
  cv::GaussianBlur(correction.mul(w3), weighted_sum, cv::Size(0, 0), sigma);
  cv::GaussianBlur(w3, weight_sum, cv::Size(0, 0), sigma);
  cv::Mat extended = weighted_sum / cv::max(weight_sum, 1e-4);
  extended.copyTo(correction, b == 0);
  if (scale < 1.0) cv::resize(correction, correction, face.size(), 0, 0, cv::INTER_LINEAR);
  cv::Mat face_f, corrected;
  face.convertTo(face_f, CV_32FC3);
  cv::Mat(face_f + correction).convertTo(corrected, CV_8UC3);
  return composite(corrected, target, mask);
}

cv::Mat laplacian(const cv::Mat& face, const cv::Mat& target, const cv::Mat& mask) {
  const int levels = std::clamp(int(std::log2(std::min(target.cols, target.rows) / 8.0)), 1, 6);
  cv::Mat fa, ta, ma;
  face.convertTo(fa, CV_32FC3);
  target.convertTo(ta, CV_32FC3);
  cv::Mat m3;
  cv::merge(std::vector<cv::Mat>{mask, mask, mask}, m3);
  std::vector<cv::Mat> gf{fa}, gt{ta}, gm{m3};
  for (int i = 0; i < levels; ++i) {
    cv::Mat a, b, c;
    cv::pyrDown(gf.back(), a);
    cv::pyrDown(gt.back(), b);
    cv::pyrDown(gm.back(), c);
    gf.push_back(a), gt.push_back(b), gm.push_back(c);
  }
  cv::Mat blended = gf[size_t(levels)].mul(gm[size_t(levels)]) +
                    gt[size_t(levels)].mul(cv::Scalar::all(1) - gm[size_t(levels)]);
  for (int i = levels - 1; i >= 0; --i) {
    cv::Mat up_f, up_t;
    cv::pyrUp(gf[size_t(i) + 1], up_f, gf[size_t(i)].size());
    cv::pyrUp(gt[size_t(i) + 1], up_t, gt[size_t(i)].size());
    cv::Mat lf = gf[size_t(i)] - up_f, lt = gt[size_t(i)] - up_t;
    cv::Mat band = lf.mul(gm[size_t(i)]) + lt.mul(cv::Scalar::all(1) - gm[size_t(i)]);
    cv::Mat up;
    cv::pyrUp(blended, up, gf[size_t(i)].size());
    blended = up + band;
  }
  cv::Mat out;
  blended.convertTo(out, CV_8UC3);
  // The coarse bands spread past the mask; fading the result in with the mask itself keeps the target
  // exactly wherever the mask is 0 and stays continuous across the feather.
  return composite(out, target, mask);
}

}  // namespace

cv::Mat blend(const cv::Mat& face, const cv::Mat& target, const cv::Mat& mask, BlendMode mode) {
  switch (mode) {
    case BlendMode::kSeamless:
      return seamless(face, target, mask);
    case BlendMode::kAffine:
      return composite(face, target, mask);
    case BlendMode::kLaplacian:
      return laplacian(face, target, mask);
  }
  return composite(face, target, mask);
}

}  // namespace faceweave::swap
