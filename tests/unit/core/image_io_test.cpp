#include "core/image_io.h"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "test_support.h"
#include "unprivileged.h"

namespace faceweave::core {
namespace {

namespace fs = std::filesystem;
using ::faceweave::testing::make_reachable;
using ::faceweave::testing::read_all;
using ::faceweave::testing::run_unprivileged;
using ::faceweave::testing::TempDir;
using ::faceweave::testing::write_file;
using ::testing::HasSubstr;

// A deterministic colour image with structure in every channel, so codecs have real work to do.
cv::Mat synthetic_bgr(int width, int height) {
  cv::Mat m(height, width, CV_8UC3);
  for (int y = 0; y < height; ++y)
    for (int x = 0; x < width; ++x)
      m.at<cv::Vec3b>(y, x) =
          cv::Vec3b(uint8_t((x * 255) / std::max(1, width - 1)), uint8_t((y * 255) / std::max(1, height - 1)),
                    uint8_t((x * 7 + y * 13) % 256));
  cv::circle(m, cv::Point(width / 2, height / 2), std::min(width, height) / 4, cv::Scalar(30, 200, 90), -1);
  return m;
}

// Smooth gradients and one soft-edged disc: what lossy codecs reproduce closely at high quality.
cv::Mat smooth_bgr(int width, int height) {
  cv::Mat m(height, width, CV_8UC3);
  for (int y = 0; y < height; ++y)
    for (int x = 0; x < width; ++x)
      m.at<cv::Vec3b>(y, x) = cv::Vec3b(uint8_t(40 + (x * 150) / width), uint8_t(60 + (y * 120) / height),
                                        uint8_t(90 + ((x + y) * 100) / (width + height)));
  cv::circle(m, cv::Point(width / 2, height / 2), std::min(width, height) / 4, cv::Scalar(30, 200, 90), -1,
             cv::LINE_AA);
  cv::GaussianBlur(m, m, cv::Size(5, 5), 1.5);
  return m;
}

std::vector<uint8_t> encode(const std::string& ext, const cv::Mat& m, const std::vector<int>& params = {}) {
  std::vector<uint8_t> out;
  EXPECT_TRUE(cv::imencode(ext, m, out, params)) << ext;
  return out;
}

std::string as_string(const std::vector<uint8_t>& v) {
  return std::string(v.begin(), v.end());
}

std::span<const uint8_t> as_span(const std::vector<uint8_t>& v) {
  return {v.data(), v.size()};
}
std::span<const uint8_t> as_span(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

uint32_t crc32(const uint8_t* data, size_t n) {
  uint32_t c = 0xFFFFFFFFu;
  for (size_t i = 0; i < n; ++i) {
    c ^= data[i];
    for (int k = 0; k < 8; ++k) c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
  }
  return c ^ 0xFFFFFFFFu;
}

void put_be32(uint8_t* p, uint32_t v) {
  p[0] = uint8_t(v >> 24);
  p[1] = uint8_t(v >> 16);
  p[2] = uint8_t(v >> 8);
  p[3] = uint8_t(v);
}

// A complete, otherwise valid PNG whose IHDR claims width x height (with a correct CRC, so only the size is
// wrong).
std::vector<uint8_t> png_claiming(uint32_t width, uint32_t height) {
  std::vector<uint8_t> png = encode(".png", synthetic_bgr(8, 8));
  EXPECT_EQ(std::string(png.begin() + 12, png.begin() + 16), "IHDR");
  put_be32(&png[16], width);
  put_be32(&png[20], height);
  put_be32(&png[29], crc32(&png[12], 4 + 13));  // CRC covers the chunk type and its 13 data bytes
  return png;
}

double mean_abs_diff(const cv::Mat& a, const cv::Mat& b) {
  cv::Mat diff;
  cv::absdiff(a, b, diff);
  cv::Scalar s = cv::mean(diff);
  return (s[0] + s[1] + s[2]) / 3.0;
}

// ---- load_image: bad inputs each give a clear error ----

TEST(LoadImageTest, MissingFileIsNotFound) {
  TempDir dir;
  const std::string path = dir.file("nope.jpg");
  auto r = load_image(path);
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(r.status().message(), HasSubstr(path));
  EXPECT_THAT(r.status().message(), HasSubstr("does not exist"));
}

TEST(LoadImageTest, EmptyFileIsInvalidInput) {
  TempDir dir;
  const std::string path = dir.file("empty.png");
  write_file(path, "");
  auto r = load_image(path);
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidInput);
  EXPECT_THAT(r.status().message(), HasSubstr(path));
  EXPECT_THAT(r.status().message(), HasSubstr("empty"));
}

TEST(LoadImageTest, TextFileNamedJpgIsNotAnImage) {
  TempDir dir;
  const std::string path = dir.file("notes.jpg");
  write_file(path, "These are my holiday notes, not a picture.\n");
  auto r = load_image(path);
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidInput);
  EXPECT_THAT(r.status().message(), HasSubstr(path));
  EXPECT_THAT(r.status().message(), HasSubstr("not an image"));
}

TEST(LoadImageTest, FolderIsRefused) {
  TempDir dir;
  auto r = load_image(dir.path());
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidInput);
  EXPECT_THAT(r.status().message(), HasSubstr("folder"));
}

