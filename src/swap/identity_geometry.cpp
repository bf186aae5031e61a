#include "swap/identity_geometry.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "face/alignment.h"

namespace faceweave::swap {
namespace {

// Points that an expression hardly moves: the eye corners and the nose bridge and base.
constexpr int kStable[] = {36, 39, 42, 45, 27, 28, 29, 30, 31, 33, 35};

cv::Point2f centroid(std::span<const cv::Point2f, 68> p, int from, int to) {
  cv::Point2f c(0, 0);
  for (int i = from; i < to; ++i) c += p[size_t(i)];
  return c * (1.0f / float(to - from));
}

struct Frame {
  cv::Point2f u, v;  // unit axes: along the eye line, and down the face
  float along(cv::Point2f d) const { return d.dot(u); }
  float down(cv::Point2f d) const { return d.dot(v); }
  cv::Point2f at(float a, float b) const { return u * a + v * b; }
};

// A part of the face moved to the source's place and width, keeping the target's shape across it (so lid
// openings, brow arches and lip curves stay the target's). `anchor` is where the part is measured from.
void place_part(std::array<cv::Point2f, 68>& out, std::span<const cv::Point2f, 68> t, const Frame& f,
                int from, int to, cv::Point2f anchor_t, cv::Point2f anchor_s, float width_t, float width_s,
                float amount) {
  const cv::Point2f anchor = anchor_t + (anchor_s - anchor_t) * amount;
  const float w = width_t > 1e-3f ? (width_t + (width_s - width_t) * amount) / width_t : 1.0f;
  const float wy = std::sqrt(w);  // height follows the width's change only half (it is the expression's)
  for (int i = from; i < to; ++i) {
    const cv::Point2f d = t[size_t(i)] - anchor_t;
    out[size_t(i)] = anchor + f.at(f.along(d) * w, f.down(d) * wy);
  }
}

}  // namespace

float mouth_openness(std::span<const cv::Point2f, 68> p) {
  const float width = float(cv::norm(p[54] - p[48]));
  // Inner lips: 61-63 upper (left to right), 65-67 lower (right to left), so 61 faces 67 and 63 faces 65.
  const float gap = float(cv::norm(p[66] - p[62]) + cv::norm(p[67] - p[61]) + cv::norm(p[65] - p[63])) / 3;
  return width > 1e-3f ? gap / width : 0.0f;
}

float mouth_width_ratio(std::span<const cv::Point2f, 68> p) {
  const float eyes = float(cv::norm(p[45] - p[36]));
  return eyes > 1e-3f ? float(cv::norm(p[54] - p[48])) / eyes : 0.0f;
}

std::array<cv::Point2f, 68> identity_geometry(std::span<const cv::Point2f, 68> t,
                                              std::span<const cv::Point2f, 68> source,
                                              const GeometryTransfer& amount) {
  std::array<cv::Point2f, 68> out;
  std::copy(t.begin(), t.end(), out.begin());
  std::vector<cv::Point2f> from, to;
  for (int i : kStable) from.push_back(source[size_t(i)]), to.push_back(t[size_t(i)]);
  const cv::Mat m = face::estimate_similarity(from, to);
  if (m.empty()) return out;
  std::array<cv::Point2f, 68> s;
  std::vector<cv::Point2f> src(source.begin(), source.end()), aligned;
  cv::transform(src, aligned, m);
  std::copy(aligned.begin(), aligned.end(), s.begin());
  // A source whose aligned shape is far from the target's (a profile, a bad fit) moves nothing: the
  // features would be pulled off the target's face.
  const float eye_span = float(cv::norm(t[45] - t[36]));
  if (eye_span < 1e-3f) return out;
  double worst = 0;
  for (int i : kStable) worst = std::max(worst, cv::norm(s[size_t(i)] - t[size_t(i)]));
  if (worst > 0.35 * eye_span) return out;

  Frame f;
  f.u = (t[45] - t[36]) * (1.0f / eye_span);
  f.v = cv::Point2f(-f.u.y, f.u.x);
  if (f.v.dot(t[8] - t[27]) < 0) f.v = -f.v;

  // Eyes: placed by their corners (which blinking does not move), lids keep the target's opening.
  for (auto [a, b, from_i, to_i] : {std::array<int, 4>{36, 39, 36, 42}, {42, 45, 42, 48}}) {
    const cv::Point2f ct = (t[size_t(a)] + t[size_t(b)]) * 0.5f, cs = (s[size_t(a)] + s[size_t(b)]) * 0.5f;
    place_part(out, t, f, from_i, to_i, ct, cs, float(cv::norm(t[size_t(b)] - t[size_t(a)])),
               float(cv::norm(s[size_t(b)] - s[size_t(a)])), amount.features);
  }
  // Brows: their centre and length, the target's arch.
  for (auto [from_i, to_i] : {std::pair{17, 22}, {22, 27}}) {
    place_part(out, t, f, from_i, to_i, centroid(t, from_i, to_i), centroid(s, from_i, to_i),
               float(cv::norm(t[size_t(to_i - 1)] - t[size_t(from_i)])),
               float(cv::norm(s[size_t(to_i - 1)] - s[size_t(from_i)])), amount.features);
  }
  // Nose: no expression moves it much, so its whole shape follows the source.
  for (int i = 27; i < 36; ++i) out[size_t(i)] = t[size_t(i)] + (s[size_t(i)] - t[size_t(i)]) * amount.nose;
  // Mouth: placed by its upper outer lip (the jaw's opening moves the lower lip), width from the source
  // only where the expressions' widths agree, so a smile stays a smile.
  const float smile = std::abs(mouth_width_ratio(t) - mouth_width_ratio(s));
  const float mouth_amount = smile > 0.12f ? 0.0f : amount.mouth;
  place_part(out, t, f, 48, 68, centroid(t, 48, 55), centroid(s, 48, 55), float(cv::norm(t[54] - t[48])),
             float(cv::norm(s[54] - s[48])), mouth_amount);
  return out;
}

}  // namespace faceweave::swap
