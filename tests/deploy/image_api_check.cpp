// The faceweave image from outside, as a user of the published port sees it (deploy/image/test.sh runs it
// against a container started from the image; not a CTest test, since it needs that container):
// health and readiness, the token enforced, two photos uploaded, a job run, its result downloaded, and the
// identity in the result moved to the source's (judged by the engine of this build on the host).
// Environment: FACEWEAVE_IMAGE_URL (http://127.0.0.1:PORT), FACEWEAVE_IMAGE_TOKEN.
#include <cstdlib>
#include <filesystem>
#include <thread>

#include <gtest/gtest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>

#include "faceweave/engine.h"
#include "test_support.h"

namespace faceweave::testing {
namespace {
namespace fs = std::filesystem;
using nlohmann::json;

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

class Image : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(env("FACEWEAVE_IMAGE_URL").empty()) << "set FACEWEAVE_IMAGE_URL (deploy/image/test.sh does)";
    ASSERT_FALSE(token_.empty()) << "set FACEWEAVE_IMAGE_TOKEN";
    client_ = std::make_unique<httplib::Client>(env("FACEWEAVE_IMAGE_URL"));
    client_->set_read_timeout(std::chrono::seconds(120));
    auth_ = {{"Authorization", "Bearer " + token_}};
  }

  static json body(const httplib::Result& r) { return r ? json::parse(r->body, nullptr, false) : json(); }

  std::string upload(const std::string& path) {
    httplib::MultipartFormDataItems items = {
        {"file", read_all(path), fs::path(path).filename().string(), "application/octet-stream"}};
    auto r = client_->Post("/api/uploads", auth_, items);
    EXPECT_TRUE(r);
    if (!r) return "";
    EXPECT_EQ(r->status, 201) << r->body;
    return body(r).value("id", "");
  }

  std::string token_ = env("FACEWEAVE_IMAGE_TOKEN");
  std::unique_ptr<httplib::Client> client_;
  httplib::Headers auth_;
};

TEST_F(Image, AnswersHealthAndReadinessAndNeedsTheToken) {
  auto health = client_->Get("/healthz");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
  auto ready = client_->Get("/readyz");
  ASSERT_TRUE(ready);
  EXPECT_EQ(ready->status, 200) << ready->body;
  EXPECT_EQ(body(ready)["status"], "ready");
  EXPECT_TRUE(body(client_->Get("/api/config"))["auth_required"].get<bool>());
  auto refused = client_->Get("/api/jobs");
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 401);
  EXPECT_EQ(client_->Get("/api/jobs", auth_)->status, 200);
  auto page = client_->Get("/");  // the web UI is in the image
  ASSERT_TRUE(page);
  EXPECT_EQ(page->status, 200);
  EXPECT_NE(page->body.find("<html"), std::string::npos);
}

TEST_F(Image, SwapsAnUploadedPairAndTheIdentityMovesToTheSource) {
  const std::string source = upload(image("obama.jpg"));
  const std::string target = upload(image("biden.jpg"));
  ASSERT_FALSE(source.empty() || target.empty());
  const json request{{"sources", {source}}, {"target", target}, {"options", {{"output_format", "png"}}}};
  auto created = client_->Post("/api/jobs", auth_, request.dump(), "application/json");
  ASSERT_TRUE(created);
  ASSERT_EQ(created->status, 201) << created->body;
  const std::string id = body(created)["id"];
  json job;
  for (int i = 0; i < 1800; ++i) {
    job = body(client_->Get(("/api/jobs/" + id).c_str(), auth_));
    const std::string s = job.is_object() ? job.value("status", "") : "";
    if (s != "queued" && s != "running") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_EQ(job["status"], "done") << job.dump();
  auto result = client_->Get(job["result"]["url"].get<std::string>().c_str(), auth_);
  ASSERT_TRUE(result);
  ASSERT_EQ(result->status, 200);
  cv::Mat out = cv::imdecode(std::vector<uchar>(result->body.begin(), result->body.end()), cv::IMREAD_COLOR);
  ASSERT_FALSE(out.empty());

  EngineOptions eo;
  eo.models_dir = models_dir();
  eo.manifest_path = manifest_path();
  auto engine = Engine::create(eo);
  ASSERT_TRUE(engine) << engine.status().message();
  auto src = (*engine)->analyse(*load_image(image("obama.jpg")));
  auto before = (*engine)->analyse(*load_image(image("biden.jpg")));
  auto after = (*engine)->analyse(out);
  ASSERT_TRUE(src && before && after);
  ASSERT_EQ(after->size(), 1u);
  const float moved = face_similarity((*after)[0], (*src)[0]);
  const float was = face_similarity((*before)[0], (*src)[0]);
  EXPECT_GT(moved, was + 0.1f) << "after " << moved << " before " << was;

  // Prometheus' view of the same server: the job is counted.
  auto metrics = client_->Get("/metrics", auth_);
  ASSERT_TRUE(metrics);
  EXPECT_EQ(metrics->status, 200);
  EXPECT_NE(metrics->body.find("faceweave_"), std::string::npos);
}

}  // namespace
}  // namespace faceweave::testing
