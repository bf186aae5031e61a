#include "pg/connection.h"

#include <arpa/inet.h>
#include <libpq-fe.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <map>
#include <mutex>
#include <regex>
#include <thread>

namespace faceweave::pg {
namespace {

bool has_scheme(const std::string& url) {
  return url.rfind("postgres://", 0) == 0 || url.rfind("postgresql://", 0) == 0;
}

std::string trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

using Clock = std::chrono::steady_clock;

// When interrupt_connections() was first called (Clock's ticks since its epoch; 0: not yet). Set from a
// signal handler: a lock-free atomic and clock_gettime only.
std::atomic<Clock::rep> g_interrupted_at{0};
static_assert(std::atomic<Clock::rep>::is_always_lock_free);

bool interrupted() {
  return g_interrupted_at.load() != 0;
}

// After an interrupt, connection attempts get until a second after it: a server that answers at once is
// reached, a lookup or a server that hangs is given up. The grace counts from the interrupt, not from each
// attempt, so a stop that makes several attempts one after another (a job claim, then the last telemetry
// shipment) waits about a second in all, not a second each.
constexpr std::chrono::milliseconds kGraceAfterInterrupt{1000};
// An attempt begun after that grace (the last telemetry shipment of a slow stop) still gets this long: enough
// for a server that answers (TCP, TLS and a SCRAM login are about four round trips), short when the lookup
// hangs.
constexpr std::chrono::milliseconds kLastChance{500};

// The deadline of an attempt begun at `start`, shortened once an interrupt has come.
Clock::time_point effective_deadline(Clock::time_point deadline, Clock::time_point start) {
  const Clock::rep at = g_interrupted_at.load();
  if (at == 0) return deadline;
  const Clock::time_point interrupted_at{Clock::duration(at)};
  return std::min(deadline, std::max(interrupted_at + kGraceAfterInterrupt, start + kLastChance));
}

Status cancelled(std::string message) {
  return Status(StatusCode::kCancelled, std::move(message));
}

// The connection parameters libpq reads from the URL, by keyword ("" when not given).
std::string conninfo_value(const std::string& url, const char* keyword) {
  PQconninfoOption* opts = PQconninfoParse(url.c_str(), nullptr);
  std::string value;
  for (PQconninfoOption* o = opts; o && o->keyword; ++o)
    if (std::string(o->keyword) == keyword && o->val) value = o->val;
  PQconninfoFree(opts);
  return value;
}

bool is_address(const std::string& host) {
  unsigned char buf[sizeof(in6_addr)];
  return inet_pton(AF_INET, host.c_str(), buf) == 1 || inet_pton(AF_INET6, host.c_str(), buf) == 1;
}

// One getaddrinfo() of a host, on a thread of its own; callers wait for `done` as long as they like.
struct Lookup {
  std::mutex mutex;
  std::condition_variable done_cv;
  Clock::time_point started = Clock::now();
  bool done = false;
  int rc = 0;
  std::string address;
};

// The lookups that have not answered yet, by host: a second attempt for the same host waits for the one
// in flight instead of starting another, so a name service that hangs costs one thread per host, not one
// per attempt. Never destroyed: lookup threads may outlive main().
std::mutex& lookups_mutex() {
  static auto* m = new std::mutex();
  return *m;
}
std::map<std::string, std::shared_ptr<Lookup>>& pending_lookups() {
  static auto* m = new std::map<std::string, std::shared_ptr<Lookup>>();
  return *m;
}

std::shared_ptr<Lookup> start_lookup(const std::string& host) {
  std::lock_guard registry(lookups_mutex());
  auto& pending = pending_lookups();
  if (auto it = pending.find(host); it != pending.end()) return it->second;
  auto lookup = std::make_shared<Lookup>();
  pending[host] = lookup;
  std::thread([lookup, host] {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* found = nullptr;
    const int rc = ::getaddrinfo(host.c_str(), nullptr, &hints, &found);
    std::string address;  // every address found, in order, comma-separated (libpq tries each)
    for (const addrinfo* a = rc == 0 ? found : nullptr; a; a = a->ai_next) {
      char text[INET6_ADDRSTRLEN] = {};
      const void* at = a->ai_family == AF_INET6
                           ? static_cast<const void*>(&reinterpret_cast<sockaddr_in6*>(a->ai_addr)->sin6_addr)
                           : static_cast<const void*>(&reinterpret_cast<sockaddr_in*>(a->ai_addr)->sin_addr);
      if ((a->ai_family != AF_INET && a->ai_family != AF_INET6) ||
          !inet_ntop(a->ai_family, at, text, sizeof(text)))
        continue;
      if (("," + address + ",").find("," + std::string(text) + ",") != std::string::npos) continue;
      address += (address.empty() ? "" : ",") + std::string(text);
    }
    if (found) freeaddrinfo(found);
    {
      std::lock_guard registry(lookups_mutex());
      if (auto it = pending_lookups().find(host); it != pending_lookups().end() && it->second == lookup)
        pending_lookups().erase(it);
    }
    std::lock_guard lock(lookup->mutex);
    lookup->rc = rc;
    lookup->address = address;
    lookup->done = true;
    lookup->done_cv.notify_all();
  }).detach();
  return lookup;
}

// getaddrinfo cannot be given a deadline: it runs on a thread of its own, and the caller stops waiting at
// the deadline or on an interrupt (the thread then ends on its own and its answer is dropped).
Result<std::string> resolve(const std::string& host, Clock::time_point start, Clock::time_point deadline,
                            const std::string& redacted) {
  auto lookup = start_lookup(host);
  std::unique_lock lock(lookup->mutex);
  while (!lookup->done) {
    // After an interrupt, a lookup of this host that has hung for longer than a last chance will not answer
    // this attempt either: give up at once rather than wait again.
    const bool hung = interrupted() && Clock::now() - lookup->started > kLastChance;
    if (hung || Clock::now() >= effective_deadline(deadline, start))
      return interrupted()
                 ? cancelled("stopped while resolving the host of " + redacted)
                 : io_error("cannot reach PostgreSQL at " + redacted + " (resolving the host " + host +
                            " took too long); check the host in --database-url and the name service");
    lookup->done_cv.wait_for(lock, std::chrono::milliseconds(50));
  }
  if (lookup->rc != 0 || lookup->address.empty())
    return io_error("cannot reach PostgreSQL at " + redacted + " (the host " + host +
                    " is unknown: " + gai_strerror(lookup->rc) + "); check the host in --database-url");
  return lookup->address;
}

}  // namespace

void interrupt_connections() {
  Clock::rep expected = 0;  // a second signal does not extend the grace
  g_interrupted_at.compare_exchange_strong(expected,
                                           std::max<Clock::rep>(1, Clock::now().time_since_epoch().count()));
}

std::string redact(const std::string& url) {
  static const std::regex kUserInfo(R"(^(postgres(?:ql)?://[^:/@]*):[^@/]*@)");
  static const std::regex kQueryPassword(R"(([?&]password=)[^&]*)");
  std::string out = std::regex_replace(url, kUserInfo, "$1:***@");
  return std::regex_replace(out, kQueryPassword, "$1***");
}

Status check_url(const std::string& url) {
  if (!has_scheme(url))
    return invalid_argument("--database-url must look like postgres://user:password@host:5432/dbname (got '" +
                            redact(url).substr(0, 80) + "')");
  char* err = nullptr;
  PQconninfoOption* opts = PQconninfoParse(url.c_str(), &err);
  if (!opts) {
    std::string msg = err ? trimmed(err) : "unreadable";
    PQfreemem(err);
    return invalid_argument("--database-url " + redact(url) + " is not a valid PostgreSQL URL (" + msg +
                            "); write it as postgres://user:password@host:5432/dbname");
  }
  PQconninfoFree(opts);
  return Status::ok();
}

Rows::~Rows() {
  PQclear(result_);
}

Rows& Rows::operator=(Rows&& o) noexcept {
  if (this != &o) {
    PQclear(result_);
    result_ = o.result_;
    o.result_ = nullptr;
  }
  return *this;
}

bool Rows::ok() const {
  // PQresultStatus(nullptr) is PGRES_FATAL_ERROR.
  const ExecStatusType st = PQresultStatus(result_);
  return st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
}
int Rows::size() const {
  return result_ ? PQntuples(result_) : 0;
}
int Rows::affected() const {
  const char* n = result_ ? PQcmdTuples(result_) : "";
  return *n ? std::atoi(n) : 0;
}
bool Rows::is_null(int row, int col) const {
  return PQgetisnull(result_, row, col) != 0;
}
std::string Rows::text(int row, int col) const {
  return is_null(row, col) ? std::string() : std::string(PQgetvalue(result_, row, col));
}
int64_t Rows::int64(int row, int col) const {
  return is_null(row, col) ? 0 : std::strtoll(PQgetvalue(result_, row, col), nullptr, 10);
}
double Rows::real(int row, int col) const {
  return is_null(row, col) ? 0 : std::strtod(PQgetvalue(result_, row, col), nullptr);
}
bool Rows::boolean(int row, int col) const {
  return !is_null(row, col) && PQgetvalue(result_, row, col)[0] == 't';
}

Result<std::unique_ptr<Connection>> Connection::connect(const std::string& url,
                                                        const std::string& application_name) {
  FW_RETURN_IF_ERROR(check_url(url));
  std::unique_ptr<Connection> c(new Connection());
  c->url_ = url;
  c->redacted_ = redact(url);
  c->application_name_ = application_name;
  FW_RETURN_IF_ERROR(c->reconnect());
  return c;
}

Connection::~Connection() {
  PQfinish(conn_);
}

Status Connection::reconnect() {
  PQfinish(conn_);
  conn_ = nullptr;
  // The whole attempt (name lookup, TCP connect, TLS, login) is bounded by connect_timeout from the URL
  // (default 5 s) and gives up early on interrupt_connections(): libpq's own connect_timeout covers neither
  // the name lookup nor a non-blocking connect (PQconnectPoll).
  const std::string timeout_text = conninfo_value(url_, "connect_timeout");
  const int timeout_s = timeout_text.empty() ? 5 : std::max(2, std::atoi(timeout_text.c_str()));
  const auto start = Clock::now();
  const auto deadline = start + std::chrono::seconds(timeout_s);
  std::string hostaddr = conninfo_value(url_, "hostaddr");
  const std::string host = conninfo_value(url_, "host");
  std::string hosts;  // the name once per address: libpq pairs host and hostaddr lists one to one
  if (hostaddr.empty() && !host.empty() && host[0] != '/' && host[0] != '@' &&
      host.find(',') == std::string::npos && !is_address(host)) {
    FW_ASSIGN_OR_RETURN(hostaddr, resolve(host, start, deadline, redacted_));
    for (size_t i = 0, n = size_t(std::count(hostaddr.begin(), hostaddr.end(), ',')) + 1; i < n; ++i)
      hosts += (i ? "," : "") + host;
  }
  // Later keywords override what the URL (dbname, expanded) says.
  std::vector<const char*> keys = {"dbname", "application_name"};
  std::vector<const char*> values = {url_.c_str(), application_name_.c_str()};
  if (!hosts.empty()) {
    keys.push_back("host");
    values.push_back(hosts.c_str());
    keys.push_back("hostaddr");
    values.push_back(hostaddr.c_str());
  }
  keys.push_back(nullptr);
  values.push_back(nullptr);
  conn_ = PQconnectStartParams(keys.data(), values.data(), 1);
  if (conn_ && PQstatus(conn_) != CONNECTION_BAD) {
    PostgresPollingStatusType poll_status = PGRES_POLLING_WRITING;
    while (poll_status != PGRES_POLLING_OK && poll_status != PGRES_POLLING_FAILED) {
      const auto until = effective_deadline(deadline, start);
      const auto now = Clock::now();
      if (now >= until) {
        PQfinish(conn_);
        conn_ = nullptr;
        if (interrupted()) return cancelled("stopped while connecting to PostgreSQL at " + redacted_);
        return io_error("cannot reach PostgreSQL at " + redacted_ + " (no answer within " +
                        std::to_string(timeout_s) +
                        " s); check the server is running and the host and port in --database-url");
      }
      pollfd fd{PQsocket(conn_), short(poll_status == PGRES_POLLING_READING ? POLLIN : POLLOUT), 0};
      const int slice = int(std::min<int64_t>(
          100, std::chrono::duration_cast<std::chrono::milliseconds>(until - now).count() + 1));
      const int rc = fd.fd < 0 ? 1 : ::poll(&fd, 1, slice);
      if (rc > 0 || fd.fd < 0) poll_status = PQconnectPoll(conn_);
    }
  }
  if (conn_ && PQstatus(conn_) == CONNECTION_OK) {
    // Quiet the NOTICEs of CREATE ... IF NOT EXISTS: the library never prints.
    PQsetNoticeProcessor(
        conn_, [](void*, const char*) {}, nullptr);
    return Status::ok();
  }
  const std::string msg = conn_ ? trimmed(PQerrorMessage(conn_)) : "out of memory";
  if (msg.find("password authentication failed") != std::string::npos ||
      msg.find("no password supplied") != std::string::npos ||
      msg.find("no pg_hba.conf entry") != std::string::npos)
    return permission_denied("PostgreSQL at " + redacted_ + " refused the login (" + msg +
                             "); check the user and password in --database-url (FACEWEAVE_DATABASE_URL)");
  if (msg.find("does not exist") != std::string::npos)
    return not_found("PostgreSQL at " + redacted_ + ": " + msg +
                     "; create it (createdb) or name an existing database in --database-url");
  return io_error("cannot reach PostgreSQL at " + redacted_ + " (" + msg +
                  "); check the server is running and the host and port in --database-url");
}

bool Connection::broken() const {
  return !conn_ || PQstatus(conn_) != CONNECTION_OK;
}

Status Connection::ensure_connected() {
  if (!broken()) return Status::ok();
  return reconnect();
}

Status Connection::error(const std::string& what) const {
  const std::string msg = conn_ ? trimmed(PQerrorMessage(conn_)) : "no connection";
  if (broken())
    return io_error("lost the connection to PostgreSQL at " + redacted_ + " during " + what + " (" + msg +
                    "); it is retried once the server is back");
  return io_error("PostgreSQL " + what + ": " + msg);
}

Result<Rows> Connection::exec(const std::string& sql, const Params& params) {
  FW_RETURN_IF_ERROR(ensure_connected());
  std::vector<const char*> values;
  values.reserve(params.size());
  for (const auto& p : params) values.push_back(p ? p->c_str() : nullptr);
  Rows rows(
      PQexecParams(conn_, sql.c_str(), int(values.size()), nullptr, values.data(), nullptr, nullptr, 0));
  if (!rows.ok()) return error("statement");
  return rows;
}

Status Connection::exec_script(const std::string& sql) {
  FW_RETURN_IF_ERROR(ensure_connected());
  PGresult* r = PQexec(conn_, sql.c_str());
  const ExecStatusType st = PQresultStatus(r);
  PQclear(r);
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) return error("schema set-up");
  return Status::ok();
}

