#include "provenance/conv_code.h"

#include <algorithm>
#include <bit>
#include <cstddef>
#include <limits>

namespace faceweave::provenance {
namespace {

constexpr unsigned kG0 = 0171, kG1 = 0133;
constexpr int kStates = 1 << (kConvConstraint - 1);

// The two output bits when `bit` enters the encoder in `state` (the previous six inputs, newest highest).
inline void outputs(unsigned state, unsigned bit, unsigned& o0, unsigned& o1) {
  const unsigned reg = (bit << (kConvConstraint - 1)) | state;
  o0 = unsigned(std::popcount(reg & kG0)) & 1u;
  o1 = unsigned(std::popcount(reg & kG1)) & 1u;
}
inline unsigned next_state(unsigned state, unsigned bit) {
  return ((bit << (kConvConstraint - 1)) | state) >> 1;
}

}  // namespace

std::vector<uint8_t> conv_encode(const std::vector<uint8_t>& bits) {
  std::vector<uint8_t> out;
  out.reserve(2 * (bits.size() + kConvConstraint - 1));
  unsigned state = 0;
  auto push = [&](unsigned b) {
    unsigned o0, o1;
    outputs(state, b, o0, o1);
    out.push_back(uint8_t(o0));
    out.push_back(uint8_t(o1));
    state = next_state(state, b);
  };
  for (uint8_t b : bits) push(b & 1u);
  for (int i = 0; i < kConvConstraint - 1; ++i) push(0);
  return out;
}

std::vector<uint8_t> viterbi_decode(const std::vector<float>& soft, int n) {
  const int steps = n + kConvConstraint - 1;
  if (n <= 0 || soft.size() < std::size_t(2 * steps)) return {};
  constexpr float kNone = -std::numeric_limits<float>::infinity();
  std::vector<float> metric(kStates, kNone), next(kStates);
  metric[0] = 0;
  // survivors[t][s]: the previous state and the input bit that led to s at step t.
  std::vector<uint16_t> survivors(std::size_t(steps) * kStates);
  for (int t = 0; t < steps; ++t) {
    std::fill(next.begin(), next.end(), kNone);
    const float y0 = soft[2 * t], y1 = soft[2 * t + 1];
    const unsigned max_bit = t < n ? 1u : 0u;  // the tail is known to be zeros
    for (unsigned s = 0; s < unsigned(kStates); ++s) {
      if (metric[s] == kNone) continue;
      for (unsigned b = 0; b <= max_bit; ++b) {
        unsigned o0, o1;
        outputs(s, b, o0, o1);
        const float m = metric[s] + (o0 ? y0 : -y0) + (o1 ? y1 : -y1);
        const unsigned ns = next_state(s, b);
        if (m > next[ns]) {
          next[ns] = m;
          survivors[std::size_t(t) * kStates + ns] = uint16_t((s << 1) | b);
        }
      }
    }
    metric.swap(next);
  }
  std::vector<uint8_t> bits(static_cast<std::size_t>(steps));
  unsigned s = 0;  // the tail ends in state 0
  for (int t = steps - 1; t >= 0; --t) {
    const uint16_t sv = survivors[std::size_t(t) * kStates + s];
    bits[std::size_t(t)] = uint8_t(sv & 1u);
    s = sv >> 1;
  }
  bits.resize(std::size_t(n));
  return bits;
}

}  // namespace faceweave::provenance