TEST(LoadImageTest, TruncatedJpegIsRefused) {
  TempDir dir;
  std::vector<uint8_t> jpg = encode(".jpg", synthetic_bgr(160, 120), {cv::IMWRITE_JPEG_QUALITY, 90});
  ASSERT_GT(jpg.size(), 1000u);
  jpg.resize(jpg.size() / 2);
  const std::string path = dir.file("half.jpg");
  write_file(path, as_string(jpg));
  auto r = load_image(path);
  ASSERT_FALSE(r.is_ok()) << "a half JPEG decoded to " << r->cols << "x" << r->rows;
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidInput);
  EXPECT_THAT(r.status().message(), HasSubstr(path));
  EXPECT_THAT(r.status().message(), HasSubstr("truncated JPEG"));
}

TEST(LoadImageTest, JpegCutBeforeImageDataIsRefused) {
  std::vector<uint8_t> jpg = encode(".jpg", synthetic_bgr(64, 48));
  jpg.resize(20);  // SOI + part of APP0: no frame header at all
  auto r = decode_image(as_span(jpg), "cut.jpg");
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidInput);
  EXPECT_THAT(r.status().message(), HasSubstr("cut.jpg"));
  EXPECT_THAT(r.status().message(), HasSubstr("JPEG"));
}

TEST(LoadImageTest, TruncatedPngIsRefused) {
  TempDir dir;
  std::vector<uint8_t> png = encode(".png", synthetic_bgr(160, 120));
  ASSERT_GT(png.size(), 1000u);
  png.resize(png.size() / 2);
  const std::string path = dir.file("half.png");
  write_file(path, as_string(png));
  auto r = load_image(path);
  ASSERT_FALSE(r.is_ok()) << "a half PNG decoded to " << r->cols << "x" << r->rows;
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidInput);
  EXPECT_THAT(r.status().message(), HasSubstr(path));
  EXPECT_THAT(r.status().message(), HasSubstr("truncated PNG"));
}

TEST(LoadImageTest, PngCutInsideSignatureOrHeaderIsRefused) {
  std::vector<uint8_t> png = encode(".png", synthetic_bgr(16, 16));
  png.resize(20);  // signature and the start of IHDR, but not its size fields
  auto r = decode_image(as_span(png), "stub.png");
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidInput);
  EXPECT_THAT(r.status().message(), HasSubstr("truncated PNG"));
}

