// The transport against hostile clients (docs/security.md, "Attacked again"), on a real `faceweave serve`:
// a flood of headers, overlapping byte ranges, and bytes that are not UTF-8 in what error messages quote.
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <arpa/inet.h>

#include <cerrno>
#include <chrono>
#include <string>
#include <thread>

#include <gtest/gtest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include "server_process.h"

namespace faceweave::testing {
namespace {
using nlohmann::json;

class ServerTransport : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = std::make_unique<ServerProcess>(data_.path(), std::vector<std::string>{},
                                              data_.file("server.log"), "off");
    ASSERT_TRUE(server_->started()) << server_->log();
  }
  std::string host() const { return "Host: 127.0.0.1:" + std::to_string(server_->port()) + "\r\n"; }

  int connect() const {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(uint16_t(server_->port()));
    ::inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof to) != 0) {
      ::close(fd);
      return -1;
    }
    return fd;
  }
  // Everything the server answered until it closed the connection (at most `wait`).
  static std::string read_all_of(int fd, std::chrono::milliseconds wait = std::chrono::milliseconds(10'000)) {
    std::string got;
    const auto until = std::chrono::steady_clock::now() + wait;
    char buf[65536];
    while (std::chrono::steady_clock::now() < until) {
      const ssize_t n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
      if (n == 0) break;
      if (n > 0) {
        got.append(buf, size_t(n));
      } else if (errno != EAGAIN && errno != EWOULDBLOCK) {
        break;
      } else {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
    }
    return got;
  }
  std::string request(const std::string& text) const {
    const int fd = connect();
    if (fd < 0) return "";
    ::send(fd, text.data(), text.size(), MSG_NOSIGNAL);
    const std::string got = read_all_of(fd);
    ::close(fd);
    return got;
  }
  void expect_alive() const {
    httplib::Client c("127.0.0.1", server_->port());
    auto h = c.Get("/healthz");
    ASSERT_TRUE(h) << "the server died\n" << server_->log();
    EXPECT_EQ(h->status, 200);
  }

  TempDir data_;
  std::unique_ptr<ServerProcess> server_;
};

// cpp-httplib caps each header line, not their number: four clients streaming headers for 10 s grew the
// server by 370 MB. Past 64 KB of headers the request is answered 431 and the connection closed.
TEST_F(ServerTransport, AFloodOfHeadersIs431AndClosed) {
  const int fd = connect();
  ASSERT_GE(fd, 0);
  std::string start = "GET /healthz HTTP/1.1\r\n" + host();
  ::send(fd, start.data(), start.size(), MSG_NOSIGNAL);
  std::string lines;
  for (int i = 0; i < 100; ++i)
    lines += "X-Filler-" + std::to_string(i) + ": " + std::string(100, 'a') + "\r\n";
  size_t sent = 0;
  // 1 MB at most: the server stops reading long before (a send then fails or blocks briefly).
  while (sent < (1u << 20)) {
    const ssize_t n = ::send(fd, lines.data(), lines.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      const std::string early = read_all_of(fd, std::chrono::milliseconds(50));
      if (!early.empty()) {
        start = early;  // the answer came while the client was still sending
        break;
      }
      continue;
    }
    if (n <= 0) break;
    sent += size_t(n);
  }
  const std::string got = start.rfind("HTTP/", 0) == 0 ? start : read_all_of(fd);
  ::close(fd);
  EXPECT_EQ(got.rfind("HTTP/1.1 431", 0), 0u) << got.substr(0, 200);
  EXPECT_NE(got.find("\"too_large\""), std::string::npos) << got.substr(0, 400);
  EXPECT_EQ(got.find("HTTP/1.1 400"), std::string::npos) << "one answer, not cpp-httplib's 400 too";
  // Ordinary headers (a browser's, cookies included) are far below the cap.
  const std::string ok = request("GET /healthz HTTP/1.1\r\n" + host() + "Cookie: " + std::string(8000, 'c') +
                                 "\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(ok.rfind("HTTP/1.1 200", 0), 0u) << ok.substr(0, 200);
  expect_alive();
}

// cpp-httplib answers every range of a multi-range request in full: 1,500 `0-` ranges made a 9 MB answer of
// the 6 KB page (and of any job result, its size times 1,500). More than one range is now ignored.
TEST_F(ServerTransport, OverlappingRangesDoNotMultiplyTheAnswer) {
  httplib::Client c("127.0.0.1", server_->port());
  auto whole = c.Get("/api/openapi.json");
  ASSERT_TRUE(whole);
  ASSERT_EQ(whole->status, 200);
  std::string ranges = "bytes=0-";
  for (int i = 0; i < 1000; ++i) ranges += ",0-";
  for (const char* path : {"/api/openapi.json", "/index.html"}) {
    const std::string got = request("GET " + std::string(path) + " HTTP/1.1\r\n" + host() +
                                    "Range: " + ranges + "\r\nConnection: close\r\n\r\n");
    EXPECT_EQ(got.rfind("HTTP/1.1 200", 0), 0u) << path << ": " << got.substr(0, 200);
    EXPECT_LT(got.size(), whole->body.size() + 4096) << path;
  }
  // One range is still served as one (a video element seeks this way), as 206: an API answer cut to its
  // range used to say 200, so a client took the first bytes for the whole document.
  for (const char* path : {"/api/openapi.json", "/index.html"}) {
    auto page = c.Get(path);
    auto part = c.Get(path, {{"Range", "bytes=0-9"}});
    ASSERT_TRUE(page && part);
    EXPECT_EQ(part->status, 206) << path;
    EXPECT_EQ(part->body, page->body.substr(0, 10)) << path;
  }
  // An error is never cut.
  auto missing = c.Get("/api/nothing", {{"Range", "bytes=0-0"}});
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);
  EXPECT_TRUE(json::parse(missing->body, nullptr, false).is_object()) << missing->body;
  expect_alive();
}

// An error message that quotes the client's path, Host or Origin (or cuts it inside a character) made the
// JSON writer throw on bytes that are not UTF-8: a 500 "please report it". Now they are replaced.
TEST_F(ServerTransport, BytesThatAreNotUtf8InAQuotedValueAreNoServerError) {
  const std::string accented = "\xc3\xa9";
  std::string origin = "http://";
  for (int i = 0; i < 60; ++i) origin += accented;  // cut at 80 bytes: inside a character
  const std::string requests[] = {
      "GET /api/\xff HTTP/1.1\r\n" + host() + "Connection: close\r\n\r\n",
      "GET /%c0%ae%c0%ae/etc/passwd HTTP/1.1\r\n" + host() + "Connection: close\r\n\r\n",
      "DELETE /api/jobs/j_\xff HTTP/1.1\r\n" + host() + "Connection: close\r\n\r\n",
      "GET / HTTP/1.1\r\nHost: \xff\xfe:1\r\nConnection: close\r\n\r\n",
      "POST /api/events HTTP/1.1\r\n" + host() + "Origin: " + origin +
          "\r\nContent-Type: text/plain\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}",
  };
  const int expected[] = {404, 404, 404, 421, 403};
  for (size_t i = 0; i < std::size(requests); ++i) {
    const std::string got = request(requests[i]);
    EXPECT_EQ(got.rfind("HTTP/1.1 " + std::to_string(expected[i]), 0), 0u) << i << ": " << got.substr(0, 300);
    const size_t body = got.find("\r\n\r\n");
    ASSERT_NE(body, std::string::npos) << i;
    const json j = json::parse(got.substr(body + 4), nullptr, false);
    EXPECT_TRUE(j.is_object() && j.contains("error")) << i << ": " << got.substr(body + 4, 300);
  }
  expect_alive();
}

}  // namespace
}  // namespace faceweave::testing
