#include "swap/blend.h"

#include <algorithm>
#include <cmath>

#include <opencv2/imgproc.hpp>

namespace faceweave::swap {

Result<BlendMode> parse_blend_mode(const std::string& s) {
  if (s == "seamless") return BlendMode::kSeamless;
  if (s == "affine") return BlendMode::kAffine;
  if (s == "laplacian") return BlendMode::kLaplacian;
  return invalid_argument("unknown blend mode '" + s + "'; use auto, seamless, affine or laplacian");
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

// Long side at which the Poisson equation is solved: its correction is a smooth membrane, so solving it at
// 96 px and upsampling loses nothing visible (OpenCV's seamlessClone took 22 ms at 256 px, one thread).
constexpr int kPoissonSide = 96;

// out = out * (1 - mask) + face * mask, in float, rounded back to 8-bit; exact where mask is 0 or 1.
void composite_impl(const cv::Mat& face, cv::Mat& out, const cv::Mat& mask) {
  for (int y = 0; y < out.rows; ++y) {
    const float* m = mask.ptr<float>(y);
    const cv::Vec3b* f = face.ptr<cv::Vec3b>(y);
    cv::Vec3b* o = out.ptr<cv::Vec3b>(y);
    for (int x = 0; x < out.cols; ++x) {
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
}

// The harmonic membrane: inside `domain` it solves Laplace's equation with the values of `boundary` on the
// domain's edge (Dirichlet), by red-black successive over-relaxation started from a smooth guess. Outside the
// domain it returns `boundary` unchanged. With a zero boundary the result is exactly zero.
cv::Mat harmonic_membrane(const cv::Mat& boundary, const cv::Mat& domain, const cv::Mat& guess) {
  cv::Mat c = boundary.clone();
  guess.copyTo(c, domain);
  const double omega = 1.9;
  for (int iter = 0; iter < 400; ++iter) {
    float max_change = 0;
    for (int colour = 0; colour < 2; ++colour) {
      for (int y = 1; y < c.rows - 1; ++y) {
        const uchar* d = domain.ptr<uchar>(y);
        cv::Vec3f* row = c.ptr<cv::Vec3f>(y);
        const cv::Vec3f* up = c.ptr<cv::Vec3f>(y - 1);
        const cv::Vec3f* down = c.ptr<cv::Vec3f>(y + 1);
        for (int x = 1 + ((y + colour) & 1); x < c.cols - 1; x += 2) {
          if (!d[x]) continue;
          const cv::Vec3f avg = (row[x - 1] + row[x + 1] + up[x] + down[x]) * 0.25f;
          const cv::Vec3f delta = (avg - row[x]) * float(omega);
          row[x] += delta;
          max_change = std::max({max_change, std::abs(delta[0]), std::abs(delta[1]), std::abs(delta[2])});
        }
      }
    }
    if (max_change < 0.05f) break;  // a twentieth of a grey level
  }
  return c;
}

// Normalised convolution: spreads the values of `values` where `weight` is set into the rest of the image,
// smoothly. Computed at a quarter size, as the result is smooth anyway.
cv::Mat spread(const cv::Mat& values, const cv::Mat& weight8, double sigma_share) {
  cv::Mat w;
  weight8.convertTo(w, CV_32F, 1.0 / 255.0);
  cv::Mat w3;
  cv::merge(std::vector<cv::Mat>{w, w, w}, w3);
  const cv::Size quarter(std::max(1, values.cols / 4), std::max(1, values.rows / 4));
  cv::Mat num, den;
  cv::resize(values.mul(w3), num, quarter, 0, 0, cv::INTER_AREA);
  cv::resize(w3, den, quarter, 0, 0, cv::INTER_AREA);
  const double sigma = std::max(1.0, sigma_share * std::max(quarter.width, quarter.height));
  cv::GaussianBlur(num, num, cv::Size(0, 0), sigma);
  cv::GaussianBlur(den, den, cv::Size(0, 0), sigma);
  cv::Mat out = num / cv::max(den, 1e-4);
  cv::resize(out, out, values.size(), 0, 0, cv::INTER_LINEAR);
  return out;
}

cv::Mat seamless(const cv::Mat& face, const cv::Mat& target, const cv::Mat& mask) {
  // The Poisson domain sits inside the feather, on skin rather than on hair or background edges.
  cv::Mat core = mask > 0.2f;
  if (cv::countNonZero(core) < 16) return face;
  const double scale = std::min(1.0, double(kPoissonSide) / std::max(target.cols, target.rows));
  cv::Mat f, t, b;
  face.convertTo(f, CV_32FC3);
  target.convertTo(t, CV_32FC3);
  b = core;
  if (scale < 1.0) {
    // Both images with the same target size, so identical inputs stay identical after resizing.
    const cv::Size small(std::max(1, cvRound(face.cols * scale)), std::max(1, cvRound(face.rows * scale)));
    cv::resize(f, f, small, 0, 0, cv::INTER_AREA);
    cv::resize(t, t, small, 0, 0, cv::INTER_AREA);
    cv::resize(core, b, small, 0, 0, cv::INTER_NEAREST);
  }
  b.row(0) = 0, b.row(b.rows - 1) = 0, b.col(0) = 0, b.col(b.cols - 1) = 0;
  {
    // Holes in the mask (the target's own mouth kept, a beard or a glasses frame the skin gate left to the
    // target) are not the face's edge: as inner Dirichlet edges they would spread the difference between,
    // say, the target's dark lips and the source's skin around them as a grey halo. The domain is the
    // mask's outline filled; the holes still show the target, by the composite's weight.
    // (The outlines lie inside the border cleared above, so the fill stays inside it too.)
    std::vector<std::vector<cv::Point>> outer;
    cv::findContours(b, outer, cv::RETR_EXTERNAL, cv::CHAIN_APPROX_SIMPLE);
    cv::drawContours(b, outer, -1, cv::Scalar(255), cv::FILLED);
  }
  // Poisson cloning with the face's own gradients as guidance is the face plus the harmonic membrane that
  // matches the target on the domain's edge.
  cv::Mat difference = t - f;
  cv::Mat outside = b == 0;
  cv::Mat membrane = harmonic_membrane(difference, b, spread(difference, outside, 0.1));
  // Beyond the domain the correction keeps the value it reached at the domain's edge (normalised
  // convolution), so the feather zone is corrected the same way as the face next to it.
  cv::Mat extended = spread(membrane, b, 0.03);
  extended.copyTo(membrane, outside);
  if (scale < 1.0) cv::resize(membrane, membrane, face.size(), 0, 0, cv::INTER_LINEAR);
  cv::Mat face_f, corrected;
  face.convertTo(face_f, CV_32FC3);
  cv::Mat(face_f + membrane).convertTo(corrected, CV_8UC3);
  return corrected;
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
  // The coarse bands spread past the mask; compositing the result with the mask itself keeps the target
  // exactly wherever the mask is 0 and stays continuous across the feather.
  return out;
}

}  // namespace

cv::Mat composite(const cv::Mat& layer, const cv::Mat& target, const cv::Mat& weight) {
  cv::Mat out = target.clone();
  composite_impl(layer, out, weight);
  return out;
}

void composite_in_place(const cv::Mat& layer, cv::Mat& target, const cv::Mat& weight) {
  composite_impl(layer, target, weight);
}

cv::Mat blend_layer(const cv::Mat& face, const cv::Mat& target, const cv::Mat& mask, BlendMode mode) {
  switch (mode) {
    case BlendMode::kSeamless:
      return seamless(face, target, mask);
    case BlendMode::kAffine:
      return face;
    case BlendMode::kLaplacian:
      return laplacian(face, target, mask);
  }
  return face;
}

cv::Mat blend(const cv::Mat& face, const cv::Mat& target, const cv::Mat& mask, BlendMode mode) {
  return composite(blend_layer(face, target, mask, mode), target, mask);
}

}  // namespace faceweave::swap
