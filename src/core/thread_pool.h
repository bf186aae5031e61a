// A fixed pool of worker threads running submitted tasks in FIFO order; submit() returns a future.
// Destruction waits for queued tasks to finish.
#pragma once

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <future>
#include <mutex>
#include <thread>
#include <vector>

namespace faceweave::core {

// Threads a run uses when its options name none: every core, or fewer when several processes share a
// machine (`faceweave worker --threads`). Set once at start.
inline std::atomic<unsigned>& default_thread_limit() {
  static std::atomic<unsigned> limit{0};  // 0: no limit
  return limit;
}
inline unsigned default_thread_count() {
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  const unsigned limit = default_thread_limit().load();
  return limit > 0 ? std::min(limit, cores) : cores;
}

class ThreadPool {
 public:
  explicit ThreadPool(unsigned threads) {
    if (threads == 0) threads = 1;
    for (unsigned i = 0; i < threads; ++i) workers_.emplace_back([this] { loop(); });
  }
  ~ThreadPool() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    cv_.notify_all();
    for (auto& w : workers_) w.join();
  }
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  template <typename F>
  auto submit(F&& f) -> std::future<decltype(f())> {
    auto task = std::make_shared<std::packaged_task<decltype(f())()>>(std::forward<F>(f));
    auto future = task->get_future();
    {
      std::lock_guard lock(mutex_);
      queue_.emplace_back([task] { (*task)(); });
    }
    cv_.notify_one();
    return future;
  }
  size_t size() const { return workers_.size(); }

 private:
  void loop() {
    while (true) {
      std::function<void()> job;
      {
        std::unique_lock lock(mutex_);
        cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
        if (queue_.empty()) return;
        job = std::move(queue_.front());
        queue_.pop_front();
      }
      job();
    }
  }
  std::vector<std::thread> workers_;
  std::deque<std::function<void()>> queue_;
  std::mutex mutex_;
  std::condition_variable cv_;
  bool stopping_ = false;
};

}  // namespace faceweave::core