TEST(LoadImageTest, HugePngHeaderIsRefusedBeforeDecoding) {
  TempDir dir;
  std::vector<uint8_t> png = png_claiming(30000, 30000);
  // The crafted header itself is well-formed: probing reports exactly what it claims.
  auto info = probe_image(as_span(png), "bomb.png");
  ASSERT_TRUE(info.is_ok()) << info.status().to_string();
  EXPECT_EQ(info->format, ImageFormat::kPng);
  EXPECT_EQ(info->width, 30000);
  EXPECT_EQ(info->height, 30000);

  const std::string path = dir.file("bomb.png");
  write_file(path, as_string(png));
  auto r = load_image(path);
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidInput);
  EXPECT_THAT(r.status().message(), HasSubstr("30000x30000"));
  EXPECT_THAT(r.status().message(), HasSubstr("limit"));
  EXPECT_THAT(r.status().message(), HasSubstr("16384"));
}

TEST(LoadImageTest, PixelCountLimitIsEnforced) {
  // 12000x12000 has no side over max_side (16384), but its 1.44e8 pixels are over max_pixels (1e8).
  auto r = decode_image(as_span(png_claiming(12000, 12000)), "square.png");
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidInput);
  EXPECT_THAT(r.status().message(), HasSubstr("12000x12000"));
  EXPECT_THAT(r.status().message(), HasSubstr("limit"));
}

TEST(LoadImageTest, CustomLimitsApply) {
  std::vector<uint8_t> png = encode(".png", synthetic_bgr(100, 50));
  ImageLimits small;
  small.max_side = 64;
  auto r = decode_image(as_span(png), "wide.png", small);
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidInput);
  EXPECT_THAT(r.status().message(), HasSubstr("100x50"));

  ImageLimits few_bytes;
  few_bytes.max_file_bytes = 16;
  r = decode_image(as_span(png), "wide.png", few_bytes);
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidInput);
  EXPECT_THAT(r.status().message(), HasSubstr("limit"));

  // The defaults accept it.
  EXPECT_TRUE(decode_image(as_span(png), "wide.png").is_ok());
}

TEST(LoadImageTest, ZeroSizedHeaderIsRefused) {
  std::vector<uint8_t> png = png_claiming(0, 10);
  auto r = decode_image(as_span(png), "zero.png");
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidInput);
  EXPECT_THAT(r.status().message(), HasSubstr("0x10"));
}

// As root too: the load runs in a child that drops to nobody (unprivileged.h).
TEST(LoadImageTest, UnreadableFileIsPermissionDenied) {
  TempDir dir;
  make_reachable(dir.path());
  const std::string path = dir.file("locked.png");
  write_file(path, as_string(encode(".png", synthetic_bgr(8, 8))));
  fs::permissions(path, fs::perms::none);
  const int outcome = run_unprivileged([&] {
    auto r = load_image(path);
    if (r.is_ok()) return 1;
    if (r.status().code() != StatusCode::kPermissionDenied) return 2;
    return r.status().message().find(path) == std::string::npos ? 3 : 0;
  });
  EXPECT_EQ(outcome, 0) << "1: it was read, 2: another error, 3: the message does not name the file";
  // The same file readable: the child reads it, so the denial above came from the permission bits.
  fs::permissions(path, fs::perms::owner_read | fs::perms::group_read | fs::perms::others_read);
  EXPECT_EQ(run_unprivileged([&] { return load_image(path).is_ok() ? 0 : 1; }), 0);
}

