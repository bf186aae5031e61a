// Provenance end to end through the binary: every swap output carries the synthetic-media metadata (read back
// by exiftool and ffprobe, not only by faceweave) and the watermark (found by `faceweave inspect`, also after
// JPEG re-encoding); --no-watermark and --no-provenance switch them off and are recorded in telemetry as
// changed defaults; the metadata holds no path or file name.
#include <nlohmann/json.hpp>

#include "test_support.h"

namespace faceweave::testing {
namespace {

constexpr const char* kSynthetic = "http://cv.iptc.org/newscodes/digitalsourcetype/compositeSynthetic";

CommandResult faceweave(const TempDir& d, const std::string& args, const std::string& telemetry = "off") {
  return run_command("FACEWEAVE_DATA_DIR='" + d.path() + "/data' FACEWEAVE_MODELS_DIR='" + models_dir() +
                     "' FACEWEAVE_TELEMETRY=" + telemetry + " DO_NOT_TRACK= " + binary() + " " + args +
                     " 2>&1");
}

nlohmann::json inspect(const TempDir& d, const std::string& file) {
  auto r = faceweave(d, "inspect --json '" + file + "'");
  EXPECT_EQ(r.code, 0) << r.out;
  return nlohmann::json::parse(r.out, nullptr, false);
}

std::string swap_args(const std::string& target, const std::string& out) {
  return "swap -s '" + image("obama.jpg") + "' -t '" + target + "' -o '" + out + "'";
}

class ProvenanceImage : public ::testing::TestWithParam<const char*> {};

TEST_P(ProvenanceImage, OutputIsMarkedAndExiftoolReadsTheMetadata) {
  const TempDir d;
  const std::string out = d.file(std::string("marked.") + GetParam());
  auto r = faceweave(d, swap_args(image("biden.jpg"), out));
  ASSERT_EQ(r.code, 0) << r.out;
  auto ex =
      run_command("exiftool -s -s -s -XMP-iptcExt:DigitalSourceType -XMP-xmp:CreatorTool '" + out + "'");
  ASSERT_EQ(ex.code, 0) << ex.out;
  EXPECT_EQ(ex.out, std::string(kSynthetic) + "\nfaceweave 0.1.0\n");
  // Nothing in the metadata names a path, a file or the folder.
  auto all = run_command("exiftool -a -G1 -XMP:all '" + out + "'");
  EXPECT_EQ(all.out.find("biden"), std::string::npos) << all.out;
  EXPECT_EQ(all.out.find("obama"), std::string::npos) << all.out;
  EXPECT_EQ(all.out.find(d.path()), std::string::npos) << all.out;
  EXPECT_NE(all.out.find("face_swapper"), std::string::npos) << all.out;
  auto j = inspect(d, out);
  EXPECT_TRUE(j["metadata"]["synthetic"].get<bool>()) << j.dump(2);
  EXPECT_TRUE(j["watermark"]["found"].get<bool>()) << j.dump(2);
  EXPECT_GE(j["watermark"]["confidence"].get<double>(), 0.70);
  EXPECT_EQ(j["watermark"]["payload"]["version"], 1);
  EXPECT_TRUE(j["watermark"]["payload"]["synthetic"].get<bool>());
}

INSTANTIATE_TEST_SUITE_P(Formats, ProvenanceImage, ::testing::Values("jpg", "png", "webp"));

TEST(Provenance, WatermarkOutlivesStrippedMetadataAndReencoding) {
  const TempDir d;
  const std::string out = d.file("marked.png");
  ASSERT_EQ(faceweave(d, swap_args(image("meds-aa-S001-01.jpg"), out)).code, 0);
  const std::string stripped = d.file("stripped.jpg");
  auto ff = run_command("ffmpeg -v error -i '" + out + "' -map_metadata -1 -q:v 8 '" + stripped + "' 2>&1");
  ASSERT_EQ(ff.code, 0) << ff.out;
  auto j = inspect(d, stripped);
  EXPECT_FALSE(j["metadata"]["synthetic"].get<bool>()) << j.dump(2);
  EXPECT_TRUE(j["watermark"]["found"].get<bool>()) << j.dump(2);
}

TEST(Provenance, SwitchedOffOnRequestAndRecordedAsChangedDefaults) {
  const TempDir d;
  const std::string out = d.file("plain.jpg");
  auto r = faceweave(d, swap_args(image("biden.jpg"), out) + " --no-watermark --no-provenance", "usage");
  ASSERT_EQ(r.code, 0) << r.out;
  auto j = inspect(d, out);
  EXPECT_FALSE(j["metadata"]["synthetic"].get<bool>()) << j.dump(2);
  EXPECT_FALSE(j["metadata"]["present"].get<bool>()) << j.dump(2);
  EXPECT_FALSE(j["watermark"]["found"].get<bool>()) << j.dump(2);
  EXPECT_TRUE(j["watermark"]["payload"].is_null());
  auto ex = run_command("exiftool -s -s -s -XMP-iptcExt:DigitalSourceType '" + out + "'");
  EXPECT_EQ(ex.out, "");
  auto show = faceweave(d, "telemetry show --json --last 50", "usage");
  ASSERT_EQ(show.code, 0) << show.out;
  auto events = nlohmann::json::parse(show.out, nullptr, false);
  std::map<std::string, std::string> switched;
  for (const auto& e : events)
    if (e["event"] == "command.option" && e["props"].contains("value"))
      switched[e["props"]["option"].get<std::string>()] = e["props"]["value"].get<std::string>();
  EXPECT_EQ(switched["watermark"], "false") << events.dump(2);
  EXPECT_EQ(switched["provenance"], "false") << events.dump(2);
}

TEST(Provenance, UnmarkedTestDataIsReportedAsNeither) {
  const TempDir d;
  for (const char* file : {"obama.jpg", "two_people.jpg"}) {
    auto j = inspect(d, image(file));
    EXPECT_FALSE(j["metadata"]["synthetic"].get<bool>()) << file;
    EXPECT_FALSE(j["watermark"]["found"].get<bool>()) << file << " " << j.dump(2);
  }
  auto j = inspect(d, testdata("video/video_01.mp4"));
  EXPECT_EQ(j["kind"], "video");
  EXPECT_FALSE(j["metadata"]["synthetic"].get<bool>());
  EXPECT_FALSE(j["watermark"]["found"].get<bool>()) << j.dump(2);
}

// The test videos, none of them marked, re-encoded with H.264 at CRF 28 (the coding noise a re-upload adds):
// `inspect` examines every stretch of frames alone and averaged, and finds no mark in any.
TEST(Provenance, UnmarkedVideosReencodedAtCrf28AreNotFound) {
  const TempDir d;
  // h264_aac.mp4 is the same footage as video_01.mp4.
  for (const char* video : {"video_01.mp4", "astronaut_synthetic_motion.mp4"}) {
    const std::string out = d.file(std::string("crf28_") + video);
    auto ff = run_command("ffmpeg -v error -i '" + testdata(std::string("video/") + video) +
                          "' -an -c:v libx264 -crf 28 -pix_fmt yuv420p '" + out + "' 2>&1");
    ASSERT_EQ(ff.code, 0) << ff.out;
    auto j = inspect(d, out);
    EXPECT_FALSE(j["watermark"]["found"].get<bool>()) << video << " " << j.dump(2);
    EXPECT_FALSE(j["watermark"]["presence"]["found"].get<bool>()) << video << " " << j.dump(2);
    EXPECT_TRUE(j["watermark"]["payload"].is_null()) << video;
    EXPECT_GT(j["watermark"]["faces_checked"].get<int>(), 0) << video;
    std::cout << video << " at CRF 28: confidence " << j["watermark"]["confidence"] << ", presence score "
              << j["watermark"]["presence"]["score"] << "\n";
  }
}

// A swapped video, as faceweave marks it, re-encoded with H.264 at CRF 28 (a re-upload's coding): the payload
// does not survive at 480x360, the presence mark does -- `inspect` reports it found, with the payload null
// when only the presence mark was read (docs/provenance.md).
TEST(Provenance, SwappedVideoReencodedAtCrf28IsFound) {
  const TempDir d;
  const std::string out = d.file("marked.mp4"), crf28 = d.file("crf28.mp4");
  auto r =
      faceweave(d, swap_args(testdata("video/astronaut_synthetic_motion.mp4"), out) + " --trim-frame-end 20");
  ASSERT_EQ(r.code, 0) << r.out;
  auto ff = run_command("ffmpeg -v error -i '" + out + "' -map_metadata -1 -an -c:v libx264 -crf 28 " +
                        "-pix_fmt yuv420p '" + crf28 + "' 2>&1");
  ASSERT_EQ(ff.code, 0) << ff.out;
  auto j = inspect(d, crf28);
  EXPECT_FALSE(j["metadata"]["synthetic"].get<bool>()) << j.dump(2);
  EXPECT_TRUE(j["watermark"]["found"].get<bool>()) << j.dump(2);
  EXPECT_GE(j["watermark"]["confidence"].get<double>(), 0.70) << j.dump(2);
  if (j["watermark"]["payload"].is_null()) {
    EXPECT_TRUE(j["watermark"]["presence"]["found"].get<bool>()) << j.dump(2);
  }
  std::cout << "swapped video at CRF 28: " << j["watermark"].dump() << "\n";
}

class ProvenanceVideo : public ::testing::TestWithParam<const char*> {};

TEST_P(ProvenanceVideo, ContainerTagsReadByFfprobeAndWatermarkFound) {
  const TempDir d;
  const std::string out = d.file(std::string("marked.") + GetParam());
  const std::string encoder = std::string(GetParam()) == "webm" ? " --output-video-encoder libvpx-vp9" : "";
  auto r = faceweave(
      d, swap_args(testdata("video/astronaut_synthetic_motion.mp4"), out) + " --trim-frame-end 20" + encoder);
  ASSERT_EQ(r.code, 0) << r.out;
  auto probe = run_command("ffprobe -v error -show_entries format_tags -of json '" + out + "'");
  ASSERT_EQ(probe.code, 0) << probe.out;
  auto tags = nlohmann::json::parse(probe.out)["format"]["tags"];
  // MKV/WebM keep tag names upper-case.
  const std::string key =
      tags.contains("digital_source_type") ? "digital_source_type" : "DIGITAL_SOURCE_TYPE";
  EXPECT_EQ(tags[key], kSynthetic) << tags.dump(2);
  auto j = inspect(d, out);
  EXPECT_TRUE(j["metadata"]["synthetic"].get<bool>()) << j.dump(2);
  EXPECT_EQ(j["metadata"]["software_agent"], "faceweave 0.1.0");
  EXPECT_TRUE(j["watermark"]["found"].get<bool>()) << j.dump(2);
  // At faceweave's own quality the payload itself is read, not only the presence mark.
  EXPECT_FALSE(j["watermark"]["payload"].is_null()) << j.dump(2);
}

INSTANTIATE_TEST_SUITE_P(Containers, ProvenanceVideo, ::testing::Values("mp4", "mov", "mkv", "webm"));

}  // namespace
}  // namespace faceweave::testing
