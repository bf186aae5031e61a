#include "server/pg_job_store.h"

#include <pthread.h>

#include <chrono>

#include "core/log.h"
#include "server/ids.h"

namespace faceweave::server {
namespace {
using nlohmann::json;

const char* kColumns =
    "id, status, created_ms, started_ms, finished_ms, attempts, cancel_requested, request, kind, progress, "
    "frames_done, frames_total, fps, eta_s, error_code, error_message, timings, result, worker";

// Times come from the database's clock, the one every node shares.
#define FW_PG_NOW_MS "(extract(epoch from clock_timestamp()) * 1000)::bigint"

const char* kSchema = R"(
BEGIN;
SELECT pg_advisory_xact_lock(7240117);
CREATE TABLE IF NOT EXISTS faceweave_jobs (
  seq bigserial PRIMARY KEY,
  id text NOT NULL UNIQUE,
  status text NOT NULL,
  created_ms bigint NOT NULL,
  started_ms bigint NOT NULL DEFAULT 0,
  finished_ms bigint NOT NULL DEFAULT 0,
  attempts integer NOT NULL DEFAULT 0,
  max_attempts integer NOT NULL DEFAULT 3,
  cancel_requested boolean NOT NULL DEFAULT false,
  request text NOT NULL,
  kind text NOT NULL,
  progress double precision NOT NULL DEFAULT 0,
  frames_done bigint NOT NULL DEFAULT 0,
  frames_total bigint NOT NULL DEFAULT 0,
  fps double precision NOT NULL DEFAULT 0,
  eta_s double precision NOT NULL DEFAULT 0,
  error_code text,
  error_message text,
  timings text,
  result text,
  worker text,
  lease_expires timestamptz);
CREATE INDEX IF NOT EXISTS faceweave_jobs_queued ON faceweave_jobs (seq) WHERE status = 'queued';
CREATE INDEX IF NOT EXISTS faceweave_jobs_leases ON faceweave_jobs (lease_expires) WHERE status = 'running';
COMMIT;
)";

std::optional<std::string> text_or_null(const std::string& s) {
  return s.empty() ? std::nullopt : std::optional<std::string>(s);
}

JobRecord read_row(const pg::Rows& r, int i) {
  JobRecord j;
  j.id = r.text(i, 0);
  j.status = r.text(i, 1);
  j.created_ms = r.int64(i, 2);
  j.started_ms = r.int64(i, 3);
  j.finished_ms = r.int64(i, 4);
  j.attempts = int(r.int64(i, 5));
  j.cancel_requested = r.boolean(i, 6);
  j.request = stored_job_json(r.text(i, 7), json(json::value_t::discarded));
  j.kind = r.text(i, 8);
  j.progress = r.real(i, 9);
  j.frames_done = r.int64(i, 10);
  j.frames_total = r.int64(i, 11);
  j.fps = r.real(i, 12);
  j.eta_s = r.real(i, 13);
  j.error_code = r.text(i, 14);
  j.error_message = r.text(i, 15);
  j.timings = stored_job_json(r.text(i, 16), json::object());
  j.result = stored_job_json(r.text(i, 17), json());
  j.worker = r.text(i, 18);
  return j;
}

std::string already(const std::string& id, const std::string& status) {
  return "job " + id + " already " + (status == "done" ? "finished" : status) +
         "; only queued or running jobs can be cancelled";
}

}  // namespace

Result<std::unique_ptr<PgJobStore>> PgJobStore::open(const PgJobStoreOptions& options) {
  if (options.lease_seconds < 3 || options.lease_seconds > 3600)
    return invalid_argument("--lease-seconds must be between 3 and 3600");
  if (options.max_attempts < 1 || options.max_attempts > 100)
    return invalid_argument("--max-attempts must be between 1 and 100");
  std::unique_ptr<PgJobStore> store(new PgJobStore(options));
  FW_ASSIGN_OR_RETURN(store->conn_, pg::Connection::connect(options.url, "faceweave " + options.worker_name));
  FW_RETURN_IF_ERROR(store->conn_->exec_script(kSchema));
  return store;
}

PgJobStore::~PgJobStore() {
  stop_watching();
}

void PgJobStore::stop_watching() {
  stopping_.store(true);
  if (listener_.joinable()) listener_.join();
}

int PgJobStore::heartbeat_ms() const {
  // Often enough that a cancel reaches the worker within a second, and at least three renewals a lease.
  return std::min(1000, options_.lease_seconds * 1000 / 3);
}

Result<pg::Rows> PgJobStore::exec(const std::string& sql, const pg::Params& params) {
  std::lock_guard lock(mutex_);
  return conn_->exec(sql, params);
}

