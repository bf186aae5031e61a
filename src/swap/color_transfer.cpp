#include "swap/color_transfer.h"

#include <algorithm>
#include <array>

#include <opencv2/imgproc.hpp>

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

cv::Mat reinhard(const cv::Mat& src_lab, const cv::Mat& dst_lab, const cv::Mat& mask) {
  cv::Scalar ms, ss, md, sd;
  cv::meanStdDev(src_lab, ms, ss, mask);
  cv::meanStdDev(dst_lab, md, sd, mask);
  cv::Mat f;
  src_lab.convertTo(f, CV_32FC3);
  std::vector<cv::Mat> ch;
  cv::split(f, ch);
  for (int c = 0; c < 3; ++c) {
    const double gain = ss[c] > 1e-3 ? std::clamp(sd[c] / ss[c], 0.2, 5.0) : 1.0;
    ch[size_t(c)] = (ch[size_t(c)] - ms[c]) * gain + md[c];
  }
  cv::merge(ch, f);
  cv::Mat out;
  f.convertTo(out, CV_8UC3);
  return out;
}

cv::Mat histogram(const cv::Mat& src_lab, const cv::Mat& dst_lab, const cv::Mat& mask) {
  std::vector<cv::Mat> s, d;
  cv::split(src_lab, s);
  cv::split(dst_lab, d);
  for (int c = 0; c < 3; ++c) {
    std::array<double, 256> hs{}, hd{};
    for (int y = 0; y < mask.rows; ++y) {
      const uchar* m = mask.ptr<uchar>(y);
      const uchar* ps = s[size_t(c)].ptr<uchar>(y);
      const uchar* pd = d[size_t(c)].ptr<uchar>(y);
      for (int x = 0; x < mask.cols; ++x)
        if (m[x]) ++hs[ps[x]], ++hd[pd[x]];
    }
    double ts = 0, td = 0;
    for (int i = 0; i < 256; ++i) ts += hs[size_t(i)], td += hd[size_t(i)];
    if (ts == 0 || td == 0) continue;
    std::array<double, 256> cs{}, cd{};
    double as = 0, ad = 0;
    for (size_t i = 0; i < 256; ++i) cs[i] = (as += hs[i]) / ts, cd[i] = (ad += hd[i]) / td;
    cv::Mat lut(1, 256, CV_8U);
    size_t j = 0;
    for (size_t i = 0; i < 256; ++i) {
      while (j < 255 && cd[j] < cs[i]) ++j;
      lut.at<uchar>(int(i)) = uchar(j);
    }
    cv::LUT(s[size_t(c)], lut, s[size_t(c)]);
  }
  cv::Mat out;
  cv::merge(s, out);
  return out;
}

}  // namespace

cv::Mat match_color(const cv::Mat& source, const cv::Mat& target, const cv::Mat& mask, ColorMatch mode) {
  if (mode == ColorMatch::kNone || cv::countNonZero(mask) < 16) return source.clone();
  cv::Mat sl, dl;
  cv::cvtColor(source, sl, cv::COLOR_BGR2Lab);
  cv::cvtColor(target, dl, cv::COLOR_BGR2Lab);
  cv::Mat lab = mode == ColorMatch::kReinhard ? reinhard(sl, dl, mask) : histogram(sl, dl, mask);
  cv::Mat out;
  cv::cvtColor(lab, out, cv::COLOR_Lab2BGR);
  return out;
}

}  // namespace faceweave::swap