// Found by fuzzing (tests/fuzz/image/webp-dicom-polyglot): a WebP-looking file with DICOM's signature at byte
// 128 reached OpenCV's DICOM reader, whose failed assertion aborted the process (a server crash). It is
// refused instead.
TEST(DecodeImageTest, AWebpDicomPolyglotIsRefusedNotAborted) {
  const std::vector<uint8_t> polyglot = {
      0x52, 0x49, 0x46, 0x46, 0x24, 0x02, 0x00, 0x00, 0x57, 0x45, 0x42, 0x50, 0x56, 0x50, 0x38, 0x20,
      0x17, 0xfe, 0x00, 0x00, 0xd0, 0x0c, 0x80, 0x9d, 0x01, 0x2a, 0x30, 0x00, 0x3c, 0x00, 0x3e, 0x91,
      0x36, 0x97, 0xb8, 0x00, 0x26, 0xff, 0xff, 0xff, 0xff, 0xc1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
      0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xa0, 0xff, 0xff, 0xff, 0xff,
      0x09, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
      0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x3c, 0x54, 0x61, 0x62, 0x6c, 0x65, 0x5f, 0x6f, 0xfb,
      0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x0e, 0x74, 0x73, 0xd9, 0x3d, 0x5b, 0x4c, 0xc7, 0x3a, 0xf5,
      0x58, 0x06, 0x63, 0xf9, 0x28, 0xc1, 0xb2, 0x5c, 0x3b, 0xfc, 0x8a, 0x54, 0x99, 0x84, 0x84, 0x89,
      0x44, 0x49, 0x43, 0x4d, 0xaa, 0x02, 0x09, 0x00, 0x43, 0x53, 0x25};
  auto r = decode_image(as_span(polyglot), "the upload");
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidInput);
  EXPECT_THAT(r.status().message(), HasSubstr("DICOM"));
}

// ---- decode: good inputs ----

TEST(DecodeImageTest, OnePixelImageDecodesToOnePixelBgr) {
  cv::Mat px(1, 1, CV_8UC3, cv::Scalar(10, 120, 250));
  for (const std::string ext : {".png", ".bmp"}) {
    auto r = decode_image(as_span(encode(ext, px)), "px" + ext);
    ASSERT_TRUE(r.is_ok()) << ext << ": " << r.status().to_string();
    EXPECT_EQ(r->cols, 1) << ext;
    EXPECT_EQ(r->rows, 1) << ext;
    EXPECT_EQ(r->type(), CV_8UC3) << ext;
    EXPECT_EQ(r->at<cv::Vec3b>(0, 0), cv::Vec3b(10, 120, 250)) << ext;
  }
  auto jpg = decode_image(as_span(encode(".jpg", px)), "px.jpg");
  ASSERT_TRUE(jpg.is_ok()) << jpg.status().to_string();
  EXPECT_EQ(jpg->size(), cv::Size(1, 1));
  EXPECT_EQ(jpg->type(), CV_8UC3);
}

TEST(DecodeImageTest, GreyPngComesBackAsBgr) {
  cv::Mat grey(12, 20, CV_8UC1);
  for (int y = 0; y < grey.rows; ++y)
    for (int x = 0; x < grey.cols; ++x) grey.at<uint8_t>(y, x) = uint8_t(x * 10 + y);
  auto r = decode_image(as_span(encode(".png", grey)), "grey.png");
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  ASSERT_EQ(r->type(), CV_8UC3);
  ASSERT_EQ(r->size(), grey.size());
  for (int y = 0; y < grey.rows; ++y)
    for (int x = 0; x < grey.cols; ++x) {
      uint8_t g = grey.at<uint8_t>(y, x);
      ASSERT_EQ(r->at<cv::Vec3b>(y, x), cv::Vec3b(g, g, g)) << x << "," << y;
    }
}

TEST(DecodeImageTest, BgraPngDropsAlpha) {
  cv::Mat bgra(9, 7, CV_8UC4);
  for (int y = 0; y < bgra.rows; ++y)
    for (int x = 0; x < bgra.cols; ++x)
      bgra.at<cv::Vec4b>(y, x) =
          cv::Vec4b(uint8_t(x * 30), uint8_t(y * 25), 77, uint8_t(x * y));  // varied alpha
  auto r = decode_image(as_span(encode(".png", bgra)), "alpha.png");
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  ASSERT_EQ(r->type(), CV_8UC3);
  ASSERT_EQ(r->size(), bgra.size());
  for (int y = 0; y < bgra.rows; ++y)
    for (int x = 0; x < bgra.cols; ++x) {
      cv::Vec4b p = bgra.at<cv::Vec4b>(y, x);
      ASSERT_EQ(r->at<cv::Vec3b>(y, x), cv::Vec3b(p[0], p[1], p[2])) << x << "," << y;
    }
}

