// What the server keeps stays private (docs/security.md): owner-only files and folders whatever the umask,
// error messages without server paths, and browser events limited to the UI's own words.
#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <thread>

#include <gtest/gtest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include "server_process.h"

namespace faceweave::testing {
namespace {
namespace fs = std::filesystem;
using nlohmann::json;

unsigned mode_of(const fs::path& p) {
  struct stat st {};
  ::lstat(p.c_str(), &st);
  return st.st_mode & 07777;
}

class ServerPrivacy : public ::testing::Test {
 protected:
  void start(const std::string& telemetry = "off") {
    server_ = std::make_unique<ServerProcess>(data_.path(), std::vector<std::string>{},
                                              data_.file("server.log"), telemetry);
    ASSERT_TRUE(server_->started()) << server_->log();
    client_ = std::make_unique<httplib::Client>("127.0.0.1", server_->port());
    client_->set_read_timeout(std::chrono::seconds(120));
  }

  json upload(const std::string& path) {
    auto r = client_->Post(
        "/api/uploads",
        httplib::MultipartFormDataItems{{"file", read_all(path), fs::path(path).filename().string(), ""}});
    EXPECT_TRUE(r && r->status == 201) << (r ? r->body : "no answer");
    return r ? json::parse(r->body, nullptr, false) : json();
  }

  TempDir data_;
  std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<httplib::Client> client_;
};

// With umask 000 uploads, results and jobs.db were 0666 and folders 0777; folders that already existed
// kept their mode. Now every folder is 0700 and every file 0600.
TEST_F(ServerPrivacy, DataFilesAreOwnerOnlyWhateverTheUmask) {
  fs::create_directories(fs::path(data_.path()) / "uploads");
  fs::create_directories(fs::path(data_.path()) / "results");
  fs::permissions(fs::path(data_.path()) / "uploads", fs::perms::all);
  fs::permissions(fs::path(data_.path()) / "results", static_cast<fs::perms>(0755));
  const mode_t old_umask = ::umask(0);  // the server inherits it
  start("all");
  ::umask(old_umask);
  const json source = upload(image("obama.jpg"));
  const json target = upload(image("biden.jpg"));
  auto created = client_->Post(
      "/api/jobs",
      json{{"sources", {source["id"]}}, {"target", target["id"]}, {"options", {{"blend", "affine"}}}}.dump(),
      "application/json");
  ASSERT_TRUE(created && created->status == 201) << (created ? created->body : "");
  const std::string id = json::parse(created->body)["id"];
  std::string status;
  for (int i = 0; i < 1800 && status != "done" && status != "failed"; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    status = json::parse(client_->Get(("/api/jobs/" + id).c_str())->body).value("status", "");
  }
  ASSERT_EQ(status, "done");
  ASSERT_EQ(server_->stop(), 0) << server_->log();

  int files = 0, folders = 0;
  bool saw_result = false, saw_jobs_db = false, saw_events_db = false;
  EXPECT_EQ(mode_of(data_.path()), 0700u);
  for (const auto& e : fs::recursive_directory_iterator(data_.path())) {
    const std::string rel = fs::relative(e.path(), data_.path()).string();
    if (rel == "server.log") continue;  // the test's own file
    if (e.is_directory()) {
      ++folders;
      EXPECT_EQ(mode_of(e.path()), 0700u) << rel;
    } else {
      ++files;
      EXPECT_EQ(mode_of(e.path()), 0600u) << rel;
    }
    saw_result |= rel.rfind("results/" + id, 0) == 0;
    saw_jobs_db |= rel == "jobs.db";
    saw_events_db |= rel == "telemetry/events.db";
  }
  EXPECT_TRUE(saw_result && saw_jobs_db && saw_events_db);
  EXPECT_GE(folders, 5);  // uploads, two uploads, results, telemetry
  EXPECT_GE(files, 6);
}

// An error about an upload named its file on the server (<data dir>/uploads/u_.../media.jpg).
TEST_F(ServerPrivacy, ErrorMessagesNameNoServerPath) {
  start();
  const json photo = upload(image("obama.jpg"));
  const std::string id = photo["id"];
  auto r = client_->Get(("/api/uploads/" + id + "/frame?index=3").c_str());
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400) << r->body;
  const std::string message = json::parse(r->body)["error"]["message"];
  EXPECT_EQ(message.find(data_.path()), std::string::npos) << message;
  EXPECT_EQ(message.find("media."), std::string::npos) << message;
  EXPECT_NE(message.find("upload " + id), std::string::npos) << message;
}

// value "secret_name_123" and where "192-168-1-1" were stored verbatim: any 24-character word passed.
TEST_F(ServerPrivacy, BrowserEventsCarryOnlyTheUisWords) {
  start("all");
  const json batch{{"client", "c_0123456789abcdef01234567"},
                   {"events",
                    {{{"event", "ui.action"},
                      {"props", {{"control", "blend"}, {"action", "change"}, {"value", "affine"}}}},
                     {{"event", "ui.action"},
                      {"props", {{"control", "blend"}, {"action", "change"}, {"value", "secret_name_123"}}}},
                     {{"event", "ui.error"}, {"props", {{"code", "no_face"}, {"where", "192-168-1-1"}}}},
                     {{"event", "ui.action"}, {"props", {{"control", "annlee"}, {"action", "click"}}}}}}};
  auto r = client_->Post("/api/events", batch.dump(), "text/plain");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 202) << r->body;
  const json answer = json::parse(r->body);
  EXPECT_EQ(answer["accepted"], 1) << r->body;
  ASSERT_EQ(answer["rejected"].size(), 3u) << r->body;
  ASSERT_EQ(server_->stop(), 0);
  auto exported = run_command(binary() + " --data-dir " + data_.path() +
                              " --telemetry all telemetry export --format ndjson");
  ASSERT_EQ(exported.code, 0) << exported.out;
  EXPECT_EQ(exported.out.find("secret_name"), std::string::npos);
  EXPECT_EQ(exported.out.find("192-168"), std::string::npos);
  EXPECT_EQ(exported.out.find("annlee"), std::string::npos);
  EXPECT_NE(exported.out.find("affine"), std::string::npos);
}

}  // namespace
}  // namespace faceweave::testing
