#include "telemetry/sampler.h"

#include <chrono>
#include <functional>
#include <thread>

namespace faceweave::telemetry {

Sampler::Sampler(double rate, SamplingMode mode, std::string_view pseudonym)
    : rate_(rate), mode_(mode), in_cohort_(cohort_position(pseudonym) < rate), always_(rate >= 1.0) {}

double Sampler::cohort_position(std::string_view pseudonym) {
  uint64_t v = 0;
  for (size_t i = 0; i < 16 && i < pseudonym.size(); ++i) {
    char c = pseudonym[i];
    int d = c >= '0' && c <= '9' ? c - '0' : (c >= 'a' && c <= 'f' ? c - 'a' + 10 : 0);
    v = (v << 4) | uint64_t(d);
  }
  return double(v >> 11) * 0x1.0p-53;
}

double Sampler::next_uniform() noexcept {
  // A plain thread_local integer needs no TLS guard; it is seeded on first use from the clock and the
  // thread, then advanced with xorshift64*.
  thread_local uint64_t state = 0;
  if (state == 0) {
    uint64_t seed =
        uint64_t(std::chrono::steady_clock::now().time_since_epoch().count()) ^
        (uint64_t(std::hash<std::thread::id>{}(std::this_thread::get_id())) * 0x9E3779B97F4A7C15ull);
    // splitmix64 spreads a low-entropy seed over all bits.
    seed += 0x9E3779B97F4A7C15ull;
    seed = (seed ^ (seed >> 30)) * 0xBF58476D1CE4E5B9ull;
    seed = (seed ^ (seed >> 27)) * 0x94D049BB133111EBull;
    state = (seed ^ (seed >> 31)) | 1;
  }
  state ^= state >> 12;
  state ^= state << 25;
  state ^= state >> 27;
  uint64_t r = state * 0x2545F4914F6CDD1Dull;
  return double(r >> 11) * 0x1.0p-53;
}

}  // namespace faceweave::telemetry
