// Every bad input gets a clear error (what was wrong, what to do) and no crash; the asan build runs these.
#include <sys/stat.h>

#include <filesystem>

#include <opencv2/imgcodecs.hpp>

#include "analysis_support.h"

namespace faceweave::testing {
namespace {

void expect_error(const Result<cv::Mat>& r, StatusCode code, const std::string& needle) {
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().code(), code) << r.status().to_string();
  EXPECT_NE(r.status().message().find(needle), std::string::npos) << r.status().message();
}

TEST(BadInput, MissingFile) {
  expect_error(load_image("/nonexistent/face.jpg"), StatusCode::kNotFound, "does not exist");
}

TEST(BadInput, EmptyFile) {
  TempDir dir;
  write_file(dir.file("empty.jpg"), "");
  expect_error(load_image(dir.file("empty.jpg")), StatusCode::kInvalidInput, "empty");
}

TEST(BadInput, TruncatedJpeg) {
  TempDir dir;
  std::string bytes = read_all(image("obama.jpg"));
  ASSERT_GT(bytes.size(), 1000u);
  write_file(dir.file("cut.jpg"), bytes.substr(0, bytes.size() / 2));
  expect_error(load_image(dir.file("cut.jpg")), StatusCode::kInvalidInput, "truncated");
}

TEST(BadInput, TextFileNamedJpg) {
  TempDir dir;
  write_file(dir.file("notes.jpg"), "these are my holiday notes, not a photo\n");
  expect_error(load_image(dir.file("notes.jpg")), StatusCode::kInvalidInput, "not an image");
}

TEST(BadInput, OneByOneImageLoadsButCannotBeAnalysed) {
  TempDir dir;
  cv::Mat px(1, 1, CV_8UC3, cv::Scalar(10, 20, 30));
  ASSERT_TRUE(cv::imwrite(dir.file("1x1.png"), px));
  auto img = load_image(dir.file("1x1.png"));
  ASSERT_TRUE(img.is_ok());
  auto faces = shared_engine().analyse(*img);
  ASSERT_FALSE(faces.is_ok());
  EXPECT_EQ(faces.status().code(), StatusCode::kInvalidInput);
  EXPECT_NE(faces.status().message().find("1x1"), std::string::npos) << faces.status().message();
}

TEST(BadInput, HugeHeaderIsRefusedBeforeDecoding) {
  // A real PNG signature and IHDR claiming 30000x30000, followed by nothing: decoding it would allocate
  // 2.7 GB; it must be refused from the header alone.
  std::string png("\x89PNG\r\n\x1a\n", 8);
  png += std::string("\x00\x00\x00\x0dIHDR", 8);
  png += std::string("\x00\x00\x75\x30\x00\x00\x75\x30\x08\x02\x00\x00\x00", 13);
  png += std::string("\x00\x00\x00\x00", 4);  // CRC (not checked before the size)
  png += std::string("\x00\x00\x00\x00IEND\xae\x42\x60\x82", 12);
  TempDir dir;
  write_file(dir.file("huge.png"), png);
  expect_error(load_image(dir.file("huge.png")), StatusCode::kInvalidInput, "30000x30000");
}

TEST(BadInput, UnreadableModelsDirectory) {
  TempDir dir;
  // A file where the models folder should be: unreadable as a folder for every user, root included.
  write_file(dir.file("models"), "not a folder");
  EngineOptions o = test_engine_options();
  o.models_dir = dir.file("models");
  auto e = Engine::create(o);
  ASSERT_FALSE(e.is_ok());
  EXPECT_EQ(e.status().code(), StatusCode::kPermissionDenied);
  EXPECT_NE(e.status().message().find(dir.file("models")), std::string::npos);
  EXPECT_NE(e.status().message().find("FACEWEAVE_MODELS_DIR"), std::string::npos);
}

TEST(BadInput, MissingModelNamesTheFileAndTheFix) {
  TempDir dir;
  EngineOptions o = test_engine_options();
  o.models_dir = dir.path();  // an empty but readable folder
  auto e = Engine::create(o);
  ASSERT_FALSE(e.is_ok());
  EXPECT_EQ(e.status().code(), StatusCode::kModelError);
  EXPECT_NE(e.status().message().find(dir.file("fr_detect.onnx")), std::string::npos) << e.status().message();
  EXPECT_NE(e.status().message().find("fetch-models.sh"), std::string::npos) << e.status().message();
}

TEST(BadInput, CorruptModelNamesBothHashes) {
  TempDir dir;
  for (const auto& entry : std::filesystem::directory_iterator(models_dir()))
    std::filesystem::copy(entry.path(), dir.file(entry.path().filename().string()));
  write_file(dir.file("fr_landmark.onnx"), "garbage");
  EngineOptions o = test_engine_options();
  o.models_dir = dir.path();
  auto e = Engine::create(o);
  ASSERT_FALSE(e.is_ok());
  EXPECT_EQ(e.status().code(), StatusCode::kModelError);
  const std::string& m = e.status().message();
  EXPECT_NE(m.find("f10b0ba1d2a8a099adefede1ebf3733e44fe370715e7303dbeb7f59c02142258"), std::string::npos)
      << m;
  // sha256("garbage")
  EXPECT_NE(m.find("795b6904e54f82411df4b0e27a373a55eea3f9d66dac5a9bce1dd92f7b401da5"), std::string::npos)
      << m;
}

}  // namespace
}  // namespace faceweave::testing
