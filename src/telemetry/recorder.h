// The hot path and the writer thread.
//
// record() copies a 192-byte Event into a pre-sized bounded lock-free queue (moodycamel ConcurrentQueue,
// try_enqueue only): no lock, no allocation, no I/O, no system call. The first record() from a thread makes
// the queue allocate that thread's producer once; after that nothing is allocated. When the queue is full
// the event is dropped and counted with one relaxed atomic add; the writer thread notices, stores a
// telemetry.dropped event and sends one warning to the log sink.
//
// The writer thread drains the queue in bulk and hands batches of up to batch_size events to the sink (one
// transaction each). It commits when a batch is full, when the oldest buffered event has waited
// flush_interval_ms, on flush() and on shutdown. When the queue is empty it sleeps, backing off from 1 ms
// to 20 ms, so a busy producer never waits long and an idle process wakes rarely. A sink failure disables
// the recorder for good (health() says why): later events are discarded, and the host keeps running.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "faceweave/status.h"
#include "faceweave/telemetry.h"
#include "telemetry/event.h"
#include "telemetry/event_queue.h"

namespace faceweave::telemetry {

// Who an event belongs to: resolved by the writer from the event's identity slot.
struct Identity {
  std::string user;  // pseudonym
  std::string session;
  std::string app_version;
  std::string platform = "";  // coarse, allow-listed (session.h): "linux-x86_64", "web"; '' unknown
};

struct IdRange {
  int64_t first = 0;
  int64_t last = 0;
};

class EventSink {
 public:
  virtual ~EventSink() = default;
  // Stores `events` in one transaction: all or none. When `rows` is not null, appends each event exactly
  // as stored (for --telemetry-debug). Returns the ids given.
  virtual Result<IdRange> write(std::span<const Event> events, std::span<const Identity> identities,
                                std::vector<TelemetryEventRow>* rows) = 0;
};

struct CommitInfo {
  uint64_t batch = 0;  // 1, 2, ... per recorder
  size_t rows = 0;
  IdRange ids;
};

struct RecorderOptions {
  size_t queue_capacity = 16384;
  size_t batch_size = 8192;
  int flush_interval_ms = 250;
  // Called on the writer thread before it drains anything (retention runs here, off the host's thread).
  // `stop` turns true when the recorder is being destroyed: a long task should give up then.
  std::function<void(const std::atomic<bool>& stop)> startup_task;
  // Called on the writer thread with each stored event as one JSON line (--telemetry-debug).
  std::function<void(std::string_view)> debug_sink;
  // Called on the writer thread after each commit (tests: the durability test reports batches).
  std::function<void(const CommitInfo&)> on_commit;
};

class Recorder {
 public:
  // Starts the writer thread. `first_identity` takes slot 0.
  static Result<std::unique_ptr<Recorder>> create(const RecorderOptions& options,
                                                  std::unique_ptr<EventSink> sink, Identity first_identity);
  ~Recorder();  // flushes, then stops the writer
  Recorder(const Recorder&) = delete;
  Recorder& operator=(const Recorder&) = delete;

  // Queues a copy of `event`. False when it was dropped (queue full) or the recorder is disabled.
  bool record(const Event& event) noexcept {
    if (disabled_.load(std::memory_order_relaxed) || event.kind >= EventKind::kCount) return false;
    if (queue_.try_push(event)) return true;
    dropped_.fetch_add(1, std::memory_order_relaxed);
    return false;
  }

  // Like record(), but a full queue is not counted as a drop: for a caller that waits and tries again
  // (benchmarks, bulk imports).
  bool try_record(const Event& event) noexcept {
    if (disabled_.load(std::memory_order_relaxed) || event.kind >= EventKind::kCount) return false;
    return queue_.try_push(event);
  }

  // Adds an identity (a new session, another user); returns its slot for Event::identity. Takes a lock:
  // call it when a session starts, not per event.
  Result<uint16_t> add_identity(Identity identity);

  // Waits until everything queued before the call is committed or failed; returns health().
  Status flush();
  Status health() const;
  bool disabled() const { return disabled_.load(std::memory_order_relaxed); }
  uint64_t committed() const { return committed_.load(std::memory_order_relaxed); }
  uint64_t dropped() const { return dropped_.load(std::memory_order_relaxed); }
  uint64_t failed() const { return failed_.load(std::memory_order_relaxed); }

 private:
  Recorder(const RecorderOptions& options, std::unique_ptr<EventSink> sink);
  void run();
  // Commits buffer_[0, count); false when the sink failed.
  bool commit(size_t count);
  void note_drops(size_t* count);
  void fail(Status status);

  RecorderOptions options_;
  std::unique_ptr<EventSink> sink_;
  EventQueue queue_;

  std::atomic<bool> disabled_{false};
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> dropped_{0};
  std::atomic<uint64_t> committed_{0};
  std::atomic<uint64_t> failed_{0};

  // Writer-thread state.
  std::vector<Event> buffer_;
  std::vector<Identity> identity_snapshot_;
  std::vector<TelemetryEventRow> rows_;
  uint64_t dropped_reported_ = 0;
  uint64_t batches_ = 0;
  bool warned_drops_ = false;

  mutable std::mutex mutex_;  // identities_, health_, flush bookkeeping
  std::condition_variable wake_writer_;
  std::condition_variable flushed_;
  std::vector<Identity> identities_;
  Status health_;
  uint64_t flush_requested_ = 0;
  uint64_t flush_done_ = 0;

  std::thread writer_;
};

}  // namespace faceweave::telemetry
