// The watermark's payload: what an output says about itself. 37 bits: a format version (4 bits), the
// "synthetic" flag (1 bit) and a 32-bit run id drawn at random for each run (never derived from a user, a
// path or a time, so it links outputs of one run to each other and to nothing else). A CRC-16 guards it.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <vector>

namespace faceweave::provenance {

inline constexpr int kPayloadVersion = 1;
inline constexpr int kPayloadBits = 37;    // version + flag + run id
inline constexpr int kProtectedBits = 53;  // payload + CRC-16

struct Payload {
  int version = kPayloadVersion;  // 0..15
  bool synthetic = true;
  uint32_t run_id = 0;
  bool operator==(const Payload&) const = default;
};

// A fresh run id from the operating system's random source.
uint32_t new_run_id();

// CRC-16/CCITT-FALSE over a bit sequence (most significant bit first).
uint16_t crc16_bits(const std::vector<uint8_t>& bits);

// The payload and its CRC as kProtectedBits bits (0/1).
std::vector<uint8_t> pack_payload(const Payload& payload);

// The payload back from kProtectedBits bits; nullopt when the CRC does not match.
std::optional<Payload> unpack_payload(const std::vector<uint8_t>& bits);

}  // namespace faceweave::provenance