Status Connection::copy_in(const std::string& copy_sql, const std::string& data) {
  FW_RETURN_IF_ERROR(ensure_connected());
  PGresult* r = PQexec(conn_, copy_sql.c_str());
  const ExecStatusType st = PQresultStatus(r);
  PQclear(r);
  if (st != PGRES_COPY_IN) return error("COPY");
  if (PQputCopyData(conn_, data.data(), int(data.size())) != 1 || PQputCopyEnd(conn_, nullptr) != 1)
    return error("COPY");
  Status s = Status::ok();
  while (PGresult* done = PQgetResult(conn_)) {
    if (PQresultStatus(done) != PGRES_COMMAND_OK && s.is_ok()) s = error("COPY");
    PQclear(done);
  }
  return s;
}

Result<bool> Connection::wait_notification(int timeout_ms) {
  FW_RETURN_IF_ERROR(ensure_connected());
  auto take = [this] {
    bool got = false;
    while (PGnotify* n = PQnotifies(conn_)) {
      got = true;
      PQfreemem(n);
    }
    return got;
  };
  if (take()) return true;
  pollfd fd{PQsocket(conn_), POLLIN, 0};
  if (fd.fd < 0) return error("LISTEN");
  const int rc = ::poll(&fd, 1, timeout_ms);
  if (rc <= 0) return false;
  if (!PQconsumeInput(conn_)) return error("LISTEN");
  return take();
}

}  // namespace faceweave::pg
