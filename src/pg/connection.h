// One PostgreSQL connection (libpq) for the fleet: the job queue on many machines and the shared events
// table. Statements take text parameters and give text values back; failures become a Status that names
// what to fix (the URL, the password, a server that is down). The password never appears in a message.
// Thread contract: one Connection is used by one thread at a time (callers hold their own lock).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "faceweave/status.h"

struct pg_conn;
struct pg_result;

namespace faceweave::pg {

// Makes every connection attempt in progress or to come give up about a second after this call at the
// latest (a process that is stopping: SIGTERM); one begun after that still gets half a second, for a server
// that answers (TLS and login over a link of up to ~100 ms round trip). An attempt whose host name lookup
// has already hung for half a second gives up at once. Safe to call from a signal handler.
void interrupt_connections();

// The URL as it may be shown: postgres://user:***@host:port/db.
std::string redact(const std::string& url);
// kInvalidArgument unless `url` is a postgres:// or postgresql:// URL libpq can parse.
Status check_url(const std::string& url);

// The rows of one statement; values are text, nullopt for NULL.
class Rows {
 public:
  explicit Rows(pg_result* r = nullptr) : result_(r) {}
  ~Rows();
  Rows(Rows&& o) noexcept : result_(o.result_) { o.result_ = nullptr; }
  Rows& operator=(Rows&& o) noexcept;
  Rows(const Rows&) = delete;
  Rows& operator=(const Rows&) = delete;

  bool ok() const;  // the statement succeeded
  int size() const;
  int affected() const;  // rows an INSERT/UPDATE/DELETE changed
  bool is_null(int row, int col) const;
  std::string text(int row, int col) const;  // "" for NULL
  int64_t int64(int row, int col) const;     // 0 for NULL
  double real(int row, int col) const;
  bool boolean(int row, int col) const;  // 't'

 private:
  pg_result* result_ = nullptr;
};

using Params = std::vector<std::optional<std::string>>;

class Connection {
 public:
  // Connects within connect_timeout of the URL (default 5 s), the host name lookup included; gives up early
  // after interrupt_connections() (kCancelled). The errors say which part of the URL (or the server) to fix:
  // kInvalidArgument for a bad URL, kPermissionDenied for a refused login, kIoError for a server that cannot
  // be reached.
  static Result<std::unique_ptr<Connection>> connect(const std::string& url,
                                                     const std::string& application_name);
  ~Connection();

  // One statement, parameters $1..$n as text. A lost connection is reconnected before the next call.
  Result<Rows> exec(const std::string& sql, const Params& params = {});
  // Several statements without parameters (schema set-up).
  Status exec_script(const std::string& sql);
  // COPY ... FROM STDIN with `data` in COPY's text format.
  Status copy_in(const std::string& copy_sql, const std::string& data);
  // Waits up to timeout_ms for a NOTIFY on a channel this connection LISTENs to; true when one arrived.
  Result<bool> wait_notification(int timeout_ms);
  // Whether the last call found the server unreachable (the caller backs off and retries).
  bool broken() const;
  Status reconnect();
  const std::string& redacted_url() const { return redacted_; }

 private:
  Connection() = default;
  Status ensure_connected();
  Status error(const std::string& what) const;
  pg_conn* conn_ = nullptr;
  std::string url_, redacted_, application_name_;
};

}  // namespace faceweave::pg
