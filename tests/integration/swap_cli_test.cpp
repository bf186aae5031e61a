// `faceweave swap` end to end: a real output whose face moved to the source, PNG pixels outside the face
// unchanged, and every bad input refused with a clear message, the right exit code and no output file.
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <map>

#include <opencv2/imgproc.hpp>

#include "core/image_io.h"
#include "swap_support.h"

namespace faceweave::testing {
namespace {

using CliRun = CommandResult;  // stdout and stderr together

CliRun run(const std::string& args, const std::string& models = models_dir()) {
  return run_command("FACEWEAVE_MODELS_DIR='" + models + "' " + binary() + " " + args + " 2>&1");
}

size_t files_in(const std::string& dir) {
  size_t n = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir)) ++n;
  return n;
}

// How much closer to the source a swapped face must be than the target's own face was (cosine similarity
// of identity embeddings; the classic swap of obama.jpg onto astronaut.png moves it from -0.09 to 0.44).
constexpr float kCloserMargin = 0.25f;

TEST(SwapCli, WritesASwappedPngThatKeepsTheBackground) {
  TempDir dir;
  const std::string out = dir.file("swapped.png");
  // Without the watermark, whose square around the face (docs/provenance.md) reaches into this small image's
  // corner: this checks what the swap itself changes.
  CliRun r = run("swap -s " + image("obama.jpg") + " -t " + image("astronaut.png") + " -o " + out +
                 " --no-watermark");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("swapped 1 of 1 face(s)"), std::string::npos) << r.out;
  auto output = core::load_image(out);
  ASSERT_TRUE(output.is_ok());
  auto& h = SwapHarness::get();
  cv::Mat target = h.load("astronaut.png");
  ASSERT_EQ(output->size(), target.size());
  // The face changed towards the source...
  Face before = h.largest_face(target), after = h.largest_face(*output);
  Face source = h.largest_face(h.load("obama.jpg"));
  // ...by a margin: a change within the recognizer's noise (re-encoding, a blur) must not pass.
  const float to_source = face_similarity(after, source), was = face_similarity(before, source);
  EXPECT_GT(to_source, was + kCloserMargin) << "before " << was << ", after " << to_source;
  // ...and the corners of the image (far from the face) are bit-identical.
  cv::Mat diff;
  cv::absdiff(*output, target, diff);
  EXPECT_EQ(cv::countNonZero(diff(cv::Rect(0, 0, 100, 100)).reshape(1)), 0);
  EXPECT_EQ(cv::countNonZero(diff(cv::Rect(0, target.rows - 100, 100, 100)).reshape(1)), 0);
  EXPECT_EQ(files_in(dir.path()), 1u) << "no temporary file left behind";
}

// The format follows the extension, and --output-image-quality reaches the lossy encoders: quality 30 makes
// a clearly smaller file than quality 95 (a quality that was ignored gives the same size twice).
TEST(SwapCli, JpegAndWebpOutputsFollowTheExtension) {
  TempDir dir;
  for (const std::string ext : {"jpg", "webp", "bmp"}) {
    std::map<int, size_t> size;
    for (int quality : {30, 95}) {
      const std::string name = "out" + std::to_string(quality) + "." + ext;
      CliRun r = run("swap -s " + image("obama.jpg") + " -t " + image("meds-aa-S029-01.jpg") + " -o " +
                     dir.file(name) + " --output-image-quality " + std::to_string(quality));
      ASSERT_EQ(r.code, 0) << name << "\n" << r.out;
      auto bytes = read_all(dir.file(name));
      size[quality] = bytes.size();
      auto info = core::probe_image({reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()}, name);
      ASSERT_TRUE(info.is_ok()) << info.status().to_string();
      EXPECT_EQ(std::string(core::image_format_name(info->format)), ext == "jpg" ? "jpeg" : ext);
    }
    if (ext == "bmp") {
      EXPECT_EQ(size[30], size[95]) << "BMP is lossless";
    } else {
      EXPECT_LT(double(size[30]), 0.7 * double(size[95])) << ext << ": " << size[30] << " vs " << size[95];
    }
  }
}

