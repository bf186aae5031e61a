#include "server/connection_guard.h"

#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>

namespace faceweave::server {
namespace {
using Clock = std::chrono::steady_clock;

std::string numeric_host(const sockaddr_storage& addr, socklen_t len, int* port) {
  char host[NI_MAXHOST] = {0};
  char serv[NI_MAXSERV] = {0};
  if (::getnameinfo(reinterpret_cast<const sockaddr*>(&addr), len, host, sizeof host, serv, sizeof serv,
                    NI_NUMERICHOST | NI_NUMERICSERV) != 0)
    return "";
  if (port) *port = std::atoi(serv);
  return host;
}

std::string peer_address(int sock, int* port = nullptr) {
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  if (::getpeername(sock, reinterpret_cast<sockaddr*>(&addr), &len) != 0) return "";
  return numeric_host(addr, len, port);
}

// 1 ready, 0 timed out, -1 error (EINTR retried).
int wait_for(int sock, short events, int timeout_ms) {
  pollfd p{sock, events, 0};
  for (;;) {
    const int r = ::poll(&p, 1, std::max(0, timeout_ms));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return r;
    return (p.revents & (events | POLLHUP | POLLERR)) ? 1 : 0;
  }
}

// A socket stream like cpp-httplib's own (buffered reads, per-read timeouts), plus an optional deadline
// that caps every read until it is cleared: the time a request's line and headers may take.
class DeadlineStream : public httplib::Stream {
 public:
  DeadlineStream(int sock, std::chrono::milliseconds read_timeout, std::chrono::milliseconds write_timeout)
      : sock_(sock), read_timeout_(read_timeout), write_timeout_(write_timeout) {}

  // The deadline and byte budget of a request's line and headers; nullopt once they are read.
  void set_deadline(std::optional<Clock::time_point> deadline, size_t budget = 0) {
    deadline_ = deadline;
    budget_ = budget;
    over_budget_ = false;
  }
  bool over_budget() const { return over_budget_; }
  bool has_buffered() const { return pos_ < len_; }

  bool is_readable() const override { return has_buffered() || wait_for(sock_, POLLIN, read_wait_ms()) > 0; }
  // Also false once the client has closed its side (as cpp-httplib's own stream): a live stream whose
  // client left ends at its next chunk instead of at the next failed write.
  bool is_writable() const override {
    if (wait_for(sock_, POLLOUT, int(write_timeout_.count())) <= 0) return false;
    if (wait_for(sock_, POLLIN, 0) <= 0) return true;
    char c;
    const ssize_t n = ::recv(sock_, &c, 1, MSG_PEEK | MSG_DONTWAIT);
    return n > 0 || (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR));
  }

  ssize_t read(char* ptr, size_t size) override {
    if (deadline_) {  // the request line and headers: cut off past the budget
      if (budget_ == 0) {
        over_budget_ = true;
        return -1;
      }
      size = std::min(size, budget_);
    }
    const ssize_t n = read_some(ptr, size);
    if (deadline_ && n > 0) budget_ -= size_t(n);
    return n;
  }

  ssize_t write(const char* ptr, size_t size) override {
    if (over_budget_) return ssize_t(size);  // cpp-httplib's own 400: the guard answers 431 instead
    if (!is_writable()) return -1;
    ssize_t n;
    do {
      n = ::send(sock_, ptr, size, MSG_NOSIGNAL);
    } while (n < 0 && errno == EINTR);
    return n;
  }

  void get_remote_ip_and_port(std::string& ip, int& port) const override { ip = peer_address(sock_, &port); }
  void get_local_ip_and_port(std::string& ip, int& port) const override {
    sockaddr_storage addr{};
    socklen_t len = sizeof addr;
    if (::getsockname(sock_, reinterpret_cast<sockaddr*>(&addr), &len) == 0)
      ip = numeric_host(addr, len, &port);
  }
  socket_t socket() const override { return sock_; }

 private:
  ssize_t read_some(char* ptr, size_t size) {
    if (!has_buffered()) {
      if (wait_for(sock_, POLLIN, read_wait_ms()) <= 0) return -1;
      ssize_t n;
      if (size >= sizeof buffer_) {  // bodies: straight into the caller's buffer, as cpp-httplib does
        do {
          n = ::recv(sock_, ptr, size, 0);
        } while (n < 0 && errno == EINTR);
        return n;
      }
      do {
        n = ::recv(sock_, buffer_, sizeof buffer_, 0);
      } while (n < 0 && errno == EINTR);
      if (n <= 0) return n;
      pos_ = 0;
      len_ = size_t(n);
    }
    const size_t n = std::min(size, len_ - pos_);
    std::memcpy(ptr, buffer_ + pos_, n);
    pos_ += n;
    return ssize_t(n);
  }

