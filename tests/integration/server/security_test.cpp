// Server hardening against a real `faceweave serve` process (docs/security.md): deeply nested JSON, DNS
// rebinding (Host), cross-site requests (Origin), security headers, over-limit bodies and the loopback
// check of --host.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>

#include "server_process.h"

namespace faceweave::testing {
namespace {
namespace fs = std::filesystem;
using nlohmann::json;

class ServerSecurity : public ::testing::Test {
 protected:
  void SetUp() override { start(); }

  void start(std::vector<std::string> extra = {}) {
    server_.reset();
    server_ = std::make_unique<ServerProcess>(data_.path(), extra, data_.file("server.log"), "off");
    ASSERT_TRUE(server_->started()) << server_->log();
    client_ = std::make_unique<httplib::Client>("127.0.0.1", server_->port());
    client_->set_read_timeout(std::chrono::seconds(60));
  }

  std::string own_origin() const { return "http://127.0.0.1:" + std::to_string(server_->port()); }
  std::string host(const std::string& name) const { return name + ":" + std::to_string(server_->port()); }

  std::string upload(const std::string& path) {
    auto r = client_->Post(
        "/api/uploads",
        httplib::MultipartFormDataItems{{"file", read_all(path), fs::path(path).filename().string(), ""}});
    EXPECT_TRUE(r);
    if (!r) return "";
    EXPECT_EQ(r->status, 201) << r->body;
    return json::parse(r->body, nullptr, false).value("id", "");
  }

  // The server still answers: a crash shows as no answer at all.
  void expect_alive() {
    auto h = client_->Get("/healthz");
    ASSERT_TRUE(h) << "the server died\n" << server_->log();
    EXPECT_EQ(h->status, 200);
  }

  static void expect_error(const httplib::Result& r, int status, const std::string& code,
                           const std::string& needle = "") {
    ASSERT_TRUE(r) << "no answer (the server died?)";
    EXPECT_EQ(r->status, status) << r->body;
    const json j = json::parse(r->body, nullptr, false);
    ASSERT_TRUE(j.is_object() && j.contains("error")) << r->body;
    EXPECT_EQ(j["error"].value("code", ""), code) << r->body;
    EXPECT_NE(j["error"].value("message", "").find(needle), std::string::npos) << r->body;
  }

