// HyperLogLog and k-minimum-values user sketches (sketch.h).
#include "analytics/sketch.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <limits>

namespace faceweave::analytics {

uint64_t hash_user(std::string_view s) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : s) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ULL;
  h ^= h >> 33;
  return h;
}

// --- HyperLogLog

void Hll::add_hash(uint64_t h) {
  const size_t index = size_t(h >> kQ);
  const uint64_t rest = h << kPrecision;  // the other kQ bits, at the top
  const uint8_t rho = rest == 0 ? uint8_t(kQ + 1) : uint8_t(std::countl_zero(rest) + 1);
  if (rho > registers_[index]) registers_[index] = rho;
}

void Hll::merge(const Hll& other) {
  for (size_t i = 0; i < registers_.size(); ++i) registers_[i] = std::max(registers_[i], other.registers_[i]);
}

bool Hll::empty() const {
  return std::all_of(registers_.begin(), registers_.end(), [](uint8_t r) { return r == 0; });
}

namespace {

// Ertl, "New cardinality estimation algorithms for HyperLogLog sketches" (2017), the improved estimator:
// unbiased over the whole range without empirical bias tables or a switch to linear counting.
double sigma(double x) {
  if (x == 1) return std::numeric_limits<double>::infinity();
  double y = 1, z = x, prev;
  do {
    x *= x;
    prev = z;
    z += x * y;
    y += y;
  } while (z != prev);
  return z;
}

double tau(double x) {
  if (x == 0 || x == 1) return 0;
  double y = 1, z = 1 - x, prev;
  do {
    x = std::sqrt(x);
    prev = z;
    y *= 0.5;
    z -= (1 - x) * (1 - x) * y;
  } while (z != prev);
  return z / 3;
}

}  // namespace

double Hll::estimate() const {
  std::array<double, kQ + 2> c{};
  for (uint8_t r : registers_) c[r] += 1;
  const double m = kRegisters;
  if (c[0] == m) return 0;
  double z = m * tau(1 - c[kQ + 1] / m);
  for (int k = kQ; k >= 1; --k) z = 0.5 * (z + c[size_t(k)]);
  z += m * sigma(c[0] / m);
  return (0.5 / std::log(2.0)) * m * m / z;
}

std::string Hll::serialize() const {
  size_t nonzero = size_t(std::count_if(registers_.begin(), registers_.end(), [](uint8_t r) { return r; }));
  std::string out;
  if (nonzero * 3 < registers_.size()) {
    out.reserve(1 + nonzero * 3);
    out.push_back('S');
    for (size_t i = 0; i < registers_.size(); ++i)
      if (registers_[i]) {
        out.push_back(char(i & 0xff));
        out.push_back(char(i >> 8));
        out.push_back(char(registers_[i]));
      }
    return out;
  }
  out.push_back('D');
  out.append(registers_.begin(), registers_.end());
  return out;
}

Result<Hll> Hll::parse(std::string_view b) {
  Hll h;
  auto bad = [] { return invalid_argument("malformed HyperLogLog sketch"); };
  if (b.empty()) return h;
  if (b[0] == 'D') {
    if (b.size() != 1 + size_t(kRegisters)) return bad();
    for (size_t i = 0; i < size_t(kRegisters); ++i) {
      uint8_t r = uint8_t(b[1 + i]);
      if (r > kQ + 1) return bad();
      h.registers_[i] = r;
    }
    return h;
  }
  if (b[0] != 'S' || (b.size() - 1) % 3 != 0) return bad();
  for (size_t p = 1; p < b.size(); p += 3) {
    size_t i = size_t(uint8_t(b[p])) | (size_t(uint8_t(b[p + 1])) << 8);
    uint8_t r = uint8_t(b[p + 2]);
    if (i >= size_t(kRegisters) || r > kQ + 1) return bad();
    h.registers_[i] = std::max(h.registers_[i], r);
  }
  return h;
}

// --- k minimum values

