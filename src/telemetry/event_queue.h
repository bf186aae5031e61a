// A bounded multi-producer queue of Events over moodycamel::ConcurrentQueue. Every block is allocated up
// front and only try_enqueue is used, so a push never allocates (beyond each producer thread's one-time
// producer record) and fails instead of growing when the queue is full.
#pragma once

#include <concurrentqueue/concurrentqueue.h>

#include <cstddef>
#include <cstdlib>
#include <cstring>

#include "telemetry/event.h"

namespace faceweave::telemetry {

struct EventQueueTraits : moodycamel::ConcurrentQueueDefaultTraits {
  // 256 events (40 KB) per block: fewer block hand-offs between producer and writer.
  static const size_t BLOCK_SIZE = 256;
  // A producer can only hold as many blocks as its block index has entries (try_enqueue never grows the
  // index), so this bounds one thread's share: 1024 x 256 events.
  static const size_t IMPLICIT_INITIAL_INDEX_SIZE = 1024;
  // Every page is touched when the queue (or a thread's producer record) is allocated, so the first pass
  // through fresh blocks takes no page faults on a recording thread: each costs microseconds and showed
  // up as the p99 of record() (docs/benchmarks.md).
  static void* malloc(size_t size) {
    void* p = std::malloc(size);
    if (p) std::memset(p, 0, size);
    return p;
  }
  static void free(void* p) { std::free(p); }
};

class EventQueue {
 public:
  // Each producer thread reserves two spare blocks up front; more threads may record, sharing the rest.
  static constexpr size_t kMaxProducerThreads = 8;

  explicit EventQueue(size_t capacity) : queue_(capacity, 0, kMaxProducerThreads) {}

  bool try_push(const Event& event) noexcept { return queue_.try_enqueue(event); }
  size_t pop_bulk(Event* out, size_t max) { return queue_.try_dequeue_bulk(out, max); }
  size_t size_approx() const { return queue_.size_approx(); }

 private:
  moodycamel::ConcurrentQueue<Event, EventQueueTraits> queue_;
};

}  // namespace faceweave::telemetry
