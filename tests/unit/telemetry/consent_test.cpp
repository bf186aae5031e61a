// Consent: how the level is chosen, that `off` leaves no trace on disk, that each level stores exactly the
// events it promises, and the one-time notice.
#include <cstdlib>
#include <filesystem>
#include <set>

#include <gtest/gtest.h>

#include "telemetry_test_support.h"

namespace faceweave::testing {
namespace {

// Sets an environment variable for one test and restores it.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    if (value)
      ::setenv(name, value, 1);
    else
      ::unsetenv(name);
  }
  ~ScopedEnv() {
    if (old_)
      ::setenv(name_, old_->c_str(), 1);
    else
      ::unsetenv(name_);
  }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

// One event of every kind, through the typed helpers.
void record_one_of_each(Telemetry& t) {
  t.record_command("swap", StatusCode::kOk, 10, 0, 1);
  t.record_option("swap", "blend", "laplacian");
  t.record_stage("detect", 7.5, 1920, 1080);
  t.record_faces("target", 2, 1, 1920, 1080);
  ASSERT_TRUE(t.record("ui.action", {{"control", "blend"}, {"action", "change"}}).is_ok());
  t.record_error("swap", StatusCode::kNoFace);
  t.record_provider_fallback("cuda", "cpu", "fr_detect");
  t.record_model_load("fr_detect", 12.0, "cpu");
  t.record_frame_stage("swap", 3.0, 1920, 1080, 7);
}

std::set<std::string> stored_events(const TempDir& dir) {
  auto names = sql_column(events_db(dir), "SELECT DISTINCT event FROM events_view");
  return {names.begin(), names.end()};
}

TEST(TelemetryConsent, ParsesLevelsAndTheUsualWaysOfSayingNo) {
  EXPECT_EQ(*parse_telemetry_consent("off"), TelemetryConsent::kOff);
  EXPECT_EQ(*parse_telemetry_consent("0"), TelemetryConsent::kOff);
  EXPECT_EQ(*parse_telemetry_consent("false"), TelemetryConsent::kOff);
  EXPECT_EQ(*parse_telemetry_consent("errors"), TelemetryConsent::kErrors);
  EXPECT_EQ(*parse_telemetry_consent("usage"), TelemetryConsent::kUsage);
  EXPECT_EQ(*parse_telemetry_consent("all"), TelemetryConsent::kAll);
  auto bad = parse_telemetry_consent("maybe");
  ASSERT_FALSE(bad.is_ok());
  EXPECT_NE(bad.status().message().find("off, errors, usage or all"), std::string::npos);
}

TEST(TelemetryConsent, FlagBeatsEnvironmentBeatsDoNotTrackBeatsDefault) {
  ScopedEnv env("FACEWEAVE_TELEMETRY", nullptr);
  ScopedEnv dnt("DO_NOT_TRACK", nullptr);
  EXPECT_EQ(resolve_telemetry_consent("")->level, TelemetryConsent::kUsage);
  EXPECT_EQ(resolve_telemetry_consent("")->source, "default");
  {
    ScopedEnv d("DO_NOT_TRACK", "1");
    EXPECT_EQ(resolve_telemetry_consent("")->level, TelemetryConsent::kOff);
    ScopedEnv e("FACEWEAVE_TELEMETRY", "errors");
    EXPECT_EQ(resolve_telemetry_consent("")->level, TelemetryConsent::kErrors);
    EXPECT_EQ(resolve_telemetry_consent("")->source, "FACEWEAVE_TELEMETRY");
    EXPECT_EQ(resolve_telemetry_consent("all")->level, TelemetryConsent::kAll);
    EXPECT_EQ(resolve_telemetry_consent("all")->source, "--telemetry");
  }
  ScopedEnv bad("FACEWEAVE_TELEMETRY", "sometimes");
  EXPECT_FALSE(resolve_telemetry_consent("").is_ok());
  EXPECT_FALSE(Telemetry::create(TelemetryOptions{}).is_ok());
}

TEST(TelemetryConsent, OffCreatesNoFileAtAll) {
  TempDir dir;
  TelemetryOptions o = telemetry_options(dir, "off");
  o.data_dir = dir.file("data");  // must not even be created
  {
    auto t = Telemetry::create(o);
    ASSERT_TRUE(t.is_ok());
    EXPECT_FALSE((*t)->enabled());
    EXPECT_TRUE((*t)->first_run_notice().empty());
    EXPECT_TRUE((*t)->user().empty());
    record_one_of_each(**t);
    EXPECT_TRUE((*t)->flush().is_ok());
    EXPECT_EQ((*t)->stats().committed, 0u);
  }
  EXPECT_FALSE(std::filesystem::exists(dir.file("data")));
  {
    ScopedEnv env("FACEWEAVE_TELEMETRY", "off");
    o.consent = "";
    auto t = Telemetry::create(o);
    ASSERT_TRUE(t.is_ok());
    record_one_of_each(**t);
  }
  EXPECT_FALSE(std::filesystem::exists(dir.file("data")));
}

TEST(TelemetryConsent, EachLevelStoresExactlyWhatItPromises) {
  const std::set<std::string> errors = {"error", "provider.fallback"};
  std::set<std::string> usage = errors;
  usage.insert({"command.run", "command.option", "stage.timing", "face.count", "ui.action"});
  std::set<std::string> all = usage;
  all.insert({"model.load", "frame.timing"});
  for (const auto& [level, expected] : std::vector<std::pair<std::string, std::set<std::string>>>{
           {"errors", errors}, {"usage", usage}, {"all", all}}) {
    TempDir dir;
    {
      auto t = Telemetry::create(telemetry_options(dir, level));
      ASSERT_TRUE(t.is_ok());
      ASSERT_TRUE((*t)->enabled()) << (*t)->health().to_string();
      record_one_of_each(**t);
      ASSERT_TRUE((*t)->flush().is_ok());
      EXPECT_EQ((*t)->stats().committed, expected.size()) << level;
    }
    EXPECT_EQ(stored_events(dir), expected) << level;
  }
}

TEST(TelemetryConsent, FirstRunNoticeIsGivenOnceAndSaysWhereAndHowToTurnItOff) {
  TempDir dir;
  auto first = Telemetry::create(telemetry_options(dir, "usage"));
  ASSERT_TRUE(first.is_ok());
  const std::string& notice = (*first)->first_run_notice();
  EXPECT_NE(notice.find(events_db(dir)), std::string::npos) << notice;
  EXPECT_NE(notice.find("--telemetry off"), std::string::npos);
  EXPECT_NE(notice.find("FACEWEAVE_TELEMETRY=off"), std::string::npos);
  EXPECT_NE(notice.find("never records file names"), std::string::npos);
  first->reset();
  auto second = Telemetry::create(telemetry_options(dir, "usage"));
  ASSERT_TRUE(second.is_ok());
  EXPECT_TRUE((*second)->first_run_notice().empty());
}

TEST(TelemetryConsent, InvalidOptionsAreRefusedWithAReason) {
  TempDir dir;
  auto o = telemetry_options(dir);
  o.sample_rate = 0;
  EXPECT_EQ(Telemetry::create(o).status().code(), StatusCode::kInvalidArgument);
  o = telemetry_options(dir);
  o.sampling = "sometimes";
  EXPECT_EQ(Telemetry::create(o).status().code(), StatusCode::kInvalidArgument);
  o = telemetry_options(dir);
  o.retention = "shred";
  EXPECT_EQ(Telemetry::create(o).status().code(), StatusCode::kInvalidArgument);
  o = telemetry_options(dir);
  o.app_version = "1.0/../../etc";
  EXPECT_EQ(Telemetry::create(o).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace faceweave::testing
