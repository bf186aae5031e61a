#include "swap/color_transfer.h"

#include <algorithm>
#include <array>

#include <opencv2/imgproc.hpp>

#include "core/shrink.h"

namespace faceweave::swap {

Result<ColorMatch> parse_color_match(const std::string& s) {
  if (s == "none") return ColorMatch::kNone;
  if (s == "reinhard") return ColorMatch::kReinhard;
  if (s == "histogram") return ColorMatch::kHistogram;
  return invalid_argument("unknown colour match '" + s + "'; use none, reinhard or histogram");
}

const char* color_match_name(ColorMatch c) {
  switch (c) {
    case ColorMatch::kNone:
      return "none";
    case ColorMatch::kReinhard:
      return "reinhard";
    case ColorMatch::kHistogram:
      return "histogram";
  }
  return "none";
}

namespace {

// Statistics are taken on a copy at most this wide: a colour distribution needs no more pixels.
constexpr int kStatsSide = 160;

void downscale_for_stats(const cv::Mat& lab, const cv::Mat& mask, cv::Mat& lab_small, cv::Mat& mask_small) {
  const double scale = std::min(1.0, double(kStatsSide) / std::max(lab.cols, lab.rows));
  if (scale >= 1.0) {
    lab_small = lab, mask_small = mask;
    return;
  }
  const cv::Size size(std::max(1, cvRound(lab.cols * scale)), std::max(1, cvRound(lab.rows * scale)));
  core::shrink(lab, lab_small, size);
  cv::resize(mask, mask_small, size, 0, 0, cv::INTER_NEAREST);
}

// Both modes end in a per-channel 256-entry table over 8-bit L*a*b*, applied in one pass.
cv::Mat reinhard_lut(const cv::Mat& src_lab, const cv::Mat& src_mask, const cv::Mat& dst_lab,
                     const cv::Mat& dst_mask) {
  cv::Scalar ms, ss, md, sd;
  cv::meanStdDev(src_lab, ms, ss, src_mask);
  cv::meanStdDev(dst_lab, md, sd, dst_mask);
  cv::Mat lut(1, 256, CV_8UC3);
  for (int c = 0; c < 3; ++c) {
    // A low-contrast (small, blurred) source must not have its contrast blown up to a harsh one.
    const double gain = ss[c] > 1e-3 ? std::clamp(sd[c] / ss[c], 0.6, 1.6) : 1.0;
    for (int v = 0; v < 256; ++v)
      lut.at<cv::Vec3b>(v)[c] = cv::saturate_cast<uchar>((v - ms[c]) * gain + md[c]);
  }
  return lut;
}

cv::Mat histogram_lut(const cv::Mat& src_lab, const cv::Mat& src_mask, const cv::Mat& dst_lab,
                      const cv::Mat& dst_mask) {
  cv::Mat lut(1, 256, CV_8UC3);
  for (int c = 0; c < 3; ++c) {
    std::array<double, 256> hs{}, hd{};
    auto count = [c](const cv::Mat& lab, const cv::Mat& mask, std::array<double, 256>& h) {
      for (int y = 0; y < mask.rows; ++y) {
        const uchar* m = mask.ptr<uchar>(y);
        const cv::Vec3b* p = lab.ptr<cv::Vec3b>(y);
        for (int x = 0; x < mask.cols; ++x)
          if (m[x]) ++h[p[x][c]];
      }
    };
    count(src_lab, src_mask, hs);
    count(dst_lab, dst_mask, hd);
    double ts = 0, td = 0;
    for (size_t i = 0; i < 256; ++i) ts += hs[i], td += hd[i];
    std::array<double, 256> cs{}, cd{};
    double as = 0, ad = 0;
    for (size_t i = 0; i < 256; ++i)
      cs[i] = (as += hs[i]) / std::max(ts, 1.0), cd[i] = (ad += hd[i]) / std::max(td, 1.0);
    size_t j = 0;
    for (size_t i = 0; i < 256; ++i) {
      while (j < 255 && cd[j] < cs[i]) ++j;
      lut.at<cv::Vec3b>(int(i))[c] = uchar(ts > 0 && td > 0 ? j : i);
    }
  }
  return lut;
}

}  // namespace

cv::Mat match_color(const cv::Mat& source, const cv::Mat& target, const cv::Mat& mask, ColorMatch mode,
                    const cv::Mat& own_chroma) {
  if (mode == ColorMatch::kNone || cv::countNonZero(mask) < 16) return source.clone();
  cv::Mat sl, dl;
  cv::cvtColor(source, sl, cv::COLOR_BGR2Lab);
  cv::Mat target_small, mask_small, sl_small, dl_small;
  downscale_for_stats(sl, mask, sl_small, mask_small);
  const double scale = double(sl_small.cols) / sl.cols;
  if (scale < 1.0) {
    core::shrink(target, target_small, sl_small.size());
  } else {
    target_small = target;
  }
  cv::cvtColor(target_small, dl_small, cv::COLOR_BGR2Lab);
  cv::Mat lut = mode == ColorMatch::kReinhard ? reinhard_lut(sl_small, mask_small, dl_small, mask_small)
                                              : histogram_lut(sl_small, mask_small, dl_small, mask_small);
  const bool keep_chroma =
      !own_chroma.empty() && own_chroma.size() == sl.size() && own_chroma.type() == CV_32F;
  const cv::Mat original = keep_chroma ? sl.clone() : cv::Mat();
  // The own zones (the eyes) change their light as an exposure does, by a factor (the skins' mean lightness
  // ratio), not by the skin's shift: shifted, a black pupil of a dark-skinned source on a light target came
  // out mid-grey and the iris grey-blue. Never lighter than the skin's own mapping would make them, so the
  // whites do not burn out. (Measured before the table is applied: sl_small may share sl's pixels.)
  const double ms = keep_chroma ? cv::mean(sl_small, mask_small)[0] : 0.0;
  const double md = keep_chroma ? cv::mean(dl_small, mask_small)[0] : 0.0;
  const float exposure = ms > 1 ? float(std::clamp(md / ms, 0.5, 2.0)) : 1.0f;
  cv::LUT(sl, lut, sl);
  if (keep_chroma) {
    for (int y = 0; y < sl.rows; ++y) {
      const float* w = own_chroma.ptr<float>(y);
      const cv::Vec3b* o = original.ptr<cv::Vec3b>(y);
      cv::Vec3b* m = sl.ptr<cv::Vec3b>(y);
      for (int x = 0; x < sl.cols; ++x) {
        if (w[x] <= 0) continue;
        const float k = std::min(1.0f, w[x]);
        const float light = std::min(float(m[x][0]), float(o[x][0]) * exposure);
        // The source's chromaticity, not its a* b* as numbers: a* b* scale about as L* + 16 does when the
        // light on a surface changes.
        const float r = (light * (100.0f / 255.0f) + 16.0f) / (float(o[x][0]) * (100.0f / 255.0f) + 16.0f);
        m[x][0] = cv::saturate_cast<uchar>(m[x][0] + k * (light - m[x][0]));
        for (int c = 1; c < 3; ++c) {
          const float own = 128.0f + (float(o[x][c]) - 128.0f) * r;
          m[x][c] = cv::saturate_cast<uchar>(m[x][c] + k * (own - m[x][c]));
        }
      }
    }
  }
  cv::Mat out;
  cv::cvtColor(sl, out, cv::COLOR_Lab2BGR);
  return out;
}

}  // namespace faceweave::swap
