#include "pg/connection.h"

#include <libpq-fe.h>
#include <poll.h>

#include <cstdlib>
#include <regex>

namespace faceweave::pg {
namespace {

bool has_scheme(const std::string& url) {
  return url.rfind("postgres://", 0) == 0 || url.rfind("postgresql://", 0) == 0;
}

std::string trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

}  // namespace

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
  const char* keys[] = {"dbname", "application_name", "connect_timeout", nullptr};
  const char* values[] = {url_.c_str(), application_name_.c_str(), "5", nullptr};
  conn_ = PQconnectdbParams(keys, values, 1);
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