TEST(DecodeImageTest, SixteenBitPngIsScaledTo8Bit) {
  cv::Mat deep(4, 4, CV_16UC3, cv::Scalar(65535, 257 * 100, 0));
  auto r = decode_image(as_span(encode(".png", deep)), "deep.png");
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  ASSERT_EQ(r->type(), CV_8UC3);
  EXPECT_EQ(r->at<cv::Vec3b>(2, 2), cv::Vec3b(255, 100, 0));
}

TEST(DecodeImageTest, ColourImageDecodesExactlyFromPng) {
  cv::Mat src = synthetic_bgr(33, 17);
  auto r = decode_image(as_span(encode(".png", src)), "img.png");
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  ASSERT_EQ(r->type(), CV_8UC3);
  EXPECT_EQ(cv::norm(*r, src, cv::NORM_INF), 0.0);
}

// ---- probe_image: header dimensions for every format ----

struct ProbeCase {
  const char* name;
  const char* ext;
  std::vector<int> params;
  int channels;
  ImageFormat format;
};

class ProbeImageTest : public ::testing::TestWithParam<ProbeCase> {};

TEST_P(ProbeImageTest, HeaderDimsMatchEncodedImage) {
  const ProbeCase& c = GetParam();
  for (cv::Size size : {cv::Size(37, 23), cv::Size(23, 37), cv::Size(1, 1), cv::Size(640, 480)}) {
    cv::Mat img = synthetic_bgr(size.width, size.height);
    if (c.channels == 1) cv::cvtColor(img, img, cv::COLOR_BGR2GRAY);
    if (c.channels == 4) {
      cv::cvtColor(img, img, cv::COLOR_BGR2BGRA);
      img.col(0).setTo(cv::Scalar(0, 0, 0, 0));  // real transparency, so encoders keep the alpha channel
    }
    std::vector<uint8_t> bytes = encode(c.ext, img, c.params);
    auto info = probe_image(as_span(bytes), "x");
    ASSERT_TRUE(info.is_ok()) << c.name << " " << size << ": " << info.status().to_string();
    EXPECT_EQ(info->format, c.format) << c.name;
    EXPECT_EQ(info->width, size.width) << c.name << " " << size;
    EXPECT_EQ(info->height, size.height) << c.name << " " << size;

    auto decoded = decode_image(as_span(bytes), "x");
    ASSERT_TRUE(decoded.is_ok()) << c.name << " " << size << ": " << decoded.status().to_string();
    EXPECT_EQ(decoded->size(), size) << c.name;
    EXPECT_EQ(decoded->type(), CV_8UC3) << c.name;
  }
}

INSTANTIATE_TEST_SUITE_P(
    Formats, ProbeImageTest,
    ::testing::Values(
        ProbeCase{"jpeg", ".jpg", {cv::IMWRITE_JPEG_QUALITY, 90}, 3, ImageFormat::kJpeg},
        ProbeCase{"jpeg_grey", ".jpg", {}, 1, ImageFormat::kJpeg},
        ProbeCase{"jpeg_progressive", ".jpg", {cv::IMWRITE_JPEG_PROGRESSIVE, 1}, 3, ImageFormat::kJpeg},
        ProbeCase{"png", ".png", {}, 3, ImageFormat::kPng},
        ProbeCase{"bmp", ".bmp", {}, 3, ImageFormat::kBmp},
        ProbeCase{"webp_lossy", ".webp", {cv::IMWRITE_WEBP_QUALITY, 80}, 3, ImageFormat::kWebp},
        ProbeCase{"webp_lossless", ".webp", {cv::IMWRITE_WEBP_QUALITY, 101}, 3, ImageFormat::kWebp},
        ProbeCase{"webp_alpha", ".webp", {cv::IMWRITE_WEBP_QUALITY, 80}, 4, ImageFormat::kWebp}),
    [](const ::testing::TestParamInfo<ProbeCase>& info) { return std::string(info.param.name); });