Result<JobRecord> PgJobStore::submit(const json& request, const std::string& kind, const std::string& id) {
  if (!id.empty() && !is_id(id, 'j')) return invalid_argument("job ids look like j_ and 24 hex digits");
  const std::string job_id = id.empty() ? new_id('j') : id;
  FW_ASSIGN_OR_RETURN(
      auto rows,
      exec(std::string("WITH queued AS (INSERT INTO faceweave_jobs (id, status, created_ms, request, kind, "
                       "max_attempts) VALUES ($1, 'queued', " FW_PG_NOW_MS ", $2, $3, $4) RETURNING ") +
               kColumns + "), woken AS (SELECT pg_notify('faceweave_jobs', id) FROM queued) SELECT " +
               kColumns + " FROM queued, woken",
           {job_id, request.dump(), kind, std::to_string(options_.max_attempts)}));
  if (rows.size() != 1) return internal_error("queueing job " + job_id + " returned no row");
  return read_row(rows, 0);
}

Result<int> PgJobStore::reap_expired() {
  FW_ASSIGN_OR_RETURN(
      auto rows,
      exec(
          "UPDATE faceweave_jobs SET "
          " status = CASE WHEN cancel_requested THEN 'cancelled' WHEN attempts >= max_attempts THEN 'failed' "
          "   ELSE 'queued' END,"
          " finished_ms = CASE WHEN cancel_requested OR attempts >= max_attempts THEN " FW_PG_NOW_MS
          "   ELSE 0 END,"
          " error_code = CASE WHEN NOT cancel_requested AND attempts >= max_attempts THEN 'io_error' END,"
          " error_message = CASE WHEN NOT cancel_requested AND attempts >= max_attempts THEN"
          "   'its worker stopped answering in each of ' || attempts || ' attempts (it crashed or lost the "
          "database); check the workers'' logs, then submit it again' END,"
          " worker = NULL, lease_expires = NULL, progress = 0, frames_done = 0 "
          "WHERE seq IN (SELECT seq FROM faceweave_jobs WHERE status = 'running' AND lease_expires < now() "
          "  FOR UPDATE SKIP LOCKED)"));
  if (rows.affected() > 0)
    core::log_info(std::to_string(rows.affected()) + " job(s) whose worker stopped answering queued again");
  return rows.affected();
}

Result<std::optional<JobRecord>> PgJobStore::claim() {
  FW_RETURN_IF_ERROR(reap_expired().status());
  FW_ASSIGN_OR_RETURN(
      auto rows,
      exec(std::string("UPDATE faceweave_jobs SET status = 'running', started_ms = " FW_PG_NOW_MS
                       ", attempts = attempts + 1, progress = 0, frames_done = 0, worker = $1 || '#' || "
                       "(attempts + 1), lease_expires = now() + make_interval(secs => $2) WHERE seq = "
                       "(SELECT seq FROM faceweave_jobs WHERE status = 'queued' ORDER BY seq "
                       "FOR UPDATE SKIP LOCKED LIMIT 1) RETURNING ") +
               kColumns,
           {options_.worker_name, std::to_string(options_.lease_seconds)}));
  if (rows.size() == 0) return std::optional<JobRecord>();
  return std::optional<JobRecord>(read_row(rows, 0));
}

Result<LeaseState> PgJobStore::heartbeat(const JobRecord& job) {
  FW_ASSIGN_OR_RETURN(auto rows, exec("UPDATE faceweave_jobs SET lease_expires = now() + make_interval(secs "
                                      "=> $3) WHERE id = $1 AND worker = $2 AND status = 'running' "
                                      "RETURNING cancel_requested",
                                      {job.id, job.worker, std::to_string(options_.lease_seconds)}));
  if (rows.size() == 0) return LeaseState{false, false};
  return LeaseState{true, rows.boolean(0, 0)};
}

Status PgJobStore::update_progress(const JobRecord& job, const JobProgress& p) {
  return exec(
             "UPDATE faceweave_jobs SET progress = $3, frames_done = $4, frames_total = $5, fps = $6, "
             "eta_s = $7 WHERE id = $1 AND worker = $2 AND status = 'running'",
             {job.id, job.worker, std::to_string(p.progress), std::to_string(p.frames_done),
              std::to_string(p.frames_total), std::to_string(p.fps), std::to_string(p.eta_s)})
      .status();
}

Status PgJobStore::finish(const JobRecord& job, const std::string& status, const std::string& error_code,
                          const std::string& error_message, const json& timings, const json& result) {
  FW_ASSIGN_OR_RETURN(
      auto rows,
      exec("UPDATE faceweave_jobs SET status = $3, finished_ms = " FW_PG_NOW_MS
           ", error_code = $4, error_message = $5, timings = $6, result = $7, lease_expires = NULL, "
           "progress = CASE WHEN $3 = 'done' THEN 1 ELSE progress END "
           "WHERE id = $1 AND worker = $2 AND status = 'running'",
           {job.id, job.worker, status, text_or_null(error_code), text_or_null(error_message), timings.dump(),
            result.is_null() ? std::nullopt : std::optional<std::string>(result.dump())}));
  if (rows.affected() == 0)
    return not_found("job " + job.id + " is no longer held by " + job.worker +
                     " (its lease ran out and another attempt took it); this attempt's outcome is dropped");
  return Status::ok();
}

