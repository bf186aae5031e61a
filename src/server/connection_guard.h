// cpp-httplib's server with two limits against slow clients ("slowloris"): each worker of the pool serves
// one connection at a time, and cpp-httplib's read timeout applies to each read, so a client that sends a
// header line a second held a worker for as long as it liked; 40 such connections took every worker and
// /healthz stopped answering.
//  - A request's line and headers must arrive within `header_timeout` of its first byte; a client that
//    takes longer is disconnected.
//  - At most `max_per_address` connections from one client address are served at once; more are answered
//    429 at once and closed, so one address can never take the whole pool.
//  - A request's line and headers may hold at most `max_header_bytes`; more is answered 431 and the
//    connection closed (cpp-httplib caps each line, not their number: 40 MB of headers in 10 s was kept).
//  - A Range of more than one range, or on anything but GET/HEAD, is ignored (the whole content is sent):
//    cpp-httplib answers each range in full, so 1,500 overlapping `0-` ranges made a 9 MB answer of a 6 KB
//    page.
// Keep-alive, timeouts and request handling are otherwise cpp-httplib's own (process_request).
#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <string>

#include <httplib.h>

namespace faceweave::server {

struct ConnectionLimits {
  std::chrono::milliseconds header_timeout{10'000};
  int max_per_address = 24;  // of the server's 32 workers
  size_t max_header_bytes = 64 * 1024;
};

class GuardedHttpServer : public httplib::Server {
 public:
  explicit GuardedHttpServer(ConnectionLimits limits = {}) : limits_(limits) {}

  // Connections served now (tests, metrics).
  int open_connections(const std::string& address) const;

 private:
  bool process_and_close_socket(socket_t sock) override;
  bool enter(const std::string& address);
  void leave(const std::string& address);

  ConnectionLimits limits_;
  mutable std::mutex mutex_;
  std::map<std::string, int> open_;  // client address -> connections being served
};

}  // namespace faceweave::server