TEST(ProbeImageTest, FormatNames) {
  EXPECT_STREQ(image_format_name(ImageFormat::kJpeg), "jpeg");
  EXPECT_STREQ(image_format_name(ImageFormat::kPng), "png");
  EXPECT_STREQ(image_format_name(ImageFormat::kBmp), "bmp");
  EXPECT_STREQ(image_format_name(ImageFormat::kWebp), "webp");
}

TEST(ProbeImageTest, EmptyAndUnknownBytesAreRefused) {
  std::vector<uint8_t> none;
  auto r = probe_image(as_span(none), "blank");
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidInput);
  EXPECT_THAT(r.status().message(), HasSubstr("blank"));
  EXPECT_THAT(r.status().message(), HasSubstr("empty"));

  r = probe_image(as_span(std::string("GIF89a\x01\x00\x01\x00", 10)), "anim.gif");
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidInput);
  EXPECT_THAT(r.status().message(), HasSubstr("not an image"));
}

// ---- read_file ----

TEST(ReadFileTest, ReadsWholeFile) {
  TempDir dir;
  std::string bytes("a\0b\xff\n c", 7);
  write_file(dir.file("data.bin"), bytes);
  auto r = read_file(dir.file("data.bin"), 1 << 20);
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  EXPECT_EQ(*r, bytes);
}

TEST(ReadFileTest, EmptyFileReadsAsEmpty) {
  TempDir dir;
  write_file(dir.file("empty"), "");
  auto r = read_file(dir.file("empty"), 10);
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  EXPECT_TRUE(r->empty());
}

TEST(ReadFileTest, MissingFileIsNotFound) {
  TempDir dir;
  auto r = read_file(dir.file("missing.bin"), 10);
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(r.status().message(), HasSubstr(dir.file("missing.bin")));
}

TEST(ReadFileTest, OverLimitIsRefused) {
  TempDir dir;
  write_file(dir.file("big.bin"), std::string(101, 'x'));
  auto r = read_file(dir.file("big.bin"), 100);
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidInput);
  EXPECT_THAT(r.status().message(), HasSubstr("101 bytes"));
  EXPECT_THAT(r.status().message(), HasSubstr("100"));
  EXPECT_TRUE(read_file(dir.file("big.bin"), 101).is_ok());
}

TEST(ReadFileTest, FolderIsRefused) {
  TempDir dir;
  auto r = read_file(dir.path(), 1 << 20);
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidInput);
  EXPECT_THAT(r.status().message(), HasSubstr("folder"));
}

// ---- save_image ----

struct SaveCase {
  const char* ext;
  double max_mean_abs_diff;  // 0 for lossless formats
};

class SaveImageTest : public ::testing::TestWithParam<SaveCase> {};

TEST_P(SaveImageTest, RoundTrips) {
  const SaveCase& c = GetParam();
  TempDir dir;
  const std::string path = dir.file(std::string("out") + c.ext);
  cv::Mat src = c.max_mean_abs_diff == 0 ? synthetic_bgr(64, 48) : smooth_bgr(64, 48);
  Status s = save_image(path, src);
  ASSERT_TRUE(s.is_ok()) << s.to_string();
  ASSERT_TRUE(fs::is_regular_file(path));
  EXPECT_FALSE(fs::exists(path + ".partial"));

  // The file holds the format its extension names, not just any encoding.
  std::string bytes = read_all(path);
  auto info = probe_image(as_span(bytes), path);
  ASSERT_TRUE(info.is_ok()) << info.status().to_string();
  std::string ext = std::string(c.ext).substr(1);
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char ch) { return char(std::tolower(ch)); });
  if (ext == "jpg") ext = "jpeg";
  EXPECT_EQ(image_format_name(info->format), ext);

  auto back = load_image(path);
  ASSERT_TRUE(back.is_ok()) << back.status().to_string();
  ASSERT_EQ(back->size(), src.size());
  ASSERT_EQ(back->type(), CV_8UC3);
  if (c.max_mean_abs_diff == 0)
    EXPECT_EQ(cv::norm(*back, src, cv::NORM_INF), 0.0) << c.ext;
  else
    EXPECT_LT(mean_abs_diff(*back, src), c.max_mean_abs_diff) << c.ext;
}

