#include "infer/sha256.h"

#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "test_support.h"

namespace faceweave::infer {
namespace {

using ::faceweave::testing::TempDir;
using ::faceweave::testing::write_file;
using ::testing::HasSubstr;

// FIPS 180-2 / NIST test vectors.
constexpr const char* kEmpty = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
constexpr const char* kAbc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
constexpr const char* kTwoBlock = "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1";
constexpr const char* kMillionA = "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0";

TEST(Sha256Test, KnownVectors) {
  EXPECT_EQ(sha256_hex(""), kEmpty);
  EXPECT_EQ(sha256_hex("abc"), kAbc);
  EXPECT_EQ(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"), kTwoBlock);
  EXPECT_EQ(sha256_hex(std::string(1'000'000, 'a')), kMillionA);
}

TEST(Sha256Test, HexIsLowerCase64Chars) {
  std::string h = sha256_hex("faceweave");
  ASSERT_EQ(h.size(), 64u);
  for (char c : h) EXPECT_TRUE((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')) << h;
}

TEST(Sha256Test, BinaryDataWithNulBytes) {
  // A string_view with embedded NULs must be hashed in full, not up to the first NUL.
  std::string with_nul("abc\0def", 7);
  EXPECT_NE(sha256_hex(with_nul), kAbc);
  EXPECT_NE(sha256_hex(with_nul), sha256_hex("abc"));
}

TEST(Sha256FileTest, MatchesInMemoryHash) {
  TempDir dir;
  const std::string small = "abc";
  write_file(dir.file("abc.txt"), small);
  auto r = sha256_file(dir.file("abc.txt"));
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  EXPECT_EQ(*r, kAbc);

  write_file(dir.file("empty"), "");
  r = sha256_file(dir.file("empty"));
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  EXPECT_EQ(*r, kEmpty);
}

TEST(Sha256FileTest, LargeFileAcrossBlockBoundaries) {
  // The file is streamed in 1 MiB blocks: sizes around and past the boundary must hash the same as in memory.
  TempDir dir;
  for (size_t size : {size_t(1) << 20, (size_t(1) << 20) + 1, (size_t(5) << 20) / 2}) {
    std::string bytes(size, '\0');
    for (size_t i = 0; i < size; ++i) bytes[i] = char((i * 2654435761u) >> 13);
    const std::string path = dir.file("blob" + std::to_string(size));
    write_file(path, bytes);
    auto r = sha256_file(path);
    ASSERT_TRUE(r.is_ok()) << r.status().to_string();
    EXPECT_EQ(*r, sha256_hex(bytes)) << size;
  }
  std::string million(1'000'000, 'a');
  write_file(dir.file("million"), million);
  auto r = sha256_file(dir.file("million"));
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  EXPECT_EQ(*r, kMillionA);
}

TEST(Sha256FileTest, MissingFileIsAnError) {
  TempDir dir;
  const std::string path = dir.file("missing.onnx");
  auto r = sha256_file(path);
  ASSERT_FALSE(r.is_ok());
  EXPECT_NE(r.status().code(), StatusCode::kOk);
  EXPECT_THAT(r.status().message(), HasSubstr(path));
}

TEST(Sha256FileTest, FolderIsAnError) {
  // Opening a folder succeeds on Linux; reading it must not be mistaken for an empty file.
  TempDir dir;
  auto r = sha256_file(dir.path());
  ASSERT_FALSE(r.is_ok()) << "a folder hashed as " << *r;
  EXPECT_THAT(r.status().message(), HasSubstr(dir.path()));
}

}  // namespace
}  // namespace faceweave::infer
