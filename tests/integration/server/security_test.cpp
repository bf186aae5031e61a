// Server hardening against a real `faceweave serve` process (docs/security.md): deeply nested JSON, DNS
// rebinding (Host), cross-site requests (Origin), security headers, over-limit bodies and the loopback
// check of --host.
#include <arpa/inet.h>
#include <netinet/in.h>
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

}  // namespace
}  // namespace faceweave::testing
