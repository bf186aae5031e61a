#include "provenance/watermark.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <numeric>
#include <random>
#include <vector>

#include <opencv2/imgproc.hpp>

#include "provenance/conv_code.h"

namespace faceweave::provenance {
namespace {

constexpr int kBlock = 8;
constexpr int kTileW = 16, kTileH = 8;
constexpr int kPresenceSide = kWorkingSide / kBlock;  // the presence mark's sign map: 32x32 blocks
constexpr int kSymbols = kTileW * kTileH;             // 128
constexpr int kCodedBits = 2 * (kProtectedBits + kConvConstraint - 1);  // 118
constexpr int kPilots = kSymbols - kCodedBits;                          // 10
constexpr int kMinPilotsRight = 8;                                      // of kPilots
constexpr int kCandidatesPerBox = 6;  // (scale, grid offset) pairs decoded at every tile phase
// The ratio between the square sides tried. At 2.5% a mark in a large square (obama.jpg's, 440 px) was
// missed for some run ids when the examined face box was off by a few percent (half a step of scale error
// moves the blocks at the square's edge by a third of a block); at 1.5% one of 64 still was; at 1% none
// (docs/provenance.md).
constexpr double kScaleStep = 1.01;
static_assert(kPilots > 0);

// Everything the fixed key defines: the spatial pattern of a block (the inverse DCT of the key's signs on 12
// mid-frequency coefficients), which symbol each tile position carries, its sign scramble, and the pilots.
struct Key {
  cv::Mat pattern;  // 8x8 CV_32F, unit norm
  std::array<int, kSymbols> symbol_at{};
  std::array<float, kSymbols> scramble{};
  std::array<uint8_t, kPilots> pilots{};
  // The presence mark: one DCT coefficient (row 0, column 2: a horizontal half-cosine period over the
  // block) made orthogonal to `pattern`, so neither mark adds to the other's block correlations; one
  // key-drawn sign per block of the whole 32x32-block square (no repetition within it: periodic content
  // cannot line up with it in many places at once); the sign map's spectrum for the detector's search.
  cv::Mat presence_pattern;   // 8x8 CV_32F, unit norm, orthogonal to pattern
  cv::Mat presence_signs;     // kPresenceSide x kPresenceSide CV_32F, +1/-1
  cv::Mat presence_spectrum;  // cv::dft of presence_signs (CCS packed)
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
    // Drawn after everything above, so the payload mark's key is what it was before the presence mark.
    cv::Mat basis = cv::Mat::zeros(kBlock, kBlock, CV_32F), presence;
    basis.at<float>(0, 2) = 1.0f;
    cv::idct(basis, presence);
    presence -= presence.dot(out.pattern) * out.pattern;
    out.presence_pattern = presence / cv::norm(presence);
    out.presence_signs.create(kPresenceSide, kPresenceSide, CV_32F);
    for (int r = 0; r < kPresenceSide; ++r)
      for (int c = 0; c < kPresenceSide; ++c) out.presence_signs.at<float>(r, c) = (rng() & 1) ? 1.0f : -1.0f;
    cv::dft(out.presence_signs, out.presence_spectrum);
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

// Reflected index (cv::BORDER_REFLECT: fedcba|abcdef|fedcba) into [0, n), for offsets of at most n.
inline int reflect(int i, int n) {
  return i < 0 ? -i - 1 : (i >= n ? 2 * n - i - 1 : i);
}

// The buffers weighted_blocks reuses from one candidate to the next.
struct BlockScratch {
  std::vector<float> mags, squares, rows, bucket;
  std::array<uint32_t, 2048> counts{};
};

// The element that std::nth_element would put at index size / 2 of `s.mags` (non-negative floats, whose bit
// patterns sort as they do): a count over the top 11 bits of each value finds the bucket that holds it, and
// only that bucket is sorted partially. About four times faster than nth_element over the whole array.
float median_magnitude(BlockScratch& s) {
  const std::vector<float>& mags = s.mags;
  const size_t n = mags.size(), rank = n / 2;
  s.counts.fill(0);
  for (float m : mags) {
    uint32_t bits;
    std::memcpy(&bits, &m, sizeof bits);
    ++s.counts[bits >> 21];
  }
  size_t below = 0;
  uint32_t bucket = 0;
  while (below + s.counts[bucket] <= rank) below += s.counts[bucket++];
  s.bucket.clear();
  for (float m : mags) {
    uint32_t bits;
    std::memcpy(&bits, &m, sizeof bits);
    if ((bits >> 21) == bucket) s.bucket.push_back(m);
  }
  std::nth_element(s.bucket.begin(), s.bucket.begin() + long(rank - below), s.bucket.end());
  return s.bucket[rank - below];
}

// The weighted block correlations of one (scale, grid offset) candidate, nby x nbx, into `out`: each block's
// correlation with a pattern (`corr`, from filter2D), clipped at three times the median magnitude (edges,
// highlights) and divided by the RMS of the correlations around it (5x5 blocks, reflected at the border), so
// busy texture, where the content's own projection is large, counts less than smooth skin, where the mark
// dominates. Called about ten thousand times per examined face, so it allocates nothing once `out` and
// `s` have their size.
void weighted_blocks(const cv::Mat& corr, int dx, int dy, int nbx, int nby, cv::Mat& out, BlockScratch& s) {
  out.create(nby, nbx, CV_32F);
  const size_t n = size_t(nbx) * size_t(nby);
  s.mags.resize(n);
  for (int by = 0; by < nby; ++by) {
    const float* src = corr.ptr<float>(dy + by * kBlock) + dx;
    float* row = out.ptr<float>(by);
    float* mag = s.mags.data() + size_t(by) * size_t(nbx);
    for (int bx = 0; bx < nbx; ++bx) {
      row[bx] = src[bx * kBlock];
      mag[bx] = std::abs(row[bx]);
    }
  }
  const float limit = std::max(1e-3f, 3.0f * median_magnitude(s));
  // Clip, square, and sum the squares over 5 columns, then over 5 rows (a separable 5x5 box).
  s.squares.resize(n);
  s.rows.resize(n);
  for (int by = 0; by < nby; ++by) {
    float* row = out.ptr<float>(by);
    float* sq = s.squares.data() + size_t(by) * size_t(nbx);
    for (int bx = 0; bx < nbx; ++bx) {
      row[bx] = std::min(std::max(row[bx], -limit), limit);
      sq[bx] = row[bx] * row[bx];
    }
    float* hs = s.rows.data() + size_t(by) * size_t(nbx);
    // Reflected at both ends; a plain running window in between.
    auto edge_sum = [&](int bx) {
      float sum = 0;
      for (int k = -2; k <= 2; ++k) sum += sq[reflect(bx + k, nbx)];
      return sum;
    };
    for (int bx = 0; bx < std::min(2, nbx); ++bx) hs[bx] = edge_sum(bx);
    for (int bx = 2; bx < nbx - 2; ++bx) hs[bx] = sq[bx - 2] + sq[bx - 1] + sq[bx] + sq[bx + 1] + sq[bx + 2];
    for (int bx = std::max(2, nbx - 2); bx < nbx; ++bx) hs[bx] = edge_sum(bx);
  }
  const float floor = 1e-4f * limit * limit;
  for (int by = 0; by < nby; ++by) {
    const float* r[5];
    for (int k = -2; k <= 2; ++k) r[k + 2] = s.rows.data() + size_t(reflect(by + k, nby)) * size_t(nbx);
    float* o = out.ptr<float>(by);
    for (int bx = 0; bx < nbx; ++bx) {
      const float local = (r[0][bx] + r[1][bx] + r[2][bx] + r[3][bx] + r[4][bx]) * (1.0f / 25.0f);
      o[bx] = o[bx] / std::sqrt(local + floor);
    }
  }
}

// The payload's soft values: the weighted blocks summed per tile position into `groups`. Returns the
// agreement of the blocks that share a tile position (they carry the same symbol): it does not depend on the
// (still unknown) tile phase, so it ranks scales and offsets before any decoding.
double group_soft_values(const cv::Mat& weighted, std::array<float, kSymbols>& groups) {
  std::array<float, kSymbols> energy{};
  groups.fill(0);
  for (int by = 0; by < weighted.rows; ++by) {
    const float* w = weighted.ptr<float>(by);
    for (int bx = 0; bx < weighted.cols; ++bx) {
      const int g = (bx % kTileW) + kTileW * (by % kTileH);
      groups[g] += w[bx];
      energy[g] += w[bx] * w[bx];
    }
  }
  double agree = 0, total = 0;
  for (int g = 0; g < kSymbols; ++g) {
    agree += double(groups[g]) * groups[g] - energy[g];
    total += energy[g];
  }
  return total > 0 ? agree / total : 0;
}

// Keeps the kCandidatesPerBox candidates of highest agreement, best first.
void keep_best(std::vector<Candidate>& best, const Candidate& c) {
  if (best.size() == size_t(kCandidatesPerBox) && c.agreement <= best.back().agreement) return;
  auto at = std::upper_bound(best.begin(), best.end(), c.agreement,
                             [](double a, const Candidate& b) { return a > b.agreement; });
  best.insert(at, c);
  if (best.size() > size_t(kCandidatesPerBox)) best.pop_back();
}

// The presence score of one (scale, grid offset) candidate: the weighted blocks' correlation with the key's
// sign map at the best of its kPresenceSide x kPresenceSide cyclic shifts (the examined grid starts where the
// examined square does, which may be some blocks off the marked one; one DFT tries every shift), over the
// root of the blocks' energy: in standard deviations of what unmarked blocks of random sign would give.
double presence_score(const cv::Mat& weighted) {
  const Key& k = key();
  thread_local cv::Mat padded(kPresenceSide, kPresenceSide, CV_32F), spectrum, product, corr;
  padded.setTo(0);
  const cv::Rect used(0, 0, std::min(weighted.cols, kPresenceSide), std::min(weighted.rows, kPresenceSide));
  weighted(used).copyTo(padded(used));
  const double energy = padded.dot(padded);
  if (energy <= 0) return 0;
  cv::dft(padded, spectrum);
  cv::mulSpectrums(k.presence_spectrum, spectrum, product, 0, true);
  cv::idft(product, corr, cv::DFT_SCALE | cv::DFT_REAL_OUTPUT);
  double best = 0;
  cv::minMaxLoc(corr, nullptr, &best);
  return best / std::sqrt(energy);
}

}  // namespace

namespace {

// Where a face's mark goes and at what working size; false when the face is too small or its square lies
// mostly outside the image.
bool mark_geometry(cv::Size image, const cv::Rect2f& face_box, cv::Rect& region, double& side,
                   cv::Size& work) {
  const double face_side = std::max(face_box.width, face_box.height);
  if (face_side < kMinFaceSide) return false;
  side = std::max(kRegionScale * face_side, double(kWorkingSide));
  region = square_around(face_box, side) & cv::Rect(0, 0, image.width, image.height);
  const double scale = kWorkingSide / side;
  work = cv::Size(int(std::lround(region.width * scale)), int(std::lround(region.height * scale)));
  return work.width >= kTileW * kBlock / 2 && work.height >= kTileH * kBlock / 2;
}

// The change at the working scale: every block carries its symbol's sign times the pattern. With `host`
// (the square's luma at the working scale) the embedding is informed: what the content already says against
// the symbol is paid back, within limits; without it every block gets the base strength.
// `presence` is the presence mark's amplitude (0: none), never informed.
cv::Mat working_delta(cv::Size work, const Payload& payload, float alpha, float presence,
                      const cv::Mat* host) {
  const Key& k = key();
  const auto symbols = channel_symbols(payload);
  cv::Mat delta = cv::Mat::zeros(work, CV_32F);
  const float* pattern = k.pattern.ptr<float>(0);  // 8x8, continuous
  const float* presence_pattern = k.presence_pattern.ptr<float>(0);
  for (int by = 0; (by + 1) * kBlock <= work.height; ++by)
    for (int bx = 0; (bx + 1) * kBlock <= work.width; ++bx) {
      const int pos = (bx % kTileW) + kTileW * (by % kTileH);
      const float sym = k.scramble[pos] * symbols[k.symbol_at[pos]];
      float a = alpha * sym;
      if (host) {
        float h = 0;
        for (int r = 0; r < kBlock; ++r) {
          const float* row = host->ptr<float>(by * kBlock + r) + bx * kBlock;
          for (int c = 0; c < kBlock; ++c) h += row[c] * pattern[r * kBlock + c];
        }
        a = std::clamp(alpha - sym * h, 0.5f * alpha, 2.0f * alpha) * sym;
      }
      const float p = presence * k.presence_signs.at<float>(by % kPresenceSide, bx % kPresenceSide);
      for (int r = 0; r < kBlock; ++r) {
        float* row = delta.ptr<float>(by * kBlock + r) + bx * kBlock;
        for (int c = 0; c < kBlock; ++c)
          row[c] += a * pattern[r * kBlock + c] + p * presence_pattern[r * kBlock + c];
      }
    }
  return delta;
}

// The working-scale change resampled to the region, feathered at the square's edge (no visible border),
// rounded to whole levels.
cv::Mat image_delta(const cv::Mat& delta, cv::Size size, double side) {
  const cv::Mat up = resample(delta, size);
  const float feather = float(std::max(2.0, 0.06 * side));
  std::vector<float> ramp_x(size_t(up.cols));
  for (int c = 0; c < up.cols; ++c)
    ramp_x[size_t(c)] = std::min(1.0f, std::min(c + 0.5f, up.cols - c - 0.5f) / feather);
  cv::Mat out(size, CV_16S);
  for (int r = 0; r < up.rows; ++r) {
    const float* d = up.ptr<float>(r);
    int16_t* o = out.ptr<int16_t>(r);
    const float ramp_y = std::min(1.0f, std::min(r + 0.5f, up.rows - r - 0.5f) / feather);
    for (int c = 0; c < up.cols; ++c) o[c] = int16_t(cvRound(d[c] * std::min(ramp_y, ramp_x[size_t(c)])));
  }
  return out;
}

// Adds a one-channel change to the three colour channels equally (luma only), saturating.
void add_to_channels(cv::Mat& roi, const cv::Mat& delta) {
  for (int r = 0; r < roi.rows; ++r) {
    const int16_t* d = delta.ptr<int16_t>(r);
    uchar* px = roi.ptr<uchar>(r);
    for (int c = 0; c < roi.cols; ++c, px += 3) {
      const int v = d[c];
      if (v == 0) continue;
      px[0] = cv::saturate_cast<uchar>(px[0] + v);
      px[1] = cv::saturate_cast<uchar>(px[1] + v);
      px[2] = cv::saturate_cast<uchar>(px[2] + v);
    }
  }
}

}  // namespace

bool embed_watermark(cv::Mat& bgr, const cv::Rect2f& face_box, const Payload& payload,
                     const WatermarkOptions& options) {
  if (bgr.empty() || bgr.type() != CV_8UC3) return false;
  cv::Rect region;
  double side = 0;
  cv::Size work;
  if (!mark_geometry(bgr.size(), face_box, region, side, work)) return false;
  cv::Mat roi = bgr(region);
  const cv::Mat y = resample(luma(roi), work);
  add_to_channels(roi, image_delta(working_delta(work, payload, options.strength, options.presence, &y),
                                   region.size(), side));
  return true;
}

std::optional<WatermarkStamp> make_watermark_stamp(cv::Size image, const cv::Rect2f& face_box,
                                                   const Payload& payload, const WatermarkOptions& options) {
  WatermarkStamp stamp;
  double side = 0;
  cv::Size work;
  if (!mark_geometry(image, face_box, stamp.region, side, work)) return std::nullopt;
  stamp.image = image;
  stamp.delta = image_delta(working_delta(work, payload, options.strength, options.presence, nullptr),
                            stamp.region.size(), side);
  return stamp;
}

bool apply_watermark_stamp(cv::Mat& bgr, const WatermarkStamp& stamp) {
  if (bgr.empty() || bgr.type() != CV_8UC3 || bgr.size() != stamp.image) return false;
  cv::Mat roi = bgr(stamp.region);
  add_to_channels(roi, stamp.delta);
  return true;
}

double presence_confidence(double score) {
  return std::clamp(kDetectThreshold * score / kPresenceThreshold, 0.0, 1.0);
}

cv::Rect watermark_square(const cv::Rect2f& face_box) {
  return square_around(
      face_box, std::max(kRegionScale * std::max(face_box.width, face_box.height), double(kWorkingSide)));
}

int embed_watermark_faces(cv::Mat& bgr, const std::vector<cv::Rect2f>& face_boxes, const Payload& payload,
                          const WatermarkOptions& options) {
  std::vector<cv::Rect2f> boxes = face_boxes;
  std::sort(boxes.begin(), boxes.end(), [](const auto& a, const auto& b) { return a.area() > b.area(); });
  std::vector<cv::Rect> marked;
  for (const auto& box : boxes) {
    const cv::Rect square = watermark_square(box);
    if (std::any_of(marked.begin(), marked.end(), [&](const cv::Rect& m) { return (m & square).area() > 0; }))
      continue;
    if (embed_watermark(bgr, box, payload, options)) marked.push_back(square);
  }
  return int(marked.size());
}

WatermarkDetection detect_watermark(const cv::Mat& bgr, const std::vector<cv::Rect2f>& face_boxes) {
  if (bgr.empty() || bgr.type() != CV_8UC3) return {};
  return detect_watermark_luma(luma(bgr), face_boxes);
}

WatermarkDetection detect_watermark_luma(const cv::Mat& y_full, const std::vector<cv::Rect2f>& face_boxes) {
  WatermarkDetection best;
  if (y_full.empty() || y_full.channels() != 1) return best;
  const Key& k = key();
  const cv::Rect image(0, 0, y_full.cols, y_full.rows);
  std::vector<float> soft(kCodedBits);
  cv::Rect presence_region;
  cv::Mat weighted;
  BlockScratch scratch;
  for (const auto& box : face_boxes) {
    std::vector<Candidate> candidates;
    // Square sides from 0.8 to kMaxRegionRatio times the face side, kScaleStep apart: the face boxes of the
    // marked and the examined image differ a little, and small faces were marked in larger squares.
    const double face_side = std::max(box.width, box.height);
    for (double f = 0.8 / kRegionScale; f <= kMaxRegionRatio / kRegionScale; f *= kScaleStep) {
      const double side = kRegionScale * face_side * f;
      if (side < kMinFaceSide) continue;
      // Shifts need no search: the tile phase search below covers them.
      const cv::Rect region = square_around(box, side) & image;
      const double scale = kWorkingSide / side;
      const cv::Size work(int(std::lround(region.width * scale)), int(std::lround(region.height * scale)));
      if (work.width < 2 * kBlock || work.height < 2 * kBlock) continue;
      const cv::Mat y = resample(y_full(region), work);
      cv::Mat corr,
          corr_presence;  // corr(r, c): the block with its top-left corner at (c, r) against a pattern
      cv::filter2D(y, corr, CV_32F, k.pattern, cv::Point(0, 0), 0, cv::BORDER_CONSTANT);
      cv::filter2D(y, corr_presence, CV_32F, k.presence_pattern, cv::Point(0, 0), 0, cv::BORDER_CONSTANT);
      for (int dy = 0; dy < kBlock; ++dy)
        for (int dx = 0; dx < kBlock; ++dx) {
          const int nbx = (work.width - dx) / kBlock, nby = (work.height - dy) / kBlock;
          if (nbx < 2 || nby < 2) continue;
          Candidate c;
          weighted_blocks(corr, dx, dy, nbx, nby, weighted, scratch);
          c.agreement = group_soft_values(weighted, c.groups);
          c.region = region;
          keep_best(candidates, c);
          weighted_blocks(corr_presence, dx, dy, nbx, nby, weighted, scratch);
          const double score = presence_score(weighted);
          if (score > best.presence_score) {
            best.presence_score = score;
            presence_region = region;
          }
        }
    }
    for (const Candidate& c : candidates) {
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
  const bool payload_read = best.confidence >= kDetectThreshold;
  if (!payload_read) best.payload.reset();
  best.presence_found = best.presence_score >= kPresenceThreshold;
  best.found = payload_read || best.presence_found;
  if (!payload_read && best.presence_found) best.region = presence_region;
  best.confidence = std::max(best.confidence, presence_confidence(best.presence_score));
  return best;
}

}  // namespace faceweave::provenance