  TempDir data_;
  std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<httplib::Client> client_;
};

// The status, or -1 when there was no answer (a test failure, not a crash of the test).
int status_of(const httplib::Result& r) {
  return r ? r->status : -1;
}

std::string deep_array(size_t levels) {
  return std::string(levels, '[') + std::string(levels, ']');
}

// 60,000 levels overflowed a worker's stack (copying or dumping a value recurses once per level) and
// killed the whole server. Nesting is capped at 64 while parsing; every route answers 400 and lives on.
TEST_F(ServerSecurity, DeeplyNestedJsonIsRefusedAndTheServerLivesOn) {
  const std::string sid = upload(image("obama.jpg")), tid = upload(image("biden.jpg"));
  ASSERT_FALSE(sid.empty());
  const std::string deep = deep_array(60'000);
  const std::string too_deep = "deeper than 64 levels";
  // The browser's beacon sends text/plain.
  expect_error(client_->Post("/api/events", std::string(120'000, '['), "text/plain;charset=UTF-8"), 400,
               "invalid_argument", too_deep);
  std::string objects;
  for (int i = 0; i < 60'000; ++i) objects += "{\"a\":";
  objects += "1" + std::string(60'000, '}');
  expect_error(client_->Post("/api/events", objects, "text/plain"), 400, "invalid_argument", too_deep);
  const std::string events =
      R"({"client":"c_0123456789abcdef","events":[{"event":"ui.page","props":{"a":)" + deep + "}}]}";
  expect_error(client_->Post("/api/events", events, "text/plain"), 400, "invalid_argument", too_deep);
  expect_alive();
  const std::string swap = R"({"sources":[")" + sid + R"("],"target":")" + tid + R"(","options":{"blend":)";
  expect_error(client_->Post("/api/jobs", swap + deep + "}}", "application/json"), 400, "invalid_argument",
               too_deep);
  expect_error(client_->Post("/api/preview", swap + deep + "}}", "application/json"), 400, "invalid_argument",
               too_deep);
  expect_alive();
  // 64 levels is within the limit: such a body gets the ordinary answer.
  expect_error(client_->Post("/api/jobs", swap + deep_array(62) + "}}", "application/json"), 400,
               "invalid_argument", "blend");
}

// `jobs submit --options` goes through the same capped parser (an argument is at most 128 KB).
TEST_F(ServerSecurity, JobsSubmitRefusesDeepOptions) {
  const std::string options = R"({"face_mask_padding":)" + deep_array(60'000) + "}";
  auto r =
      run_command(binary() + " --telemetry off --data-dir " + data_.path() + " jobs submit -s " +
                  image("obama.jpg") + " -t " + image("biden.jpg") + " --options '" + options + "' 2>&1");
  EXPECT_EQ(r.code, 2) << r.out.substr(0, 2000);
  EXPECT_NE(r.out.find("--options nests arrays and objects deeper than 64 levels"), std::string::npos)
      << r.out.substr(0, 2000);
  EXPECT_LT(r.out.size(), 2000u) << "the options are never echoed whole";
}

// DNS rebinding: a page of evil.example re-points its name at 127.0.0.1; its requests still say
// Host: evil.example. Only the server's own names are answered, pages included.
TEST_F(ServerSecurity, OnlyItsOwnHostNamesAreAnswered) {
  for (const std::string path : {"/healthz", "/api/jobs", "/api/config", "/", "/insights/"})
    expect_error(client_->Get(path.c_str(), {{"Host", host("evil.example")}}), 421, "misdirected_request",
                 "--allowed-host");
  expect_error(client_->Post("/api/events", {{"Host", host("evil.example")}}, "{}", "application/json"), 421,
               "misdirected_request");
  expect_error(client_->Get("/healthz", {{"Host", "127.0.0.1:1"}}), 421, "misdirected_request");
  for (const std::string name : {"127.0.0.1", "localhost", "[::1]"})
    EXPECT_EQ(status_of(client_->Get("/healthz", {{"Host", host(name)}})), 200) << name;
  EXPECT_EQ(status_of(client_->Get("/healthz")), 200);

  ASSERT_NO_FATAL_FAILURE(start({"--allowed-host", "faceweave.test", "--allowed-host", "studio.test"}));
  EXPECT_EQ(status_of(client_->Get("/healthz", {{"Host", host("faceweave.test")}})), 200);
  EXPECT_EQ(status_of(client_->Get("/healthz", {{"Host", host("studio.test")}})), 200);
  expect_error(client_->Get("/healthz", {{"Host", host("evil.example")}}), 421, "misdirected_request");

  server_.reset();
  TempDir other;
  ServerProcess bad(other.path(), {"--allowed-host", "faceweave.test:80"}, other.file("log"), "off");
  EXPECT_FALSE(bad.started());
  EXPECT_EQ(bad.exit_code(), 2);
  EXPECT_NE(bad.log().find("--allowed-host 'faceweave.test:80' is not a host name"), std::string::npos)
      << bad.log();
}

// With no token, any page the user visits could POST to the loopback server; changes must come from the
// server's own pages, or from clients that send no Origin at all (scripts, curl).
TEST_F(ServerSecurity, CrossSiteChangesAreRefusedWithoutAToken) {
  const std::string event = R"({"client":"c_0123456789abcdef","events":[{"event":"ui.page"}]})";
  for (const std::string& origin : std::vector<std::string>{
           "http://evil.example", "null", "https://127.0.0.1:" + std::to_string(server_->port())})
    expect_error(client_->Post("/api/events", {{"Origin", origin}}, event, "text/plain"), 403, "cross_origin",
                 "--token");
  expect_error(
      client_->Post("/api/events", {{"Referer", "http://evil.example/page.html"}}, event, "text/plain"), 403,
      "cross_origin");
  expect_error(client_->Delete("/api/jobs/j_000000000000000000000000", {{"Origin", "http://evil.example"}}),
               403, "cross_origin");
  // An upload from another site is refused and nothing of it is kept.
  auto up =
      client_->Post("/api/uploads", {{"Origin", "http://evil.example"}},
                    httplib::MultipartFormDataItems{{"file", read_all(image("obama.jpg")), "o.jpg", ""}});
  expect_error(up, 403, "cross_origin");
  size_t kept = 0;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(data_.file("uploads"), ec)) kept += e.is_directory();
  EXPECT_EQ(kept, 0u);
  // The server's own pages, and clients with no Origin, may post.
  EXPECT_EQ(status_of(client_->Post("/api/events", {{"Origin", own_origin()}}, event, "text/plain")), 202);
  EXPECT_EQ(status_of(client_->Post("/api/events", {{"Referer", own_origin() + "/insights/"}}, event,
                                    "text/plain")),
            202);
  EXPECT_EQ(status_of(client_->Post("/api/events", event, "text/plain")), 202);
  // Reading stays open: the browser keeps a cross-site answer from the page that asked.
  EXPECT_EQ(status_of(client_->Get("/api/jobs", {{"Origin", "http://evil.example"}})), 200);
}

TEST_F(ServerSecurity, WithATokenOriginIsLeftToTheToken) {
  ASSERT_NO_FATAL_FAILURE(start({"--token", "s3cret-token"}));
  const std::string event = R"({"client":"c_0123456789abcdef","events":[]})";
  httplib::Headers headers = {{"Origin", "http://elsewhere.example"},
                              {"Authorization", "Bearer s3cret-token"}};
  EXPECT_EQ(status_of(client_->Post("/api/events", headers, event, "text/plain")), 202);
  expect_error(client_->Post("/api/events", {{"Origin", "http://elsewhere.example"}}, event, "text/plain"),
               401, "unauthorized");
}

TEST_F(ServerSecurity, EveryResponseCarriesTheSecurityHeaders) {
  for (const std::string path : {"/healthz", "/api/config", "/api/nothing", "/", "/insights/"}) {
    auto r = client_->Get(path.c_str());
    ASSERT_TRUE(r) << path;
    EXPECT_EQ(r->get_header_value("X-Content-Type-Options"), "nosniff") << path;
    EXPECT_EQ(r->get_header_value("Referrer-Policy"), "no-referrer") << path;
    const std::string csp = r->get_header_value("Content-Security-Policy");
    EXPECT_NE(csp.find("frame-ancestors 'none'"), std::string::npos) << path << ": " << csp;
    EXPECT_NE(csp.find("default-src 'self'"), std::string::npos) << path << ": " << csp;
    EXPECT_EQ(csp.find("unsafe-eval"), std::string::npos) << csp;
    EXPECT_EQ(csp.find("unsafe-inline"), std::string::npos) << csp;
  }
  // Refusals too.
  auto refused = client_->Get("/healthz", {{"Host", host("evil.example")}});
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->get_header_value("X-Content-Type-Options"), "nosniff");
}

// A body over the limit is "too large" (413), never "bad JSON" (400): over 1 MB on the JSON routes, and over
// the payload limit (largest upload + 4 MB), where cpp-httplib skips the body unread.
TEST_F(ServerSecurity, OverLimitBodiesAre413) {
  ASSERT_NO_FATAL_FAILURE(start({"--max-image-mb", "0.1", "--max-video-mb", "0.5"}));
  expect_error(client_->Post("/api/events", std::string(2 << 20, ' '), "application/json"), 413, "too_large");
  expect_error(client_->Post("/api/events", std::string(6 << 20, ' '), "text/plain"), 413, "too_large");
  expect_error(client_->Post("/api/jobs", std::string(6 << 20, ' '), "application/json"), 413, "too_large");
  expect_error(
      client_->Post("/api/uploads", httplib::MultipartFormDataItems{{"file", std::string(6 << 20, 'x'),
                                                                     "big.mp4", "video/mp4"}}),
      413, "too_large");
  expect_alive();
}

// A real PNG whose header claims width x height: a few hundred bytes that would decode to gigabytes.
std::string png_claiming(uint32_t width, uint32_t height) {
  std::vector<uchar> png;
  cv::imencode(".png", cv::Mat(8, 8, CV_8UC3, cv::Scalar(1, 2, 3)), png);
  auto put = [&](size_t at, uint32_t v) {
    for (int i = 0; i < 4; ++i) png[at + i] = uchar(v >> (24 - 8 * i));
  };
  put(16, width);
  put(20, height);
  uint32_t c = 0xFFFFFFFFu;  // the IHDR CRC covers its type and 13 data bytes
  for (size_t i = 12; i < 12 + 4 + 13; ++i) {
    c ^= png[i];
    for (int k = 0; k < 8; ++k) c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
  }
  put(29, c ^ 0xFFFFFFFFu);
  return std::string(png.begin(), png.end());
}

// A small PNG declaring 9999x9999 (100 million pixels) was decoded: six of them in parallel took the server
// past a gigabyte. By default an upload may have 50 million pixels, refused before decoding; the limit is
// a flag, and /api/config shows it.
TEST_F(ServerSecurity, ImageUploadsHaveAPixelLimit) {
  auto post = [&](const std::string& bytes) {
    return client_->Post("/api/uploads",
                         httplib::MultipartFormDataItems{{"file", bytes, "huge.png", "image/png"}});
  };
  expect_error(post(png_claiming(9999, 9999)), 415, "unsupported_media", "50000000 pixels");
  expect_error(post(png_claiming(7072, 7072)), 415, "unsupported_media", "50000000 pixels");
  EXPECT_EQ(json::parse(client_->Get("/api/config")->body)["limits"]["image_pixels"], 50'000'000);
  ASSERT_NO_FATAL_FAILURE(start({"--max-image-megapixels", "0.01"}));
  expect_error(post(png_claiming(101, 100)), 415, "unsupported_media", "10000 pixels");
  EXPECT_EQ(json::parse(client_->Get("/api/config")->body)["limits"]["image_pixels"], 10'000);
  expect_alive();
}

// --host decides whether the server needs a token: a DNS name that starts with "127." is not loopback.
TEST_F(ServerSecurity, ANameStartingWith127IsNotLoopback) {
  server_.reset();
  TempDir other;
  ServerProcess open(other.path(), {"--host", "127.0.0.1.nip.io"}, other.file("log"), "off");
  EXPECT_FALSE(open.started());
  EXPECT_EQ(open.exit_code(), 2) << open.log();
  EXPECT_NE(open.log().find("--token"), std::string::npos) << open.log();
}

// A TCP connection to the server on 127.0.0.1 from the loopback address `source` (all of 127.0.0.0/8 is
// this machine), so the server sees another client address than the test's own client.
int connect_from(const std::string& source, int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in from{};
  from.sin_family = AF_INET;
  ::inet_pton(AF_INET, source.c_str(), &from.sin_addr);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(uint16_t(port));
  ::inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&from), sizeof from) != 0 ||
      ::connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof to) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// Everything the server sent until it closed the connection; "(open)" when it is still open after `wait`.
std::string read_until_closed(int fd, std::chrono::milliseconds wait) {
  std::string got;
  const auto until = std::chrono::steady_clock::now() + std::max(wait, std::chrono::milliseconds(200));
  char buf[4096];
  while (std::chrono::steady_clock::now() < until) {
    const ssize_t n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
    if (n == 0) return got;
    if (n > 0) {
      got.append(buf, size_t(n));
      continue;
    }
    if (errno != EAGAIN && errno != EWOULDBLOCK) return got;  // reset: closed too
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return got + "(open)";
}

// Slowloris: 40 connections that each send a header line a second used to take every worker (32), and
// /healthz timed out. Now one address gets at most 24 connections at once (the rest are answered 429 and
// closed) and a request's headers must arrive within 10 s, after which the connection is closed.
TEST_F(ServerSecurity, SlowClientsCannotStarveHealthz) {
  constexpr int kSlow = 40;
  std::vector<int> slow;
  for (int i = 0; i < kSlow; ++i) {
    const int fd = connect_from("127.0.0.2", server_->port());
    ASSERT_GE(fd, 0) << "cannot connect from 127.0.0.2: " << std::strerror(errno);
    slow.push_back(fd);
    const std::string start = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n";
    ::send(fd, start.data(), start.size(), MSG_NOSIGNAL);
  }
  // The deadline holds for every request of a keep-alive connection, not only its first: one quick request
  // from another address, then a slow one on the same connection.
  const int kept = connect_from("127.0.0.3", server_->port());
  ASSERT_GE(kept, 0);
  const std::string quick = "GET /healthz HTTP/1.1\r\nHost: " + host("127.0.0.1") + "\r\n\r\n";
  ::send(kept, quick.data(), quick.size(), MSG_NOSIGNAL);
  std::string first;
  char buf[4096];
  for (int i = 0; i < 50 && first.find("\"status\"") == std::string::npos; ++i) {
    const ssize_t n = ::recv(kept, buf, sizeof buf, MSG_DONTWAIT);
    if (n > 0) first.append(buf, size_t(n));
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(first.rfind("HTTP/1.1 200", 0), 0u) << first;
  ::send(kept, "GET /healthz HTTP/1.1\r\n", 23, MSG_NOSIGNAL);
  slow.push_back(kept);
  std::atomic<bool> stop{false};
  std::thread dribble([&] {
    for (int second = 0; second < 20 && !stop; ++second) {
      for (int fd : slow) {
        const std::string line = "X-Slow-" + std::to_string(second) + ": y\r\n";
        ::send(fd, line.data(), line.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
      }
      for (int i = 0; i < 10 && !stop; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  });
  const auto started = std::chrono::steady_clock::now();
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  httplib::Client health("127.0.0.1", server_->port());
  health.set_connection_timeout(std::chrono::seconds(5));
  health.set_read_timeout(std::chrono::seconds(5));
  auto h = health.Get("/healthz");
  const double waited =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count() - 1.5;
  EXPECT_TRUE(h && h->status == 200)
      << "/healthz did not answer within 5 s while slow clients were connected";
  EXPECT_LT(waited, 5.0);
  // The connections over the per-address limit were answered 429 and closed at once; the others are closed
  // once their 10 s for the headers are up (the test dribbles for 20 s).
  int refused = 0, closed = 0;
  for (int fd : slow) {
    const std::string got = read_until_closed(
        fd, std::chrono::milliseconds(13'000) - std::chrono::duration_cast<std::chrono::milliseconds>(
                                                    std::chrono::steady_clock::now() - started));
    refused += got.rfind("HTTP/1.1 429", 0) == 0;
    closed += got.find("(open)") == std::string::npos;
  }
  stop = true;
  dribble.join();
  for (int fd : slow) ::close(fd);
  EXPECT_EQ(refused, kSlow - 24);
  EXPECT_EQ(closed, kSlow + 1) << "every slow connection is closed by the server within 13 s";
  expect_alive();
}

// A raw request on a fresh connection; everything the server answered.
std::string raw_request(int port, const std::string& request) {
  const int fd = connect_from("127.0.0.1", port);
  if (fd < 0) return "";
  ::send(fd, request.data(), request.size(), MSG_NOSIGNAL);
  const std::string got = read_until_closed(fd, std::chrono::milliseconds(5000));
  ::close(fd);
  return got;
}

// index.html%00.svg was served: the file index.html, with the content type of .svg.
TEST_F(ServerSecurity, APathWithANulByteIsRefused) {
  const std::string got =
      raw_request(server_->port(), "GET /index.html%00.svg HTTP/1.1\r\nHost: " + host("127.0.0.1") +
                                       "\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(got.rfind("HTTP/1.1 400", 0), 0u) << got.substr(0, 300);
  EXPECT_EQ(got.find("image/svg"), std::string::npos) << got.substr(0, 300);
  // The page itself is still served.
  auto page = client_->Get("/index.html");
  ASSERT_TRUE(page);
  EXPECT_EQ(page->status, 200);
  expect_alive();
}

// A second server started once serve.lock was deleted: the lock is now the OS's, on the data dir itself.
TEST_F(ServerSecurity, ASecondServerOnTheDataDirIsRefusedEvenWithoutTheLockFile) {
  std::error_code ec;
  fs::remove(data_.file("serve.lock"), ec);
  ServerProcess second(data_.path(), {}, data_.file("second.log"), "off");
  EXPECT_FALSE(second.started()) << "two servers share " << data_.path();
  EXPECT_NE(second.log().find("another faceweave serve"), std::string::npos) << second.log();
  expect_alive();
  // Once the first stops, the data dir is free.
  server_.reset();
  ServerProcess third(data_.path(), {}, data_.file("third.log"), "off");
  EXPECT_TRUE(third.started()) << third.log();
}

// A full disk during an upload was answered "truncated JPEG" (415). The server here runs under a 1 MB file
// size limit (RLIMIT_FSIZE, inherited from the test), so writing a 3 MB upload fails as on a full disk.
TEST_F(ServerSecurity, AFullDiskDuringAnUploadIs507) {
  server_.reset();
  rlimit before{};
  ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &before), 0);
  rlimit small = before;
  small.rlim_cur = 1 << 20;
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &small), 0);
  start();
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &before), 0);
  std::string jpeg = read_all(image("obama.jpg"));
  while (jpeg.size() < (3u << 20)) jpeg += jpeg;
  auto r =
      client_->Post("/api/uploads", httplib::MultipartFormDataItems{{"file", jpeg, "big.jpg", "image/jpeg"}});
  expect_error(r, 507, "insufficient_storage", "disk is full");
  expect_alive();
  size_t kept = 0;
  for (const auto& e : fs::directory_iterator(data_.file("uploads"))) kept += e.is_directory();
  EXPECT_EQ(kept, 0u) << "the partial upload is removed";
  upload(image("biden.jpg"));  // a small one still fits
}

}  // namespace
}  // namespace faceweave::testing
