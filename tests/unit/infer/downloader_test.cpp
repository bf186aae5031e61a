// The model downloader against a real HTTP server on localhost (cpp-httplib), so resume, retries, status
// codes and timeouts go through libcurl exactly as they would against GitHub.
#include "infer/downloader.h"

#include <httplib.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "infer/sha256.h"
#include "test_support.h"

namespace faceweave::infer {
namespace {

namespace fs = std::filesystem;
using ::faceweave::testing::TempDir;
using ::testing::HasSubstr;

std::string payload() {
  std::string s(300000, '\0');
  for (size_t i = 0; i < s.size(); ++i) s[i] = char((i * 131 + i / 7) & 0xff);
  return s;
}

std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

class DownloaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    body_ = payload();
    server_.Get("/model.onnx", [this](const httplib::Request&, httplib::Response& res) {
      ++hits_;
      res.set_content(body_, "application/octet-stream");
    });
    // The first answer stops half-way (the connection is cut); later ones honour Range.
    server_.Get("/cut.onnx", [this](const httplib::Request& req, httplib::Response& res) {
      const int hit = hits_++;
      if (req.has_header("Range")) ranged_requests_++;
      res.set_content_provider(body_.size(), "application/octet-stream",
                               [this, hit](size_t offset, size_t length, httplib::DataSink& sink) {
                                 if (hit == 0) {
                                   sink.write(body_.data() + offset, std::min(length, body_.size() / 2));
                                   return false;  // drop the connection mid-body
                                 }
                                 sink.write(body_.data() + offset, length);
                                 return true;
                               });
    });
    server_.Get("/flaky.onnx", [this](const httplib::Request&, httplib::Response& res) {
      if (hits_++ == 0) {
        res.status = 503;
        res.set_content("busy", "text/plain");
        return;
      }
      res.set_content(body_, "application/octet-stream");
    });
    server_.Get("/missing.onnx", [this](const httplib::Request&, httplib::Response& res) {
      ++hits_;
      res.status = 404;
      res.set_content("not found", "text/plain");
    });
    server_.Get("/stall.onnx", [this](const httplib::Request&, httplib::Response& res) {
      ++hits_;
      res.set_content_provider(body_.size(), "application/octet-stream",
                               [this](size_t offset, size_t, httplib::DataSink& sink) {
                                 sink.write(body_.data() + offset, 1000);
                                 for (int i = 0; i < 100 && !stop_; ++i)
                                   std::this_thread::sleep_for(std::chrono::milliseconds(50));
                                 return false;
                               });
    });
    server_.Get("/model.hash", [this](const httplib::Request&, httplib::Response& res) {
      res.set_content(crc_ + "\n", "text/plain");
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    ASSERT_GT(port_, 0);
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    dest_ = dir_.file("models/model.onnx");
    fs::create_directories(dir_.file("body"));
    ::faceweave::testing::write_file(dir_.file("body/model.onnx"), body_);
    crc_ = *crc32_file(dir_.file("body/model.onnx"));
  }
  void TearDown() override {
    stop_ = true;
    server_.stop();
    if (thread_.joinable()) thread_.join();
  }
  std::string url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }
  DownloadRequest request(const std::string& path) const {
    return {"model", url(path), dest_, sha256_hex(body_), ""};
  }
  static DownloadOptions fast() {
    DownloadOptions o;
    o.attempts = 3;
    o.backoff_ms = 20;
    o.stall_timeout_s = 1;
    o.connect_timeout_s = 2;
    return o;
  }

  TempDir dir_;
  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
  std::string body_;
  std::string crc_;
  std::string dest_;
  std::atomic<int> hits_{0};
  std::atomic<int> ranged_requests_{0};
  std::atomic<bool> stop_{false};
};

TEST_F(DownloaderTest, FullDownloadIsVerifiedAndRenamedIntoPlace) {
  int64_t last_done = 0;
  DownloadOptions o = fast();
  o.progress = [&](int64_t done, int64_t) { last_done = done; };
  auto r = download_file(request("/model.onnx"), o);
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  EXPECT_EQ(read_all(dest_), body_);
  EXPECT_FALSE(fs::exists(dest_ + ".part"));
  EXPECT_EQ(r->bytes, int64_t(body_.size()));
  EXPECT_EQ(r->attempts, 1);
  EXPECT_FALSE(r->resumed);
  EXPECT_EQ(r->checksum, "sha256:" + sha256_hex(body_));
  EXPECT_EQ(last_done, int64_t(body_.size()));
}

TEST_F(DownloaderTest, CutConnectionResumesWithRange) {
  auto r = download_file(request("/cut.onnx"), fast());
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  EXPECT_EQ(read_all(dest_), body_);
  EXPECT_EQ(r->attempts, 2);
  EXPECT_TRUE(r->resumed);
  EXPECT_EQ(ranged_requests_.load(), 1) << "the second try must ask only for the missing bytes";
}

TEST_F(DownloaderTest, LeftoverPartialFileIsResumed) {
  fs::create_directories(fs::path(dest_).parent_path());
  ::faceweave::testing::write_file(dest_ + ".part", body_.substr(0, 1000));
  auto r = download_file(request("/model.onnx"), fast());
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  EXPECT_TRUE(r->resumed);
  EXPECT_EQ(read_all(dest_), body_);
}

TEST_F(DownloaderTest, ServerErrorIsRetried) {
  auto r = download_file(request("/flaky.onnx"), fast());
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  EXPECT_EQ(r->attempts, 2);
  EXPECT_EQ(hits_.load(), 2);
  EXPECT_EQ(read_all(dest_), body_);
}

TEST_F(DownloaderTest, ChecksumMismatchDeletesTheFileAndSaysSo) {
  DownloadRequest req = request("/model.onnx");
  req.sha256 = sha256_hex("something else");
  auto r = download_file(req, fast());
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().code(), StatusCode::kModelError);
  EXPECT_THAT(r.status().message(), HasSubstr("failed verification"));
  EXPECT_THAT(r.status().message(), HasSubstr(req.sha256));
  EXPECT_THAT(r.status().message(), HasSubstr(sha256_hex(body_)));
  EXPECT_THAT(r.status().message(), HasSubstr("deleted"));
  EXPECT_FALSE(fs::exists(dest_));
  EXPECT_FALSE(fs::exists(dest_ + ".part"));
}

