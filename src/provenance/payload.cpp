#include "provenance/payload.h"

#include <random>

namespace faceweave::provenance {

uint32_t new_run_id() {
  std::random_device rd;
  return uint32_t(rd());
}

uint16_t crc16_bits(const std::vector<uint8_t>& bits) {
  uint16_t crc = 0xFFFF;
  for (uint8_t b : bits) {
    const bool top = (crc & 0x8000) != 0;
    crc = uint16_t(crc << 1);
    if (top != (b != 0)) crc ^= 0x1021;
  }
  return crc;
}

namespace {
void put(std::vector<uint8_t>& bits, uint32_t value, int count) {
  for (int i = count - 1; i >= 0; --i) bits.push_back(uint8_t((value >> i) & 1u));
}
uint32_t get(const std::vector<uint8_t>& bits, size_t& at, int count) {
  uint32_t v = 0;
  for (int i = 0; i < count; ++i) v = (v << 1) | (bits[at++] & 1u);
  return v;
}
}  // namespace

std::vector<uint8_t> pack_payload(const Payload& p) {
  std::vector<uint8_t> bits;
  bits.reserve(kProtectedBits);
  put(bits, uint32_t(p.version) & 0xFu, 4);
  put(bits, p.synthetic ? 1u : 0u, 1);
  put(bits, p.run_id, 32);
  put(bits, crc16_bits(bits), 16);
  return bits;
}

std::optional<Payload> unpack_payload(const std::vector<uint8_t>& bits) {
  if (bits.size() != size_t(kProtectedBits)) return std::nullopt;
  const std::vector<uint8_t> data(bits.begin(), bits.begin() + kPayloadBits);
  size_t at = kPayloadBits;
  if (get(bits, at, 16) != crc16_bits(data)) return std::nullopt;
  at = 0;
  Payload p;
  p.version = int(get(bits, at, 4));
  p.synthetic = get(bits, at, 1) != 0;
  p.run_id = get(bits, at, 32);
  return p;
}

}  // namespace faceweave::provenance
