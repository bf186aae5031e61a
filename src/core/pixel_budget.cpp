#include "core/pixel_budget.h"

#include <algorithm>
#include <utility>

namespace faceweave::core {

PixelBudget::PixelBudget(int64_t capacity) : capacity_(std::max<int64_t>(1, capacity)) {}

PixelBudget::Lease::Lease(Lease&& other) noexcept
    : budget_(std::exchange(other.budget_, nullptr)), pixels_(std::exchange(other.pixels_, 0)) {}

PixelBudget::Lease& PixelBudget::Lease::operator=(Lease&& other) noexcept {
  if (this != &other) {
    release();
    budget_ = std::exchange(other.budget_, nullptr);
    pixels_ = std::exchange(other.pixels_, 0);
  }
  return *this;
}

PixelBudget::Lease::~Lease() {
  release();
}

void PixelBudget::Lease::release() {
  if (budget_) budget_->give_back(pixels_);
  budget_ = nullptr;
  pixels_ = 0;
}

int64_t PixelBudget::clamp(int64_t pixels) const {
  return std::clamp<int64_t>(pixels, 0, capacity_);
}

PixelBudget::Lease PixelBudget::acquire(int64_t pixels) {
  std::unique_lock lock(mutex_);
  freed_.wait(lock, [&] { return in_flight_ + clamp(pixels) <= capacity_; });
  const int64_t held = clamp(pixels);
  in_flight_ += held;
  return Lease(this, held);
}

std::optional<PixelBudget::Lease> PixelBudget::try_acquire_for(int64_t pixels,
                                                               std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  if (!freed_.wait_for(lock, timeout, [&] { return in_flight_ + clamp(pixels) <= capacity_; }))
    return std::nullopt;
  const int64_t held = clamp(pixels);
  in_flight_ += held;
  return Lease(this, held);
}

void PixelBudget::give_back(int64_t pixels) {
  {
    std::lock_guard lock(mutex_);
    in_flight_ -= pixels;
  }
  freed_.notify_all();
}

int64_t PixelBudget::capacity() const {
  std::lock_guard lock(mutex_);
  return capacity_;
}

int64_t PixelBudget::in_flight() const {
  std::lock_guard lock(mutex_);
  return in_flight_;
}

void PixelBudget::set_capacity(int64_t capacity) {
  {
    std::lock_guard lock(mutex_);
    capacity_ = std::max<int64_t>(1, capacity);
  }
  freed_.notify_all();
}

PixelBudget& PixelBudget::global() {
  static PixelBudget budget;
  return budget;
}

}  // namespace faceweave::core
