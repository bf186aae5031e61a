#include "provenance/watermark.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <numeric>
#include <random>
#include <vector>

#include <opencv2/imgproc.hpp>

#include "provenance/conv_code.h"

namespace faceweave::provenance {
namespace {

constexpr int kBlock = 8;
constexpr int kTileW = 16, kTileH = 8;
constexpr int kSymbols = kTileW * kTileH;                               // 128
constexpr int kCodedBits = 2 * (kProtectedBits + kConvConstraint - 1);  // 118
constexpr int kPilots = kSymbols - kCodedBits;                          // 10
constexpr int kMinPilotsRight = 8;                                      // of kPilots
constexpr int kCandidatesPerBox = 6;  // (scale, grid offset) pairs decoded at every tile phase
static_assert(kPilots > 0);

// Everything the fixed key defines: the spatial pattern of a block (the inverse DCT of the key's signs on 12
// mid-frequency coefficients), which symbol each tile position carries, its sign scramble, and the pilots.
struct Key {
  cv::Mat pattern;  // 8x8 CV_32F, unit norm
  std::array<int, kSymbols> symbol_at{};
  std::array<float, kSymbols> scramble{};
  std::array<uint8_t, kPilots> pilots{};
};

const Key& key() {
  static const Key k = [] {
    Key out;
    uint64_t seed = 1469598103934665603ull;  // FNV-1a of the key text
    for (const char* p = kWatermarkKey; *p; ++p) seed = (seed ^ uint8_t(*p)) * 1099511628211ull;
    std::mt19937_64 rng(seed);
    cv::Mat coeffs = cv::Mat::zeros(kBlock, kBlock, CV_32F);
    int used = 0;
    for (int sum = 2; sum <= 4; ++sum)
      for (int u = 0; u <= sum; ++u) {
        coeffs.at<float>(sum - u, u) = (rng() & 1) ? 1.0f : -1.0f;
        ++used;
      }
    coeffs /= std::sqrt(float(used));
    cv::idct(coeffs, out.pattern);
    std::iota(out.symbol_at.begin(), out.symbol_at.end(), 0);
    for (int i = kSymbols - 1; i > 0; --i)
      std::swap(out.symbol_at[i], out.symbol_at[rng() % uint64_t(i + 1)]);
    for (auto& s : out.scramble) s = (rng() & 1) ? 1.0f : -1.0f;
    for (auto& b : out.pilots) b = uint8_t(rng() & 1);
    return out;
  }();
  return k;
}

// The 128 channel symbols (+1/-1) of a payload: coded bits, then pilots.
std::array<float, kSymbols> channel_symbols(const Payload& payload) {
  const auto coded = conv_encode(pack_payload(payload));
  std::array<float, kSymbols> s{};
  for (int i = 0; i < kCodedBits; ++i) s[i] = coded[i] ? 1.0f : -1.0f;
  for (int i = 0; i < kPilots; ++i) s[kCodedBits + i] = key().pilots[i] ? 1.0f : -1.0f;
  return s;
}

// 8-bit luma (BT.601): integer rounding is far below the mark's amplitude, and it is the cheapest pass.
cv::Mat luma(const cv::Mat& bgr) {
  cv::Mat y;
  cv::cvtColor(bgr, y, cv::COLOR_BGR2GRAY);
  return y;
}

cv::Rect square_around(const cv::Rect2f& box, double side) {
  const double cx = box.x + box.width / 2.0, cy = box.y + box.height / 2.0;
  return {int(std::lround(cx - side / 2)), int(std::lround(cy - side / 2)), int(std::lround(side)),
          int(std::lround(side))};
}

cv::Mat resample(const cv::Mat& m, cv::Size size) {
  cv::Mat out;
  const bool shrinking = size.width < m.cols;
  cv::resize(m, out, size, 0, 0, shrinking ? cv::INTER_AREA : cv::INTER_LINEAR);
  if (out.depth() != CV_32F) out.convertTo(out, CV_32F);
  return out;
}

struct Candidate {
  double agreement = 0;
  std::array<float, kSymbols> groups{};  // summed block correlations per tile position of the detection grid
  cv::Rect region;
};

}  // namespace

bool embed_watermark(cv::Mat& bgr, const cv::Rect2f& face_box, const Payload& payload,
                     const WatermarkOptions& options) {
  if (bgr.empty() || bgr.type() != CV_8UC3) return false;
  const double face_side = std::max(face_box.width, face_box.height);
  if (face_side < kMinFaceSide) return false;
  const double side = std::max(kRegionScale * face_side, double(kWorkingSide));
  const cv::Rect region = square_around(face_box, side) & cv::Rect(0, 0, bgr.cols, bgr.rows);
  const double scale = kWorkingSide / side;
  const cv::Size work(int(std::lround(region.width * scale)), int(std::lround(region.height * scale)));
  if (work.width < kTileW * kBlock / 2 || work.height < kTileH * kBlock / 2) return false;

  const Key& k = key();
  const auto symbols = channel_symbols(payload);
  cv::Mat roi = bgr(region);
  const cv::Mat y = resample(luma(roi), work);
  cv::Mat delta = cv::Mat::zeros(work, CV_32F);
  const float alpha = options.strength;
  const float* pattern = k.pattern.ptr<float>(0);  // 8x8, continuous
  for (int by = 0; (by + 1) * kBlock <= work.height; ++by)
    for (int bx = 0; (bx + 1) * kBlock <= work.width; ++bx) {
      const int pos = (bx % kTileW) + kTileW * (by % kTileH);
      const float sym = k.scramble[pos] * symbols[k.symbol_at[pos]];
      float host = 0;
      for (int r = 0; r < kBlock; ++r) {
        const float* row = y.ptr<float>(by * kBlock + r) + bx * kBlock;
        for (int c = 0; c < kBlock; ++c) host += row[c] * pattern[r * kBlock + c];
      }
      // Informed embedding: what the content already says against the symbol is paid back, within limits.
      const float a = std::clamp(alpha - sym * host, 0.5f * alpha, 2.0f * alpha) * sym;
      for (int r = 0; r < kBlock; ++r) {
        float* row = delta.ptr<float>(by * kBlock + r) + bx * kBlock;
        for (int c = 0; c < kBlock; ++c) row[c] += a * pattern[r * kBlock + c];
      }
    }
  const cv::Mat up = resample(delta, region.size());
  // One pass: feather the square's edge (no visible border) and add the change to the three channels
  // equally (luma only), saturating. The feather is the smaller of a row and a column ramp.
  const float feather = float(std::max(2.0, 0.06 * side));
  std::vector<float> ramp_x(size_t(up.cols));
  for (int c = 0; c < up.cols; ++c)
    ramp_x[size_t(c)] = std::min(1.0f, std::min(c + 0.5f, up.cols - c - 0.5f) / feather);
  for (int r = 0; r < up.rows; ++r) {
    const float* d = up.ptr<float>(r);
    uchar* px = roi.ptr<uchar>(r);
    const float ramp_y = std::min(1.0f, std::min(r + 0.5f, up.rows - r - 0.5f) / feather);
    for (int c = 0; c < up.cols; ++c, px += 3) {
      const int v = cvRound(d[c] * std::min(ramp_y, ramp_x[size_t(c)]));
      px[0] = cv::saturate_cast<uchar>(px[0] + v);
      px[1] = cv::saturate_cast<uchar>(px[1] + v);
      px[2] = cv::saturate_cast<uchar>(px[2] + v);
    }
  }
  return true;
}

int embed_watermark_faces(cv::Mat& bgr, const std::vector<cv::Rect2f>& face_boxes, const Payload& payload,
                          const WatermarkOptions& options) {
  std::vector<cv::Rect2f> boxes = face_boxes;
  std::sort(boxes.begin(), boxes.end(), [](const auto& a, const auto& b) { return a.area() > b.area(); });
  std::vector<cv::Rect> marked;
  for (const auto& box : boxes) {
    const double side = std::max(kRegionScale * std::max(box.width, box.height), double(kWorkingSide));
    const cv::Rect square = square_around(box, side);
    if (std::any_of(marked.begin(), marked.end(), [&](const cv::Rect& m) { return (m & square).area() > 0; }))
      continue;
    if (embed_watermark(bgr, box, payload, options)) marked.push_back(square);
  }
  return int(marked.size());
}

WatermarkDetection detect_watermark(const cv::Mat& bgr, const std::vector<cv::Rect2f>& face_boxes) {
  WatermarkDetection best;
  if (bgr.empty() || bgr.type() != CV_8UC3) return best;
  const Key& k = key();
  const cv::Mat y_full = luma(bgr);
  const cv::Rect image(0, 0, bgr.cols, bgr.rows);
  std::vector<float> soft(kCodedBits);
  for (const auto& box : face_boxes) {
    std::vector<Candidate> candidates;
    // Square sides from 0.8 to kMaxRegionRatio times the face side, 2.5% apart: the face boxes of the
    // marked and the examined image differ a little, and small faces were marked in larger squares.
    const double face_side = std::max(box.width, box.height);
    for (double f = 0.8 / kRegionScale; f <= kMaxRegionRatio / kRegionScale; f *= 1.025) {
      const double side = kRegionScale * face_side * f;
      if (side < kMinFaceSide) continue;
      // Shifts need no search: the tile phase search below covers them.
      const cv::Rect region = square_around(box, side) & image;
      const double scale = kWorkingSide / side;
      const cv::Size work(int(std::lround(region.width * scale)), int(std::lround(region.height * scale)));
      if (work.width < 2 * kBlock || work.height < 2 * kBlock) continue;
      const cv::Mat y = resample(y_full(region), work);
      cv::Mat corr;  // corr(r, c): the block with its top-left corner at (c, r) against the pattern
      cv::filter2D(y, corr, CV_32F, k.pattern, cv::Point(0, 0), 0, cv::BORDER_CONSTANT);
      std::vector<float> values;
      for (int dy = 0; dy < kBlock; ++dy)
        for (int dx = 0; dx < kBlock; ++dx) {
          const int nbx = (work.width - dx) / kBlock, nby = (work.height - dy) / kBlock;
          if (nbx < 2 || nby < 2) continue;
          values.clear();
          for (int by = 0; by < nby; ++by)
            for (int bx = 0; bx < nbx; ++bx)
              values.push_back(corr.at<float>(dy + by * kBlock, dx + bx * kBlock));
          // Clip outliers (edges, highlights) at three times the median magnitude.
          std::vector<float> mags(values.size());
          std::transform(values.begin(), values.end(), mags.begin(), [](float v) { return std::abs(v); });
          std::nth_element(mags.begin(), mags.begin() + long(mags.size() / 2), mags.end());
          const float limit = std::max(1e-3f, 3.0f * mags[mags.size() / 2]);
          Candidate c;
          std::array<float, kSymbols> energy{};
          for (int by = 0; by < nby; ++by)
            for (int bx = 0; bx < nbx; ++bx) {
              const float v = std::clamp(values[size_t(by * nbx + bx)], -limit, limit);
              const int g = (bx % kTileW) + kTileW * (by % kTileH);
              c.groups[g] += v;
              energy[g] += v * v;
            }
          // Blocks that share a tile position carry the same symbol: their agreement does not depend on
          // the (still unknown) tile phase, so it ranks scales and offsets before any decoding.
          double agree = 0, total = 0;
          for (int g = 0; g < kSymbols; ++g) {
            agree += double(c.groups[g]) * c.groups[g] - energy[g];
            total += energy[g];
          }
          c.agreement = total > 0 ? agree / total : 0;
          c.region = region;
          candidates.push_back(c);
        }
    }
    const size_t keep = std::min<size_t>(kCandidatesPerBox, candidates.size());
    std::partial_sort(candidates.begin(), candidates.begin() + long(keep), candidates.end(),
                      [](const Candidate& a, const Candidate& b) { return a.agreement > b.agreement; });
    for (size_t ci = 0; ci < keep; ++ci) {
      const Candidate& c = candidates[ci];
      for (int py = 0; py < kTileH; ++py)
        for (int px = 0; px < kTileW; ++px) {
          std::array<float, kSymbols> y{};
          for (int gy = 0; gy < kTileH; ++gy)
            for (int gx = 0; gx < kTileW; ++gx) {
              const int pos = (gx + px) % kTileW + kTileW * ((gy + py) % kTileH);
              y[k.symbol_at[pos]] = k.scramble[pos] * c.groups[gx + kTileW * gy];
            }
          std::copy(y.begin(), y.begin() + kCodedBits, soft.begin());
          const auto decoded = unpack_payload(viterbi_decode(soft, kProtectedBits));
          if (!decoded || decoded->version != kPayloadVersion) continue;
          const auto expected = channel_symbols(*decoded);
          // The pilots are not part of the code: most of them must agree on their own.
          int pilots_right = 0;
          for (int i = kCodedBits; i < kSymbols; ++i) pilots_right += y[i] * expected[i] > 0 ? 1 : 0;
          if (pilots_right < kMinPilotsRight) continue;
          double dot = 0, norm = 0;
          for (int i = 0; i < kSymbols; ++i) {
            dot += double(y[i]) * expected[i];
            norm += double(y[i]) * y[i];
          }
          const double confidence = norm > 0 ? dot / std::sqrt(norm * kSymbols) : 0;
          if (confidence > best.confidence) {
            best.confidence = confidence;
            best.payload = decoded;
            best.region = c.region;
          }
        }
    }
  }
  best.found = best.confidence >= kDetectThreshold;
  if (!best.found) best.payload.reset();
  return best;
}

}  // namespace faceweave::provenance
