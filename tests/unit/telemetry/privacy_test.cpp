// Nothing that identifies a person or their files reaches the disk: every API is fed distinctive paths,
// file names, addresses, host names, user agents and e-mail addresses, then every byte the data dir holds
// (database, write-ahead log, archives, session files) is searched for them.
#include <gtest/gtest.h>

#include "telemetry/session.h"
#include "telemetry_test_support.h"

namespace faceweave::testing {
namespace {

const std::vector<std::string> kForbidden = {
    "/home/zq_alice/Pictures/zq_holiday.jpg",
    "zq_holiday.jpg",
    "zq_holiday_no_ext",  // a bare word is allowed, so this one is used only where the API takes no free text
    "C:\\Users\\zq_alice\\face.png",
    "203.0.113.77",
    "zq-host.example.org",
    "Mozilla/5.0 (X11; Linux x86_64) zq_agent",
    "zq_alice@example.org",
    "file:///tmp/zq_face.png",
};

TEST(TelemetryPrivacy, ForbiddenDataNeverReachesTheDisk) {
  TempDir dir;
  {
    auto o = telemetry_options(dir, "all");
    o.user_id = "zq_alice@example.org";
    auto t = Telemetry::create(o);
    ASSERT_TRUE(t.is_ok());
    Telemetry& tel = **t;
    for (const auto& bad : kForbidden) {
      if (bad == "zq_holiday_no_ext") continue;
      tel.record_command(bad, StatusCode::kOk, 1);
      tel.record_command("swap", StatusCode::kOk, 1, 0, 0, bad);
      tel.record_option("swap", bad);
      tel.record_option("swap", "reference_face_image", bad);
      tel.record_option(bad, "blend", 0.5);
      tel.record_stage(bad, 1, 1920, 1080);
      tel.record_stage("detect", 1, 1920, 1080, 1, bad);
      tel.record_frame_stage(bad, 1, 1920, 1080, 3);
      tel.record_error(bad, StatusCode::kNotFound);
      tel.record_provider_fallback(bad, "cpu");
      tel.record_provider_fallback("cuda", "cpu", bad);
      tel.record_model_load(bad, 3);
      tel.record_faces(bad, 1, 1, 10, 10);
      for (const char* key : {"control", "value", "action"})
        EXPECT_FALSE(tel.record("ui.action", {{"control", "blend"}, {key, bad}}).is_ok())
            << key << " " << bad;
      EXPECT_FALSE(tel.record("ui.action", {{bad, "x"}}).is_ok()) << bad;
    }
    // Legitimate events around them are stored, so the test would see a leak if there were one.
    tel.record_option("swap", "blend", "laplacian");
    tel.record_stage("detect", 1, 1920, 1080);
    ASSERT_TRUE(tel.flush().is_ok());
    EXPECT_EQ(tel.stats().committed, 2u);
    EXPECT_GT(tel.stats().rejected, 8u * 13u);
  }
  std::string bytes = all_bytes_under(dir.path());
  ASSERT_NE(bytes.find("laplacian"), std::string::npos);  // the search does see stored text
  for (const auto& needle : {"zq_", "203.0.113", "example.org", "Mozilla", "Users", "Pictures", "file:"})
    EXPECT_EQ(bytes.find(needle), std::string::npos) << needle;
}

TEST(TelemetryPrivacy, TheDatabaseHasNoColumnForAnythingButTheDocumentedFields) {
  TempDir dir;
  {
    auto t = Telemetry::create(telemetry_options(dir));
    (*t)->record_stage("detect", 1, 1, 1);
  }
  auto columns = sql_column(events_db(dir), "SELECT name FROM pragma_table_info('events_view')");
  EXPECT_EQ(columns, (std::vector<std::string>{"id", "ts", "event", "user", "session", "app_version", "props",
                                               "duration_ms", "outcome", "sample_rate", "platform"}));
  // The platform is a coarse allow-listed value: this build's "<os>-<arch>".
  auto platforms = sql_column(events_db(dir), "SELECT DISTINCT platform FROM sessions");
  ASSERT_EQ(platforms.size(), 1u);
  EXPECT_TRUE(telemetry::is_coarse_platform(platforms[0])) << platforms[0];
  EXPECT_NE(platforms[0], "web");
}

}  // namespace
}  // namespace faceweave::testing
