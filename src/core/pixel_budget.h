// A budget on the pixels being decoded at once, process-wide: a counting semaphore whose units are pixels.
// A decode reserves its image's width x height before it allocates anything and gives it back when done,
// so many parallel uploads of large images wait for each other instead of multiplying the memory in use.
// A reservation larger than the whole budget is clamped to it (it then runs alone). Thread-safe.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>

namespace faceweave::core {

class PixelBudget {
 public:
  static constexpr int64_t kDefaultCapacity = 150'000'000;  // about 450 MB of 8-bit BGR

  explicit PixelBudget(int64_t capacity = kDefaultCapacity);
  PixelBudget(const PixelBudget&) = delete;
  PixelBudget& operator=(const PixelBudget&) = delete;

  // Held pixels, given back when the lease ends (or is moved from and then ends).
  class Lease {
   public:
    Lease() = default;
    Lease(Lease&& other) noexcept;
    Lease& operator=(Lease&& other) noexcept;
    ~Lease();
    int64_t pixels() const { return pixels_; }
    void release();

   private:
    friend class PixelBudget;
    Lease(PixelBudget* budget, int64_t pixels) : budget_(budget), pixels_(pixels) {}
    PixelBudget* budget_ = nullptr;
    int64_t pixels_ = 0;
  };

  // Waits until `pixels` (clamped to the capacity) are free, then holds them.
  Lease acquire(int64_t pixels);
  // The same, waiting at most `timeout`; nullopt when the pixels did not become free in time.
  std::optional<Lease> try_acquire_for(int64_t pixels, std::chrono::milliseconds timeout);

  int64_t capacity() const;
  int64_t in_flight() const;
  // Changes the capacity (at least 1 pixel); leases already held stay valid.
  void set_capacity(int64_t capacity);

  // The budget every image decode in the process shares (core::decode_image uses it).
  static PixelBudget& global();

 private:
  void give_back(int64_t pixels);
  int64_t clamp(int64_t pixels) const;

  mutable std::mutex mutex_;
  std::condition_variable freed_;
  int64_t capacity_;
  int64_t in_flight_ = 0;
};

}  // namespace faceweave::core
