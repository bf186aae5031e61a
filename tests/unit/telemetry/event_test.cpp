// The allow-list: unknown events and properties are rejected, values are typed, words cannot hold paths,
// over-long words are truncated, and the stored JSON is exactly what the event carried.
#include <cmath>

#include <gtest/gtest.h>

#include "telemetry/event.h"
#include "telemetry_test_support.h"

namespace faceweave::testing {
namespace {

using telemetry::EventBuilder;
using telemetry::EventKind;

std::string props_of(const EventBuilder& b) {
  std::string out;
  telemetry::append_props_json(b.event(), out);
  return out;
}

TEST(TelemetryEvent, EveryEventHasANameAndAtMostTheAllowedProperties) {
  for (size_t i = 0; i < telemetry::kEventKindCount; ++i) {
    const auto& spec = telemetry::event_spec(EventKind(i));
    EXPECT_EQ(telemetry::event_kind_from_name(spec.name), EventKind(i)) << spec.name;
    EXPECT_LE(spec.prop_count, telemetry::kMaxSpecProps);
  }
  EXPECT_EQ(telemetry::event_kind_from_name("swap.secret"), EventKind::kCount);
}

TEST(TelemetryEvent, BuildsTypedPropertiesAsCompactJson) {
  EventBuilder b(EventKind::kStageTiming);
  b.set_text("stage", "detect")
      .set_text("resolution", "1080p")
      .set_int("frames", 12)
      .set_text("media", "video");
  ASSERT_TRUE(b.ok()) << b.status().to_string();
  EXPECT_EQ(props_of(b), R"({"stage":"detect","resolution":"1080p","frames":12,"media":"video"})");

  EventBuilder o(EventKind::kCommandOption);
  o.set_text("command", "swap").set_text("option", "identity_strength").set_real("number", 0.25);
  EXPECT_EQ(props_of(o), R"({"command":"swap","option":"identity_strength","number":0.25})");

  EventBuilder m(EventKind::kModelLoad);
  m.set_text("model", "fr_detect").set_bool("cached", true);
  EXPECT_EQ(props_of(m), R"({"model":"fr_detect","cached":true})");
}

TEST(TelemetryEvent, UnknownPropertyIsRejectedWithTheAllowedList) {
  EventBuilder b(EventKind::kStageTiming);
  b.set_text("stage", "detect").set_text("path", "x");
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(b.status().message().find("'path'"), std::string::npos) << b.status().message();
  EXPECT_NE(b.status().message().find("stage, resolution, frames, media"), std::string::npos);
}

TEST(TelemetryEvent, WrongTypesAndUnlistedEnumValuesAreRejected) {
  EXPECT_FALSE(EventBuilder(EventKind::kStageTiming).set_text("frames", "many").ok());
  EXPECT_FALSE(EventBuilder(EventKind::kStageTiming).set_int("stage", 3).ok());
  EXPECT_FALSE(EventBuilder(EventKind::kStageTiming).set_text("resolution", "1081p").ok());
  EXPECT_FALSE(EventBuilder(EventKind::kCommandOption).set_real("number", std::nan("")).ok());
  EXPECT_FALSE(EventBuilder(EventKind::kCount).ok());
  // An integer given for a real property, and a whole real for an integer, are converted.
  EXPECT_TRUE(EventBuilder(EventKind::kCommandOption).set_int("number", 3).ok());
  EXPECT_TRUE(EventBuilder(EventKind::kStageTiming).set_real("frames", 3.0).ok());
}

TEST(TelemetryEvent, WordsCannotHoldPathsHostsAddressesOrAgents) {
  for (const char* bad :
       {"/home/alice/photo.jpg", "photo.jpg", "C:\\Users\\alice", "192.168.1.20", "host.example.com",
        "Mozilla/5.0 (X11)", "alice@example.com", "Detect", "two words", "a:b", "", "../x"}) {
    EventBuilder b(EventKind::kStageTiming);
    b.set_text("stage", bad);
    EXPECT_FALSE(b.ok()) << bad;
  }
  // The whole value is checked, not only the part that would be kept after truncation.
  std::string long_path = std::string(30, 'a') + "/etc/passwd";
  EXPECT_FALSE(EventBuilder(EventKind::kStageTiming).set_text("stage", long_path).ok());
}

TEST(TelemetryEvent, OversizedWordsAreTruncated) {
  std::string long_word(100, 'x');
  EventBuilder b(EventKind::kStageTiming);
  b.set_text("stage", long_word);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(props_of(b), "{\"stage\":\"" + std::string(telemetry::kMaxWordLength, 'x') + "\"}");
}

TEST(TelemetryEvent, SettingAPropertyTwiceKeepsOneValue) {
  EventBuilder b(EventKind::kFaceCount);
  b.set_int("detected", 1).set_int("detected", 4);
  EXPECT_EQ(b.event().prop_count, 1);
  EXPECT_EQ(props_of(b), R"({"detected":4})");
}

TEST(TelemetryEvent, ResolutionBucketsUseTheShorterSide) {
  EXPECT_EQ(telemetry::resolution_bucket(0, 0), "unknown");
  EXPECT_EQ(telemetry::resolution_bucket(640, 480), "sd");
  EXPECT_EQ(telemetry::resolution_bucket(1280, 720), "720p");
  EXPECT_EQ(telemetry::resolution_bucket(910, 1137), "720p");
  EXPECT_EQ(telemetry::resolution_bucket(1920, 1080), "1080p");
  EXPECT_EQ(telemetry::resolution_bucket(1080, 1920), "1080p");
  EXPECT_EQ(telemetry::resolution_bucket(2560, 1440), "1440p");
  EXPECT_EQ(telemetry::resolution_bucket(3840, 2160), "4k");
  EXPECT_EQ(telemetry::resolution_bucket(7680, 4320), "8k");
}

TEST(TelemetryEvent, PublicRecordRejectsUnknownEventsAndFieldsAndStoresTruncatedWords) {
  TempDir dir;
  auto t = Telemetry::create(telemetry_options(dir));
  ASSERT_TRUE(t.is_ok()) << t.status().to_string();
  Status unknown = (*t)->record("swap.secret", {});
  EXPECT_EQ(unknown.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(unknown.message().find("command.run"), std::string::npos) << unknown.message();
  Status field = (*t)->record("ui.action", {{"control", "blend"}, {"file", "x"}});
  EXPECT_EQ(field.code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(
      (*t)->record("ui.action", {{"control", std::string(60, 'c')}, {"action", "change"}, {"number", 0.5}})
          .is_ok());
  ASSERT_TRUE((*t)->flush().is_ok());
  EXPECT_EQ((*t)->stats().rejected, 2u);
  EXPECT_EQ((*t)->stats().committed, 1u);
  auto props = sql_column(events_db(dir), "SELECT props FROM events");
  ASSERT_EQ(props.size(), 1u);
  EXPECT_EQ(props[0], "{\"control\":\"" + std::string(24, 'c') + "\",\"action\":\"change\",\"number\":0.5}");
}

}  // namespace
}  // namespace faceweave::testing