TEST(SwapCli, BadInputsFailCleanlyWithoutOutput) {
  TempDir dir;
  write_file(dir.file("text.jpg"), "not an image");
  write_file(dir.file("empty.png"), "");
  std::string jpeg = read_all(image("obama.jpg"));
  write_file(dir.file("cut.jpg"), jpeg.substr(0, jpeg.size() / 3));
  cv::Mat noise(200, 200, CV_8UC3);
  cv::randu(noise, 0, 256);
  ASSERT_TRUE(core::save_image(dir.file("noface.png"), noise).is_ok());
  ASSERT_TRUE(core::save_image(dir.file("1x1.png"), cv::Mat(1, 1, CV_8UC3, cv::Scalar::all(128))).is_ok());
  // PNG signature + IHDR claiming 30000x30000, nothing else.
  write_file(
      dir.file("huge.png"),
      std::string("\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR\x00\x00\x75\x30\x00\x00\x75\x30\x08\x02\x00\x00\x00",
                  29) +
          std::string("\x00\x00\x00\x00\x00\x00\x00\x00IEND\xae\x42\x60\x82", 16));
  const std::string out = dir.file("out.png");
  const std::string src = " -s " + image("obama.jpg");
  const std::string tgt = " -t " + image("astronaut.png");
  struct Case {
    std::string args;
    int code;
    std::string needle;
  };
  const std::vector<Case> cases = {
      {"swap -s /nonexistent.jpg" + tgt + " -o " + out, 3, "does not exist"},
      {"swap" + src + " -t /nonexistent.png -o " + out, 3, "does not exist"},
      {"swap -s " + dir.file("empty.png") + tgt + " -o " + out, 4, "empty"},
      {"swap -s " + dir.file("text.jpg") + tgt + " -o " + out, 4, "not an image"},
      {"swap -s " + dir.file("cut.jpg") + tgt + " -o " + out, 4, "truncated"},
      {"swap -s " + dir.file("noface.png") + tgt + " -o " + out, 9, "has no face"},
      {"swap" + src + " -t " + dir.file("1x1.png") + " -o " + out, 4, "1x1"},
      {"swap" + src + " -t " + dir.file("huge.png") + " -o " + out, 4, "30000x30000"},
      {"swap" + src + " -t " + dir.file("noface.png") + " -o " + out, 9, "no face"},
      {"swap" + src + tgt + " -o " + dir.file("missing/out.png"), 3, "does not exist"},
      {"swap" + src + tgt + " -o " + image("astronaut.png"), 2, "never overwrites"},
      {"swap" + src + tgt + " -o " + dir.file("out.gif"), 2, "unsupported extension"},
      {"swap" + src + tgt + " -o " + out + " --blend poisson", 2, "poisson"},
      {"swap" + src + tgt + " -o " + out + " --identity-strength 1.5", 2, "identity"},
      {"swap" + src + tgt + " -o " + out + " --processors face_melter", 2, "face_melter"},
      {"swap" + src + tgt + " -o " + out + " --face-selector-mode reference --reference-face-image " +
           image("biden.jpg"),
       9, "no face of the target"},
  };
  for (const auto& c : cases) {
    CliRun r = run(c.args);
    EXPECT_EQ(r.code, c.code) << c.args << "\n" << r.out;
    EXPECT_NE(r.out.find(c.needle), std::string::npos) << c.args << "\n" << r.out;
    EXPECT_FALSE(std::filesystem::exists(out)) << c.args;
  }
  EXPECT_TRUE(std::filesystem::exists(image("astronaut.png")));

  // A models folder that cannot be read as a folder.
  write_file(dir.file("models"), "a file, not a folder");
  CliRun r = run("swap" + src + tgt + " -o " + out, dir.file("models"));
  EXPECT_EQ(r.code, 7) << r.out;
  EXPECT_NE(r.out.find("models directory"), std::string::npos) << r.out;
  EXPECT_FALSE(std::filesystem::exists(out));
}

// An output that is one of the inputs is refused before anything is written, whichever input it is and
// however it is named (the same path, another spelling, a symbolic link, a hard link), with the exit code of
// an output equal to the target; every input keeps its bytes.
TEST(SwapCli, NeverWritesOverAnyOfItsInputs) {
  TempDir dir;
  namespace fs = std::filesystem;
  const std::string s = dir.file("s.jpg"), t = dir.file("t.jpg"), r = dir.file("r.jpg");
  fs::copy_file(image("obama.jpg"), s);
  fs::copy_file(image("meds-aa-S029-01.jpg"), t);
  fs::copy_file(image("biden.jpg"), r);
  fs::create_symlink(s, dir.file("link-to-s.jpg"));
  fs::create_hard_link(t, dir.file("hard-to-t.jpg"));
  fs::create_symlink(r, dir.file("link-to-r.png"));
  const std::string before_s = read_all(s), before_t = read_all(t), before_r = read_all(r);
  const std::string swap = "swap -s " + s + " -t " + t;
  const std::string reference = " --face-selector-mode reference --reference-face-image " + r;
  for (const std::string& args : {
           swap + " -o " + s,                                      // the source
           "swap -s " + t + " -s " + s + " -t " + r + " -o " + s,  // the second of two sources
           swap + " -o " + dir.path() + "/./s.jpg",                // another spelling of it
           swap + " -o " + dir.file("link-to-s.jpg"),              // a symbolic link to it
           swap + " -o " + dir.file("hard-to-t.jpg"),              // a hard link to the target
           swap + reference + " -o " + r,                          // the reference face image
           swap + reference + " -o " + dir.file("link-to-r.png"),
       }) {
    CliRun out = run(args);
    EXPECT_EQ(out.code, 2) << args << "\n" << out.out;
    EXPECT_NE(out.out.find("never overwrites its input"), std::string::npos) << args << "\n" << out.out;
  }
  EXPECT_EQ(read_all(s), before_s);
  EXPECT_EQ(read_all(t), before_t);
  EXPECT_EQ(read_all(r), before_r);
  EXPECT_EQ(read_all(dir.file("hard-to-t.jpg")), before_t);
  EXPECT_TRUE(fs::is_symlink(dir.file("link-to-s.jpg")));
  EXPECT_TRUE(fs::is_symlink(dir.file("link-to-r.png")));
  EXPECT_EQ(files_in(dir.path()), 6u) << "no output and no temporary file is left";
}

}  // namespace
}  // namespace faceweave::testing
