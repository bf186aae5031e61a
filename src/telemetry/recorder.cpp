#include "telemetry/recorder.h"

#include <pthread.h>

#include <algorithm>
#include <chrono>

#include "core/log.h"
#include "telemetry/paths.h"

namespace faceweave::telemetry {
namespace {
using Clock = std::chrono::steady_clock;
constexpr int kMaxIdleSleepMs = 20;
}  // namespace

Recorder::Recorder(const RecorderOptions& options, std::unique_ptr<EventSink> sink)
    : options_(options), sink_(std::move(sink)), queue_(options.queue_capacity) {}

Result<std::unique_ptr<Recorder>> Recorder::create(const RecorderOptions& options,
                                                   std::unique_ptr<EventSink> sink, Identity first_identity) {
  if (!sink) return invalid_argument("telemetry: a recorder needs a sink");
  if (options.queue_capacity < 256)
    return invalid_argument("telemetry: the queue needs room for 256 events at least");
  if (options.batch_size < 1) return invalid_argument("telemetry: the batch size must be at least 1");
  if (options.flush_interval_ms < 1)
    return invalid_argument("telemetry: the flush interval must be at least 1 ms");
  std::unique_ptr<Recorder> r(new Recorder(options, std::move(sink)));
  r->identities_.push_back(std::move(first_identity));
  // One spare slot for the telemetry.dropped event the writer may add to a full batch.
  r->buffer_.resize(options.batch_size + 1);
  try {
    r->writer_ = std::thread([raw = r.get()] { raw->run(); });
  } catch (const std::system_error& e) {
    return internal_error(std::string("telemetry: cannot start the writer thread: ") + e.what());
  }
  return r;
}

Recorder::~Recorder() {
  {
    std::lock_guard lock(mutex_);
    stop_.store(true, std::memory_order_release);
  }
  wake_writer_.notify_all();
  if (writer_.joinable()) writer_.join();
}

Result<uint16_t> Recorder::add_identity(Identity identity) {
  std::lock_guard lock(mutex_);
  if (identities_.size() >= 0xFFFF) return internal_error("telemetry: too many sessions in one process");
  identities_.push_back(std::move(identity));
  return uint16_t(identities_.size() - 1);
}

Status Recorder::flush() {
  std::unique_lock lock(mutex_);
  if (!writer_.joinable() || stop_.load()) return health_;
  uint64_t ticket = ++flush_requested_;
  wake_writer_.notify_all();
  flushed_.wait(lock, [&] { return flush_done_ >= ticket; });
  return health_;
}

Status Recorder::health() const {
  std::lock_guard lock(mutex_);
  return health_;
}

void Recorder::fail(Status status) {
  {
    std::lock_guard lock(mutex_);
    if (!health_.is_ok()) return;
    health_ = status;
  }
  disabled_.store(true, std::memory_order_relaxed);
  core::log_warning("telemetry is off for the rest of this run: " + status.message());
}

void Recorder::note_drops(size_t* count) {
  uint64_t dropped = dropped_.load(std::memory_order_relaxed);
  if (dropped == dropped_reported_ || *count > options_.batch_size) return;
  if (!warned_drops_) {
    warned_drops_ = true;
    core::log_warning(
        "telemetry: events are being dropped because they arrive faster than they can be stored (" +
        std::to_string(dropped) +
        " so far); the losses are counted in telemetry.dropped events. This warning is shown once.");
  }
  EventBuilder b(EventKind::kTelemetryDropped);
  b.set_int("dropped", int64_t(dropped - dropped_reported_)).set_int("total", int64_t(dropped));
  Event e = b.event();
  e.ts_ms = unix_ms();
  e.identity = 0;
  e.sample_rate = 1.0;
  buffer_[(*count)++] = e;
  dropped_reported_ = dropped;
}

bool Recorder::commit(size_t count) {
  if (count == 0) return true;
  {
    // Identities only ever grow; copy the new ones when a batch refers to a slot not seen yet.
    uint16_t highest = 0;
    for (size_t i = 0; i < count; ++i) highest = std::max(highest, buffer_[i].identity);
    if (highest >= identity_snapshot_.size()) {
      std::lock_guard lock(mutex_);
      identity_snapshot_ = identities_;
    }
  }
  rows_.clear();
  auto ids = sink_->write(std::span<const Event>(buffer_.data(), count), identity_snapshot_,
                          options_.debug_sink ? &rows_ : nullptr);
  if (!ids.is_ok()) {
    failed_.fetch_add(count, std::memory_order_relaxed);
    fail(ids.status());
    return false;
  }
  committed_.fetch_add(count, std::memory_order_relaxed);
  ++batches_;
  if (options_.debug_sink)
    for (const auto& row : rows_) options_.debug_sink(telemetry_row_json(row));
  if (options_.on_commit) options_.on_commit(CommitInfo{batches_, count, *ids});
  return true;
}

void Recorder::run() {
  // Named, so `top -H` and profilers show where telemetry's time goes.
  pthread_setname_np(pthread_self(), "fw-telemetry");
  if (options_.startup_task) options_.startup_task(stop_);
  const auto interval = std::chrono::milliseconds(options_.flush_interval_ms);
  const size_t batch = options_.batch_size;
  size_t count = 0;
  Clock::time_point oldest{};
  int sleep_ms = 1;
  for (;;) {
    uint64_t flush_target;
    bool stopping;
    {
      std::lock_guard lock(mutex_);
      flush_target = flush_requested_;
      stopping = stop_.load(std::memory_order_acquire);
    }
    bool draining = stopping || flush_target > flush_done_;

    size_t got = count < batch ? queue_.pop_bulk(buffer_.data() + count, batch - count) : 0;
    bool empty = count < batch && got == 0;
    if (got && count == 0) oldest = Clock::now();
    count += got;
    if (disabled_.load(std::memory_order_relaxed)) {
      // Storage failed: keep emptying the queue so producers never notice, but store nothing.
      failed_.fetch_add(count, std::memory_order_relaxed);
      count = 0;
    } else {
      note_drops(&count);
      if (count >= batch || (count && (Clock::now() - oldest >= interval || (empty && draining)))) {
        commit(count);
        count = 0;
      }
    }

    if (empty && draining) {
      {
        std::lock_guard lock(mutex_);
        flush_done_ = flush_target;
      }
      flushed_.notify_all();
      if (stopping) return;
      continue;
    }
    if (!empty) {
      sleep_ms = 1;
      continue;
    }
    std::unique_lock lock(mutex_);
    wake_writer_.wait_for(lock, std::chrono::milliseconds(sleep_ms),
                          [&] { return stop_.load() || flush_requested_ > flush_done_; });
    sleep_ms = std::min(sleep_ms * 2, kMaxIdleSleepMs);
  }
}

}  // namespace faceweave::telemetry