TEST_F(DownloaderTest, MismatchNeverReplacesAGoodFile) {
  fs::create_directories(fs::path(dest_).parent_path());
  ::faceweave::testing::write_file(dest_, "the model that was there before");
  DownloadRequest req = request("/model.onnx");
  req.sha256 = sha256_hex("something else");
  ASSERT_FALSE(download_file(req, fast()).is_ok());
  EXPECT_EQ(read_all(dest_), "the model that was there before");
}

TEST_F(DownloaderTest, Crc32IsUsedWhenNoSha256IsKnown) {
  DownloadRequest req = request("/model.onnx");
  req.sha256.clear();
  req.crc32 = crc_;
  auto r = download_file(req, fast());
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  EXPECT_EQ(r->checksum, "crc32:" + crc_);
  req.crc32 = "00000000";
  fs::remove(dest_);
  auto bad = download_file(req, fast());
  ASSERT_FALSE(bad.is_ok());
  EXPECT_THAT(bad.status().message(), HasSubstr("expected crc32 00000000"));
}

TEST_F(DownloaderTest, NotFoundIsNotRetried) {
  auto r = download_file(request("/missing.onnx"), fast());
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(r.status().message(), HasSubstr("HTTP 404"));
  EXPECT_THAT(r.status().message(), HasSubstr(url("/missing.onnx")));
  EXPECT_EQ(hits_.load(), 1);
  EXPECT_FALSE(fs::exists(dest_));
  EXPECT_FALSE(fs::exists(dest_ + ".part")) << "an error page must never be kept as a partial model";
}

TEST_F(DownloaderTest, StalledTransferTimesOutAndKeepsThePartForLater) {
  DownloadOptions o = fast();
  o.attempts = 2;
  const auto start = std::chrono::steady_clock::now();
  auto r = download_file(request("/stall.onnx"), o);
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().code(), StatusCode::kIoError);
  EXPECT_THAT(r.status().message(), HasSubstr("after 2 attempt(s)"));
  EXPECT_EQ(hits_.load(), 2);
  EXPECT_LT(s, 8.0) << "the stall timeout (1 s) did not end the tries";
  EXPECT_FALSE(fs::exists(dest_));
  EXPECT_TRUE(fs::exists(dest_ + ".part"));
}

TEST_F(DownloaderTest, OfflineErrorExplainsHowToPlaceTheFileByHand) {
  DownloadRequest req = request("/model.onnx");
  req.url = "http://127.0.0.1:1/inswapper_128.onnx";  // nothing listens on port 1
  auto r = download_file(req, fast());
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().code(), StatusCode::kIoError);
  const std::string& m = r.status().message();
  EXPECT_THAT(m, HasSubstr(req.url));
  EXPECT_THAT(m, HasSubstr(fs::path(dest_).parent_path().string()));
  EXPECT_THAT(m, HasSubstr("model.onnx"));
  EXPECT_THAT(m, HasSubstr("faceweave models verify"));
}

TEST_F(DownloaderTest, FetchTextReadsAHashFile) {
  auto t = fetch_text(url("/model.hash"), fast());
  ASSERT_TRUE(t.is_ok()) << t.status().to_string();
  EXPECT_EQ(*t, crc_ + "\n");
}

TEST(Crc32Test, KnownValue) {
  TempDir dir;
  ::faceweave::testing::write_file(dir.file("a"), "123456789");
  EXPECT_EQ(*crc32_file(dir.file("a")), "cbf43926");  // the CRC-32 check value
}

}  // namespace
}  // namespace faceweave::infer