void UserSet::add_hash(uint64_t h) {
  auto it = std::lower_bound(hashes_.begin(), hashes_.end(), h);
  if (it != hashes_.end() && *it == h) return;
  if (hashes_.size() >= kCapacity) {
    if (it == hashes_.end()) return;  // larger than every kept hash
    hashes_.pop_back();
    it = std::lower_bound(hashes_.begin(), hashes_.end(), h);
  }
  hashes_.insert(it, h);
}

void UserSet::merge(const UserSet& other) {
  if (&other == this) return;
  if (hashes_.capacity() < kCapacity + 1) hashes_.reserve(kCapacity + 1);
  for (uint64_t h : other.hashes_) {  // ascending: once one cannot enter, none after it can
    if (hashes_.size() >= kCapacity && h >= hashes_.back()) break;
    add_hash(h);
  }
}

void UserSet::merge_bytes(std::string_view bytes) {
  if (hashes_.capacity() < kCapacity + 1) hashes_.reserve(kCapacity + 1);
  for (size_t p = 0; p + 8 <= bytes.size(); p += 8) {
    uint64_t h = 0;
    for (int b = 0; b < 8; ++b) h |= uint64_t(uint8_t(bytes[p + size_t(b)])) << (8 * b);
    if (hashes_.size() >= kCapacity && h >= hashes_.back()) break;
    add_hash(h);
  }
}

double UserSet::count() const {
  if (hashes_.size() < kCapacity) return double(hashes_.size());
  // The K-th smallest of n uniform hashes sits near K / n of the range: n ~ (K - 1) / u_K.
  const double u = (double(hashes_.back()) + 1.0) / 18446744073709551616.0;
  return std::max(double(kCapacity), double(kCapacity - 1) / u);
}

std::string UserSet::serialize() const {
  std::string out;
  out.reserve(hashes_.size() * 8);
  for (uint64_t h : hashes_)
    for (int b = 0; b < 8; ++b) out.push_back(char((h >> (8 * b)) & 0xff));
  return out;
}

UserSet UserSet::parse(std::string_view bytes) {
  UserSet s;
  s.merge_bytes(bytes);
  return s;
}

// --- base64 (RFC 4648, with padding)

namespace {
const char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
}

std::string base64_encode(std::string_view in) {
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 3 <= in.size(); i += 3) {
    uint32_t v = uint32_t(uint8_t(in[i])) << 16 | uint32_t(uint8_t(in[i + 1])) << 8 | uint8_t(in[i + 2]);
    for (int s : {18, 12, 6, 0}) out.push_back(kB64[(v >> s) & 63]);
  }
  if (size_t rest = in.size() - i) {
    uint32_t v = uint32_t(uint8_t(in[i])) << 16 | (rest == 2 ? uint32_t(uint8_t(in[i + 1])) << 8 : 0);
    out.push_back(kB64[(v >> 18) & 63]);
    out.push_back(kB64[(v >> 12) & 63]);
    out.push_back(rest == 2 ? kB64[(v >> 6) & 63] : '=');
    out.push_back('=');
  }
  return out;
}

Result<std::string> base64_decode(std::string_view in) {
  auto bad = [] { return invalid_argument("malformed base64 text"); };
  if (in.size() % 4) return bad();
  std::string out;
  out.reserve(in.size() / 4 * 3);
  for (size_t i = 0; i < in.size(); i += 4) {
    uint32_t v = 0;
    int pad = 0;
    for (size_t k = 0; k < 4; ++k) {
      char c = in[i + k];
      int d;
      if (c == '=' && i + 4 == in.size() && k >= 2) {
        d = 0;
        ++pad;
      } else if (pad) {
        return bad();
      } else {
        const char* p = std::find(kB64, kB64 + 64, c);
        if (p == kB64 + 64) return bad();
        d = int(p - kB64);
      }
      v = v << 6 | uint32_t(d);
    }
    out.push_back(char((v >> 16) & 0xff));
    if (pad < 2) out.push_back(char((v >> 8) & 0xff));
    if (pad < 1) out.push_back(char(v & 0xff));
  }
  return out;
}

}  // namespace faceweave::analytics
