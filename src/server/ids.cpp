#include "server/ids.h"

#include <random>

namespace faceweave::server {

std::string new_id(char prefix) {
  static thread_local std::mt19937_64 rng{std::random_device{}() ^ (uint64_t(std::random_device{}()) << 32)};
  static const char* kHex = "0123456789abcdef";
  std::string id{prefix, '_'};
  for (int i = 0; i < 24; ++i) id += kHex[rng() & 15];
  return id;
}

bool is_id(const std::string& s, char prefix) {
  if (s.size() != 26 || s[0] != prefix || s[1] != '_') return false;
  for (size_t i = 2; i < s.size(); ++i)
    if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) return false;
  return true;
}

}  // namespace faceweave::server
