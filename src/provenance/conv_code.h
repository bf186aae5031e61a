// The watermark's error-correcting code: the rate-1/2, constraint-length-7 convolutional code (generators
// 171 and 133 octal, the one of 802.11 and DVB) with a zero tail, decoded by a soft-decision Viterbi
// decoder. Soft values: positive means bit 1, negative bit 0, magnitude = reliability.
#pragma once

#include <cstdint>
#include <vector>

namespace faceweave::provenance {

inline constexpr int kConvConstraint = 7;

// 2 * (bits.size() + 6) coded bits (0/1): the input followed by six zeros that return the encoder to state 0.
std::vector<uint8_t> conv_encode(const std::vector<uint8_t>& bits);

// The most likely input (without the tail) for 2 * (n + 6) soft values; `n` is the input length.
std::vector<uint8_t> viterbi_decode(const std::vector<float>& soft, int n);

}  // namespace faceweave::provenance