  int read_wait_ms() const {
    auto wait = read_timeout_;
    if (deadline_) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(*deadline_ - Clock::now());
      wait = std::min(wait, std::max(left, std::chrono::milliseconds(0)));
    }
    return int(wait.count());
  }

  int sock_;
  std::chrono::milliseconds read_timeout_, write_timeout_;
  std::optional<Clock::time_point> deadline_;
  size_t budget_ = 0;
  bool over_budget_ = false;
  char buffer_[4096];
  size_t pos_ = 0, len_ = 0;
};

// Waits (up to `timeout`) for the next request of a keep-alive connection; false when none comes, the
// client closed, or the server is stopping.
bool next_request_arrives(const DeadlineStream& strm, int sock, std::chrono::seconds timeout,
                          const std::atomic<socket_t>& listening) {
  if (strm.has_buffered()) return true;
  const auto until = Clock::now() + timeout;
  while (listening != INVALID_SOCKET) {
    const int r = wait_for(sock, POLLIN, 100);
    if (r != 0) return r > 0;
    if (Clock::now() >= until) return false;
  }
  return false;
}

// An answer written straight to the socket before cpp-httplib has a request to answer, then closed.
// Best effort and never blocking: a client that does not read its answer just loses it.
void answer_and_close(int sock, const std::string& status_line, const std::string& body,
                      const std::string& extra_headers = "") {
  const std::string response =
      "HTTP/1.1 " + status_line +
      "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n" +
      extra_headers + "Connection: close\r\n\r\n" + body;
  (void)::send(sock, response.data(), response.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
}

void refuse(int sock) {
  answer_and_close(sock, "429 Too Many Requests",
                   R"({"error":{"code":"rate_limited","message":"too many connections from this address at )"
                   R"(once; close some, or retry shortly"}})",
                   "Retry-After: 1\r\n");
}

}  // namespace

int GuardedHttpServer::open_connections(const std::string& address) const {
  std::lock_guard lock(mutex_);
  auto it = open_.find(address);
  return it == open_.end() ? 0 : it->second;
}

bool GuardedHttpServer::enter(const std::string& address) {
  std::lock_guard lock(mutex_);
  int& n = open_[address];
  if (n >= limits_.max_per_address) return false;
  ++n;
  return true;
}

void GuardedHttpServer::leave(const std::string& address) {
  std::lock_guard lock(mutex_);
  auto it = open_.find(address);
  if (it != open_.end() && --it->second <= 0) open_.erase(it);
}

bool GuardedHttpServer::process_and_close_socket(socket_t sock) {
  const std::string address = peer_address(sock);
  bool ret = false;
  if (!enter(address)) {
    refuse(sock);
  } else {
    using std::chrono::milliseconds;
    using std::chrono::seconds;
    DeadlineStream strm(sock, milliseconds(read_timeout_sec_ * 1000 + read_timeout_usec_ / 1000),
                        milliseconds(write_timeout_sec_ * 1000 + write_timeout_usec_ / 1000));
    // Each request: its line and headers within the header timeout of its first byte; the body and the
    // answer then take as long as they take (per-read timeouts still apply).
    const auto clear = [&strm](httplib::Request& req) {
      strm.set_deadline(std::nullopt);
      // More than one range, or a range on a request that changes something: answered whole (a client
      // may always get the full content instead).
      if (req.ranges.size() > 1 || (!req.ranges.empty() && req.method != "GET" && req.method != "HEAD")) {
        req.ranges.clear();
        req.headers.erase("Range");
      }
    };
    for (size_t left = keep_alive_max_count_; left > 0; --left) {
      if (!next_request_arrives(strm, sock, seconds(keep_alive_timeout_sec_), svr_sock_)) break;
      strm.set_deadline(Clock::now() + limits_.header_timeout, limits_.max_header_bytes);
      bool closed = false;
      bool headers_read = false;
      ret = process_request(strm, left == 1, closed, [&](httplib::Request& req) {
        headers_read = true;
        clear(req);
      });
      if (!headers_read && strm.over_budget())
        answer_and_close(sock, "431 Request Header Fields Too Large",
                         R"({"error":{"code":"too_large","message":"the request's headers are over )" +
                             std::to_string(limits_.max_header_bytes / 1024) + R"( KB; send fewer"}})");
      // A request whose headers never came whole (too slow, malformed, too long) ends the connection:
      // whatever follows on it cannot be trusted to start a request.
      if (!ret || closed || !headers_read) break;
    }
    leave(address);
  }
  ::shutdown(sock, SHUT_RDWR);
  ::close(sock);
  return ret;
}

}  // namespace faceweave::server
