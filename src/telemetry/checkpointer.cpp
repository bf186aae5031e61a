#include "telemetry/checkpointer.h"

#include <pthread.h>

namespace faceweave::telemetry {

std::unique_ptr<Checkpointer> Checkpointer::start(const std::string& path, int busy_timeout_ms) {
  std::unique_ptr<Checkpointer> c(new Checkpointer());
  if (sqlite3_open_v2(path.c_str(), &c->db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr) !=
      SQLITE_OK) {
    sqlite3_close_v2(c->db_);
    c->db_ = nullptr;
    return nullptr;
  }
  sqlite3_busy_timeout(c->db_, busy_timeout_ms);
  // A connection only knows the database is in WAL mode once it has read it; until then a checkpoint
  // request is silently a no-op.
  if (sqlite3_exec(c->db_, "PRAGMA journal_mode=WAL", nullptr, nullptr, nullptr) != SQLITE_OK) return nullptr;
  try {
    c->thread_ = std::thread([raw = c.get()] { raw->run(); });
  } catch (const std::system_error&) {
    return nullptr;
  }
  return c;
}

Checkpointer::~Checkpointer() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
  if (db_) sqlite3_close_v2(db_);
}

void Checkpointer::attach(sqlite3* writer, int pages) {
  threshold_ = pages;
  sqlite3_wal_autocheckpoint(writer, 0);  // replaces the pragma; also turns the default hook off
  sqlite3_wal_hook(writer, &Checkpointer::on_commit, this);
}

int Checkpointer::on_commit(void* self, sqlite3*, const char*, int pages) {
  auto* c = static_cast<Checkpointer*>(self);
  if (pages >= c->threshold_) c->request();
  return SQLITE_OK;
}

void Checkpointer::request() {
  {
    std::lock_guard lock(mutex_);
    requested_ = true;
  }
  wake_.notify_one();
}

void Checkpointer::run() {
  pthread_setname_np(pthread_self(), "fw-checkpoint");
  std::unique_lock lock(mutex_);
  for (;;) {
    wake_.wait(lock, [this] { return requested_ || stop_; });
    if (stop_) return;
    requested_ = false;
    lock.unlock();
    // PASSIVE: copies what it can without waiting for, or blocking, the writer. Errors are left to the
    // writer, which reports database problems itself.
    int log_pages = 0, copied = 0;
    sqlite3_wal_checkpoint_v2(db_, nullptr, SQLITE_CHECKPOINT_PASSIVE, &log_pages, &copied);
    checkpoints_.fetch_add(1, std::memory_order_relaxed);
    lock.lock();
  }
}

}  // namespace faceweave::telemetry
