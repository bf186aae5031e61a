// A token bucket per client key (the remote address): `rate` requests a second with bursts of `burst`.
// Buckets idle long enough to be full again are forgotten, so memory stays bounded by active clients.
#pragma once

#include <chrono>
#include <mutex>
#include <string>
#include <unordered_map>

namespace faceweave::server {

class RateLimiter {
 public:
  RateLimiter(double rate, double burst) : rate_(rate), burst_(burst) {}

  // True when `key` may make a request now; otherwise `retry_after_s` says when it may.
  bool allow(const std::string& key, double* retry_after_s = nullptr) {
    const double now = seconds();
    std::lock_guard lock(mutex_);
    if (buckets_.size() > 10000) forget_full(now);
    auto [it, fresh] = buckets_.try_emplace(key, Bucket{burst_, now});
    Bucket& b = it->second;
    if (!fresh) b.tokens = std::min(burst_, b.tokens + (now - b.last) * rate_);
    b.last = now;
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return true;
    }
    if (retry_after_s) *retry_after_s = (1 - b.tokens) / rate_;
    return false;
  }

 private:
  struct Bucket {
    double tokens;
    double last;
  };
  static double seconds() {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
  }
  void forget_full(double now) {
    for (auto it = buckets_.begin(); it != buckets_.end();)
      it = it->second.tokens + (now - it->second.last) * rate_ >= burst_ ? buckets_.erase(it) : std::next(it);
  }
  double rate_;
  double burst_;
  std::mutex mutex_;
  std::unordered_map<std::string, Bucket> buckets_;
};

}  // namespace faceweave::server