Status PgJobStore::release(const JobRecord& job) {
  return exec(
             "WITH released AS (UPDATE faceweave_jobs SET status = 'queued', attempts = attempts - 1, "
             "worker = NULL, lease_expires = NULL, progress = 0, frames_done = 0 "
             "WHERE id = $1 AND worker = $2 AND status = 'running' RETURNING id) "
             "SELECT pg_notify('faceweave_jobs', id) FROM released",
             {job.id, job.worker})
      .status();
}

Result<JobRecord> PgJobStore::get(const std::string& id) {
  if (!is_id(id, 'j'))
    return not_found("no job " + id.substr(0, 40) + " (ids look like j_ and 24 hex digits)");
  FW_ASSIGN_OR_RETURN(auto rows,
                      exec(std::string("SELECT ") + kColumns + " FROM faceweave_jobs WHERE id = $1", {id}));
  if (rows.size() == 0) return not_found("no job " + id);
  return read_row(rows, 0);
}

Result<std::vector<JobRecord>> PgJobStore::list(const std::string& status, int limit) {
  FW_ASSIGN_OR_RETURN(auto rows, exec(std::string("SELECT ") + kColumns +
                                          " FROM faceweave_jobs WHERE ($1::text IS NULL OR status = $1) "
                                          "ORDER BY seq DESC LIMIT $2",
                                      {text_or_null(status), std::to_string(limit)}));
  std::vector<JobRecord> out;
  for (int i = 0; i < rows.size(); ++i) out.push_back(read_row(rows, i));
  return out;
}

Result<JobRecord> PgJobStore::cancel(const std::string& id) {
  FW_ASSIGN_OR_RETURN(JobRecord job, get(id));
  if (job.status != "queued" && job.status != "running") return invalid_argument(already(id, job.status));
  FW_ASSIGN_OR_RETURN(
      auto rows,
      exec(std::string("UPDATE faceweave_jobs SET cancel_requested = true, status = CASE WHEN status = "
                       "'queued' THEN 'cancelled' ELSE status END, finished_ms = CASE WHEN status = "
                       "'queued' THEN " FW_PG_NOW_MS " ELSE finished_ms END "
                       "WHERE id = $1 AND status IN ('queued', 'running') RETURNING ") +
               kColumns,
           {id}));
  if (rows.size() == 0) {  // it ended between the read and the update: not cancelled
    FW_ASSIGN_OR_RETURN(JobRecord after, get(id));
    return invalid_argument(already(id, after.status));
  }
  return read_row(rows, 0);
}

Result<int> PgJobStore::requeue_interrupted() {
  // Other nodes' jobs are running: only those whose lease ran out are queued again.
  return reap_expired();
}

Result<std::pair<int64_t, int64_t>> PgJobStore::counts() {
  FW_ASSIGN_OR_RETURN(auto rows, exec("SELECT count(*) FILTER (WHERE status = 'queued'), count(*) FILTER "
                                      "(WHERE status = 'running') FROM faceweave_jobs WHERE status IN "
                                      "('queued', 'running')"));
  return std::make_pair(rows.int64(0, 0), rows.int64(0, 1));
}

bool PgJobStore::watch(std::function<void()> on_new_job) {
  if (listener_.joinable()) return true;
  stopping_.store(false);
  listener_ = std::thread([this, on_new_job = std::move(on_new_job)] { listen_loop(on_new_job); });
  return true;
}

void PgJobStore::listen_loop(std::function<void()> on_new_job) {
  pthread_setname_np(pthread_self(), "fw-listen");
  std::unique_ptr<pg::Connection> conn;
  int backoff_ms = 250;
  auto pause = [this](int ms) {
    for (int waited = 0; waited < ms && !stopping_.load(); waited += 50)
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
  };
  while (!stopping_.load()) {
    if (!conn || conn->broken()) {
      auto c = pg::Connection::connect(options_.url, "faceweave listen " + options_.worker_name);
      if (c) {
        if (Status s = (*c)->exec_script("LISTEN faceweave_jobs"); s.is_ok()) {
          conn = std::move(c).value();
          backoff_ms = 250;
          on_new_job();  // notifications sent while this connection was down are lost: look once
          continue;
        }
      }
      pause(backoff_ms);
      backoff_ms = std::min(backoff_ms * 2, 10000);
      continue;
    }
    auto got = conn->wait_notification(200);
    if (got && *got) on_new_job();
  }
}

}  // namespace faceweave::server