INSTANTIATE_TEST_SUITE_P(Formats, SaveImageTest,
                         ::testing::Values(SaveCase{".png", 0}, SaveCase{".bmp", 0}, SaveCase{".jpg", 4},
                                           SaveCase{".jpeg", 4}, SaveCase{".webp", 4}, SaveCase{".PNG", 0}),
                         [](const ::testing::TestParamInfo<SaveCase>& info) {
                           std::string n = std::string(info.param.ext).substr(1);
                           return n == "PNG" ? std::string("png_upper") : n;
                         });

TEST(SaveImageTest, QualityControlsLossyEncoding) {
  TempDir dir;
  cv::Mat src = synthetic_bgr(128, 96);
  for (const std::string ext : {".jpg", ".webp"}) {
    const std::string hi = dir.file("hi" + ext), lo = dir.file("lo" + ext);
    ASSERT_TRUE(save_image(hi, src, 95).is_ok()) << ext;
    ASSERT_TRUE(save_image(lo, src, 20).is_ok()) << ext;
    EXPECT_LT(fs::file_size(lo), fs::file_size(hi)) << ext;
    auto hi_img = load_image(hi), lo_img = load_image(lo);
    ASSERT_TRUE(hi_img.is_ok() && lo_img.is_ok()) << ext;
    EXPECT_LT(mean_abs_diff(*hi_img, src), mean_abs_diff(*lo_img, src)) << ext;
  }
}

TEST(SaveImageTest, OverwritesExistingFile) {
  TempDir dir;
  const std::string path = dir.file("out.png");
  write_file(path, "old content");
  cv::Mat src = synthetic_bgr(10, 10);
  ASSERT_TRUE(save_image(path, src).is_ok());
  auto back = load_image(path);
  ASSERT_TRUE(back.is_ok()) << back.status().to_string();
  EXPECT_EQ(cv::norm(*back, src, cv::NORM_INF), 0.0);
}

TEST(SaveImageTest, UnknownExtensionIsInvalidArgument) {
  TempDir dir;
  for (const std::string name : {"out.gif", "out.tiff", "out"}) {
    const std::string path = dir.file(name);
    Status s = save_image(path, synthetic_bgr(8, 8));
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << name;
    EXPECT_THAT(s.message(), HasSubstr(path)) << name;
    EXPECT_THAT(s.message(), HasSubstr(".png")) << name;  // says which extensions work
    EXPECT_FALSE(fs::exists(path)) << name;
    EXPECT_FALSE(fs::exists(path + ".partial")) << name;
  }
}

TEST(SaveImageTest, EmptyImageIsInvalidArgument) {
  TempDir dir;
  Status s = save_image(dir.file("out.png"), cv::Mat());
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("empty"));
  EXPECT_FALSE(fs::exists(dir.file("out.png")));
}

TEST(SaveImageTest, MissingFolderLeavesNothingBehind) {
  TempDir dir;
  const std::string folder = dir.file("no-such-folder");
  const std::string path = folder + "/out.png";
  Status s = save_image(path, synthetic_bgr(8, 8));
  ASSERT_FALSE(s.is_ok());
  EXPECT_EQ(s.code(), StatusCode::kIoError);
  EXPECT_THAT(s.message(), HasSubstr(folder));
  EXPECT_FALSE(fs::exists(path));
  EXPECT_FALSE(fs::exists(path + ".partial"));
  EXPECT_FALSE(fs::exists(folder));
  EXPECT_TRUE(fs::is_empty(dir.path()));
}

}  // namespace
}  // namespace faceweave::core
