#include "server/sqlite_job_store.h"

#include <sqlite3.h>

#include <chrono>
#include <ctime>
#include <filesystem>

#include "core/private_files.h"
#include "server/ids.h"
#include "server/json_input.h"

namespace faceweave::server {
namespace {
using nlohmann::json;

struct Stmt {
  sqlite3_stmt* s = nullptr;
  ~Stmt() { sqlite3_finalize(s); }
};

const char* kColumns =
    "id, status, created_ms, started_ms, finished_ms, attempts, cancel_requested, request, kind, progress, "
    "frames_done, frames_total, fps, eta_s, error_code, error_message, timings, result";

std::string text(sqlite3_stmt* s, int i) {
  const unsigned char* t = sqlite3_column_text(s, i);
  return t ? reinterpret_cast<const char*>(t) : "";
}

JobRecord read_row(sqlite3_stmt* s) {
  JobRecord j;
  j.id = text(s, 0);
  j.status = text(s, 1);
  j.created_ms = sqlite3_column_int64(s, 2);
  j.started_ms = sqlite3_column_int64(s, 3);
  j.finished_ms = sqlite3_column_int64(s, 4);
  j.attempts = sqlite3_column_int(s, 5);
  j.cancel_requested = sqlite3_column_int(s, 6) != 0;
  j.request = stored_job_json(text(s, 7), json(json::value_t::discarded));
  j.kind = text(s, 8);
  j.progress = sqlite3_column_double(s, 9);
  j.frames_done = sqlite3_column_int64(s, 10);
  j.frames_total = sqlite3_column_int64(s, 11);
  j.fps = sqlite3_column_double(s, 12);
  j.eta_s = sqlite3_column_double(s, 13);
  j.error_code = text(s, 14);
  j.error_message = text(s, 15);
  j.timings = stored_job_json(text(s, 16), json::object());
  j.result = stored_job_json(text(s, 17), json());
  return j;
}

}  // namespace

Result<std::unique_ptr<SqliteJobStore>> SqliteJobStore::open(const std::string& path) {
  std::unique_ptr<SqliteJobStore> store(new SqliteJobStore());
  store->path_ = path;
  // SQLite takes an empty file for a new database: a jobs.db truncated to 0 bytes would silently lose
  // every job. A missing file is a fresh start; an empty one is damage to report.
  std::error_code ec;
  if (std::filesystem::exists(path, ec) && std::filesystem::file_size(path, ec) == 0 && !ec)
    return io_error(
        "the job database " + path +
        " is empty (0 bytes): it was truncated. Restore it from a backup, or delete it to start with "
        "no jobs");
  int rc = sqlite3_open_v2(path.c_str(), &store->db_,
                           SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, nullptr);
  if (rc != SQLITE_OK)
    return io_error("cannot open the job database " + path + " (" + sqlite3_errstr(rc) +
                    "); check the data dir is writable");
  sqlite3_busy_timeout(store->db_, 5000);
  // Requests name people's files: owner-only, whatever the umask (the -wal and -shm files SQLite creates
  // later copy the database's mode).
  for (const char* suffix : {"", "-wal", "-shm"}) FW_RETURN_IF_ERROR(core::make_private_file(path + suffix));
  FW_RETURN_IF_ERROR(store->exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"));
  FW_RETURN_IF_ERROR(store->exec(
      "CREATE TABLE IF NOT EXISTS jobs ("
      " seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, status TEXT NOT NULL,"
      " created_ms INTEGER NOT NULL, started_ms INTEGER NOT NULL DEFAULT 0, finished_ms INTEGER NOT NULL "
      "DEFAULT 0,"
      " attempts INTEGER NOT NULL DEFAULT 0, cancel_requested INTEGER NOT NULL DEFAULT 0, request TEXT NOT "
      "NULL,"
      " kind TEXT NOT NULL, progress REAL NOT NULL DEFAULT 0, frames_done INTEGER NOT NULL DEFAULT 0,"
      " frames_total INTEGER NOT NULL DEFAULT 0, fps REAL NOT NULL DEFAULT 0, eta_s REAL NOT NULL DEFAULT 0,"
      " error_code TEXT, error_message TEXT, timings TEXT, result TEXT);"
      "CREATE INDEX IF NOT EXISTS jobs_status ON jobs(status, seq);"));
  return store;
}

SqliteJobStore::~SqliteJobStore() {
  sqlite3_close(db_);
}

Status SqliteJobStore::exec(const std::string& sql) {
  char* err = nullptr;
  int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err);
  if (rc == SQLITE_OK) return Status::ok();
  std::string msg = err ? err : sqlite3_errstr(rc);
  sqlite3_free(err);
  return io_error("job database " + path_ + ": " + msg);
}

#define FW_SQL(rc, what)                                              \
  if ((rc) != SQLITE_OK && (rc) != SQLITE_ROW && (rc) != SQLITE_DONE) \
    return io_error(std::string("job database: ") + (what) + ": " + sqlite3_errmsg(db_));

Result<JobRecord> SqliteJobStore::submit(const json& request, const std::string& kind,
                                         const std::string& id) {
  if (!id.empty() && !is_id(id, 'j')) return invalid_argument("job ids look like j_ and 24 hex digits");
  std::lock_guard lock(mutex_);
  Stmt st;
  int rc = sqlite3_prepare_v2(
      db_, "INSERT INTO jobs(id, status, created_ms, request, kind) VALUES(?,?,?,?,?)", -1, &st.s, nullptr);
  FW_SQL(rc, "prepare insert");
  JobRecord j;
  j.id = id.empty() ? new_id('j') : id;
  j.status = "queued";
  j.created_ms = now_ms();
  j.request = request;
  j.kind = kind;
  const std::string req = request.dump();
  sqlite3_bind_text(st.s, 1, j.id.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(st.s, 2, "queued", -1, SQLITE_STATIC);
  sqlite3_bind_int64(st.s, 3, j.created_ms);
  sqlite3_bind_text(st.s, 4, req.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(st.s, 5, kind.c_str(), -1, SQLITE_TRANSIENT);
  rc = sqlite3_step(st.s);
  FW_SQL(rc, "insert job");
  return j;
}

Result<std::optional<JobRecord>> SqliteJobStore::claim() {
  std::lock_guard lock(mutex_);
  Stmt st;
  const std::string sql = std::string(
                              "UPDATE jobs SET status='running', started_ms=?, attempts=attempts+1, "
                              "progress=0, frames_done=0 WHERE seq=(SELECT seq FROM jobs WHERE "
                              "status='queued' ORDER BY seq LIMIT 1) AND status='queued' RETURNING ") +
                          kColumns;
  int rc = sqlite3_prepare_v2(db_, sql.c_str(), -1, &st.s, nullptr);
  FW_SQL(rc, "prepare claim");
  sqlite3_bind_int64(st.s, 1, now_ms());
  rc = sqlite3_step(st.s);
  FW_SQL(rc, "claim job");
  if (rc != SQLITE_ROW) return std::optional<JobRecord>();
  JobRecord j = read_row(st.s);
  sqlite3_step(st.s);
  return std::optional<JobRecord>(std::move(j));
}

Status SqliteJobStore::update_progress(const JobRecord& job, const JobProgress& p) {
  const std::string& id = job.id;
  std::lock_guard lock(mutex_);
  Stmt st;
  int rc = sqlite3_prepare_v2(db_,
                              "UPDATE jobs SET progress=?, frames_done=?, frames_total=?, fps=?, eta_s=? "
                              "WHERE id=? AND status='running'",
                              -1, &st.s, nullptr);
  FW_SQL(rc, "prepare progress");
  sqlite3_bind_double(st.s, 1, p.progress);
  sqlite3_bind_int64(st.s, 2, p.frames_done);
  sqlite3_bind_int64(st.s, 3, p.frames_total);
  sqlite3_bind_double(st.s, 4, p.fps);
  sqlite3_bind_double(st.s, 5, p.eta_s);
  sqlite3_bind_text(st.s, 6, id.c_str(), -1, SQLITE_TRANSIENT);
  rc = sqlite3_step(st.s);
  FW_SQL(rc, "update progress");
  return Status::ok();
}

Status SqliteJobStore::finish(const JobRecord& job, const std::string& status, const std::string& error_code,
                              const std::string& error_message, const json& timings, const json& result) {
  const std::string& id = job.id;
  std::lock_guard lock(mutex_);
  Stmt st;
  int rc =
      sqlite3_prepare_v2(db_,
                         "UPDATE jobs SET status=?, finished_ms=?, error_code=?, error_message=?, timings=?, "
                         "result=?, progress=CASE WHEN ?='done' THEN 1 ELSE progress END WHERE id=?",
                         -1, &st.s, nullptr);
  FW_SQL(rc, "prepare finish");
  const std::string t = timings.dump();
  const std::string r = result.is_null() ? "" : result.dump();
  sqlite3_bind_text(st.s, 1, status.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64(st.s, 2, now_ms());
  if (error_code.empty())
    sqlite3_bind_null(st.s, 3);
  else
    sqlite3_bind_text(st.s, 3, error_code.c_str(), -1, SQLITE_TRANSIENT);
  if (error_message.empty())
    sqlite3_bind_null(st.s, 4);
  else
    sqlite3_bind_text(st.s, 4, error_message.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(st.s, 5, t.c_str(), -1, SQLITE_TRANSIENT);
  if (r.empty())
    sqlite3_bind_null(st.s, 6);
  else
    sqlite3_bind_text(st.s, 6, r.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(st.s, 7, status.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(st.s, 8, id.c_str(), -1, SQLITE_TRANSIENT);
  rc = sqlite3_step(st.s);
  FW_SQL(rc, "finish job");
  return Status::ok();
}

Result<JobRecord> SqliteJobStore::get(const std::string& id) {
  if (!is_id(id, 'j'))
    return not_found("no job " + id.substr(0, 40) + " (ids look like j_ and 24 hex digits)");
  std::lock_guard lock(mutex_);
  Stmt st;
  const std::string sql = std::string("SELECT ") + kColumns + " FROM jobs WHERE id=?";
  int rc = sqlite3_prepare_v2(db_, sql.c_str(), -1, &st.s, nullptr);
  FW_SQL(rc, "prepare get");
  sqlite3_bind_text(st.s, 1, id.c_str(), -1, SQLITE_TRANSIENT);
  rc = sqlite3_step(st.s);
  FW_SQL(rc, "read job");
  if (rc != SQLITE_ROW) return not_found("no job " + id);
  return read_row(st.s);
}

Result<std::vector<JobRecord>> SqliteJobStore::list(const std::string& status, int limit) {
  std::lock_guard lock(mutex_);
  Stmt st;
  const std::string sql = std::string("SELECT ") + kColumns + " FROM jobs" +
                          (status.empty() ? "" : " WHERE status=?1") + " ORDER BY seq DESC LIMIT ?2";
  int rc = sqlite3_prepare_v2(db_, sql.c_str(), -1, &st.s, nullptr);
  FW_SQL(rc, "prepare list");
  if (!status.empty()) sqlite3_bind_text(st.s, 1, status.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_int(st.s, 2, limit);
  std::vector<JobRecord> out;
  while ((rc = sqlite3_step(st.s)) == SQLITE_ROW) out.push_back(read_row(st.s));
  FW_SQL(rc, "list jobs");
  return out;
}

Result<JobRecord> SqliteJobStore::cancel(const std::string& id) {
  FW_ASSIGN_OR_RETURN(JobRecord job, get(id));
  if (job.status != "queued" && job.status != "running")
    return invalid_argument("job " + id + " already " + (job.status == "done" ? "finished" : job.status) +
                            "; only queued or running jobs can be cancelled");
  int changed = 0;
  {
    std::lock_guard lock(mutex_);
    Stmt st;
    int rc =
        sqlite3_prepare_v2(db_,
                           "UPDATE jobs SET cancel_requested=1, status=CASE WHEN status='queued' THEN "
                           "'cancelled' ELSE status END, finished_ms=CASE WHEN status='queued' THEN ? ELSE "
                           "finished_ms END WHERE id=? AND status IN ('queued','running')",
                           -1, &st.s, nullptr);
    FW_SQL(rc, "prepare cancel");
    sqlite3_bind_int64(st.s, 1, now_ms());
    sqlite3_bind_text(st.s, 2, id.c_str(), -1, SQLITE_TRANSIENT);
    rc = sqlite3_step(st.s);
    FW_SQL(rc, "cancel job");
    changed = sqlite3_changes(db_);
  }
  FW_ASSIGN_OR_RETURN(JobRecord after, get(id));
  // The job ended between the read above and the update: it was not cancelled.
  if (changed == 0)
    return invalid_argument("job " + id + " already " + (after.status == "done" ? "finished" : after.status) +
                            "; only queued or running jobs can be cancelled");
  return after;
}

Result<LeaseState> SqliteJobStore::heartbeat(const JobRecord& job) {
  // One server runs every job of this store: nobody else can take one over, so the job is always owned.
  FW_ASSIGN_OR_RETURN(JobRecord now, get(job.id));
  return LeaseState{true, now.cancel_requested};
}

Status SqliteJobStore::release(const JobRecord& job) {
  std::lock_guard lock(mutex_);
  Stmt st;
  int rc = sqlite3_prepare_v2(
      db_, "UPDATE jobs SET status='queued', progress=0, frames_done=0 WHERE id=? AND status='running'", -1,
      &st.s, nullptr);
  FW_SQL(rc, "prepare release");
  sqlite3_bind_text(st.s, 1, job.id.c_str(), -1, SQLITE_TRANSIENT);
  rc = sqlite3_step(st.s);
  FW_SQL(rc, "release job");
  return Status::ok();
}

Result<int> SqliteJobStore::requeue_interrupted() {
  std::lock_guard lock(mutex_);
  FW_RETURN_IF_ERROR(exec(
      "UPDATE jobs SET status=CASE WHEN cancel_requested THEN 'cancelled' ELSE 'queued' END, progress=0, "
      "frames_done=0 WHERE status='running'"));
  return sqlite3_changes(db_);
}

Result<std::pair<int64_t, int64_t>> SqliteJobStore::counts() {
  std::lock_guard lock(mutex_);
  Stmt st;
  int rc = sqlite3_prepare_v2(
      db_,
      "SELECT sum(status='queued'), sum(status='running') FROM jobs WHERE status IN ('queued','running')", -1,
      &st.s, nullptr);
  FW_SQL(rc, "prepare counts");
  rc = sqlite3_step(st.s);
  FW_SQL(rc, "count jobs");
  return std::make_pair(int64_t(sqlite3_column_int64(st.s, 0)), int64_t(sqlite3_column_int64(st.s, 1)));
}

}  // namespace faceweave::server
