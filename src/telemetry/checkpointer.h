// Copies the write-ahead log back into the database file on its own thread and connection. A checkpoint
// reads the log, writes the pages and fsyncs twice: on the writer thread that stalled ingest for tens of
// milliseconds at a time, long enough to fill the queue. The writer's connection turns automatic
// checkpoints off and calls request() from SQLite's WAL hook once the log holds `pages` pages; PASSIVE
// checkpoints never block the writer, and SQLite restarts the log from its start once all of it is copied.
#pragma once

#include <sqlite3.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

namespace faceweave::telemetry {

class Checkpointer {
 public:
  // Starts the thread; null when its connection cannot be opened (then the writer checkpoints itself).
  static std::unique_ptr<Checkpointer> start(const std::string& path, int busy_timeout_ms);
  ~Checkpointer();  // stops the thread; the last connection to close checkpoints what is left
  Checkpointer(const Checkpointer&) = delete;
  Checkpointer& operator=(const Checkpointer&) = delete;

  // Installs the WAL hook on the writer's connection: a checkpoint is requested at `pages` log pages.
  void attach(sqlite3* writer, int pages);
  void request();
  uint64_t checkpoints() const { return checkpoints_.load(std::memory_order_relaxed); }

 private:
  Checkpointer() = default;
  void run();
  static int on_commit(void* self, sqlite3* db, const char* name, int pages);

  sqlite3* db_ = nullptr;
  int threshold_ = 1024;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool requested_ = false;
  bool stop_ = false;
  std::atomic<uint64_t> checkpoints_{0};
  std::thread thread_;
};

}  // namespace faceweave::telemetry
