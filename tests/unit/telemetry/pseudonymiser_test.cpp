// Pseudonyms: HMAC-SHA256 under a per-install secret kept in its own 0600 file, stable per user, different
// per secret; sessions continue within 30 minutes of activity.
#include <sys/stat.h>

#include <cstring>
#include <set>
#include <thread>

#include <gtest/gtest.h>

#include "telemetry/pseudonymiser.h"
#include "telemetry/session.h"
#include "telemetry_test_support.h"

namespace faceweave::testing {
namespace {

using telemetry::Pseudonymiser;

unsigned mode_of(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
  return st.st_mode & 0777;
}

TEST(TelemetryPseudonym, MatchesAKnownHmacSha256) {
  // RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?" (the key padded to 32 bytes with
  // zeros gives the same HMAC: HMAC pads short keys with zeros).
  std::array<uint8_t, 32> key{};
  std::memcpy(key.data(), "Jefe", 4);
  EXPECT_EQ(Pseudonymiser(key).pseudonym("what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(TelemetryPseudonym, SameUserSamePseudonymAnotherSecretAnotherPseudonym) {
  TempDir a, b;
  auto pa = Pseudonymiser::load_or_create(a.file("key"));
  auto pa2 = Pseudonymiser::load_or_create(a.file("key"));
  auto pb = Pseudonymiser::load_or_create(b.file("key"));
  ASSERT_TRUE(pa.is_ok() && pa2.is_ok() && pb.is_ok());
  EXPECT_EQ(pa->pseudonym("uid:1000"), pa2->pseudonym("uid:1000"));
  EXPECT_NE(pa->pseudonym("uid:1000"), pa->pseudonym("uid:1001"));
  EXPECT_NE(pa->pseudonym("uid:1000"), pb->pseudonym("uid:1000"));
  EXPECT_TRUE(telemetry::is_pseudonym(pa->pseudonym("uid:1000")));
  EXPECT_EQ(read_all(a.file("key")).size(), 32u);
}

TEST(TelemetryPseudonym, TelemetryStoresThePseudonymNeverTheRawId) {
  TempDir a, b;
  std::string user_a, user_b;
  for (auto* d : {&a, &b}) {
    auto o = telemetry_options(*d);
    o.user_id = "alice.raw.id@example.com";
    auto t = Telemetry::create(o);
    ASSERT_TRUE(t.is_ok());
    (*t)->record_stage("detect", 1, 100, 100);
    ASSERT_TRUE((*t)->flush().is_ok());
    (d == &a ? user_a : user_b) = (*t)->user();
    EXPECT_EQ(sql_column(events_db(*d), "SELECT DISTINCT user FROM events_view"),
              std::vector<std::string>{(*t)->user()});
  }
  EXPECT_NE(user_a, user_b);
  EXPECT_EQ(*telemetry_pseudonym(a.path(), "alice.raw.id@example.com"), user_a);
  EXPECT_EQ(all_bytes_under(a.path()).find("alice.raw.id"), std::string::npos);
}

TEST(TelemetryPseudonym, SecretFileIsOwnerOnlyAndOutsideTheDatabase) {
  TempDir dir;
  auto t = Telemetry::create(telemetry_options(dir));
  ASSERT_TRUE(t.is_ok());
  (*t)->record_stage("detect", 1, 100, 100);
  ASSERT_TRUE((*t)->flush().is_ok());
  t->reset();
  std::string secret_path = dir.file("telemetry/pseudonym.key");
  EXPECT_EQ(mode_of(secret_path), 0600u);
  EXPECT_EQ(mode_of(dir.file("telemetry")), 0700u);
  EXPECT_EQ(mode_of(events_db(dir)), 0600u);
  std::string secret = read_all(secret_path);
  ASSERT_EQ(secret.size(), 32u);
  EXPECT_EQ(read_all(events_db(dir)).find(secret), std::string::npos);
}

TEST(TelemetryPseudonym, AWidenedSecretIsNarrowedBackTo0600) {
  TempDir dir;
  ASSERT_TRUE(Pseudonymiser::load_or_create(dir.file("key")).is_ok());
  ASSERT_EQ(::chmod(dir.file("key").c_str(), 0644), 0);
  LogCapture log;
  ASSERT_TRUE(Pseudonymiser::load(dir.file("key")).is_ok());
  EXPECT_EQ(mode_of(dir.file("key")), 0600u);
  EXPECT_EQ(log.count("readable by others"), 1u);
}

TEST(TelemetryPseudonym, ProcessesStartingTogetherAgreeOnOneSecret) {
  TempDir dir;
  std::vector<std::string> seen(8);
  std::vector<std::thread> threads;
  for (size_t i = 0; i < seen.size(); ++i)
    threads.emplace_back([&, i] {
      auto p = Pseudonymiser::load_or_create(dir.file("key"));
      if (p) seen[i] = p->pseudonym("u");
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(std::set<std::string>(seen.begin(), seen.end()).size(), 1u);
  EXPECT_FALSE(seen[0].empty());
}

TEST(TelemetryPseudonym, ADamagedSecretDisablesTelemetryWithAClearReason) {
  TempDir dir;
  std::filesystem::create_directories(dir.file("telemetry"));
  write_file(dir.file("telemetry/pseudonym.key"), "short");
  LogCapture log;
  auto t = Telemetry::create(telemetry_options(dir));
  ASSERT_TRUE(t.is_ok());
  EXPECT_FALSE((*t)->enabled());
  EXPECT_EQ((*t)->health().code(), StatusCode::kInvalidInput);
  EXPECT_NE((*t)->health().message().find("pseudonym.key"), std::string::npos);
  (*t)->record_stage("detect", 1, 1, 1);  // still safe to call
  EXPECT_EQ(log.count("telemetry is off"), 1u);
}

TEST(TelemetrySession, ContinuesWithinThirtyMinutesAndStartsANewOneAfter) {
  TempDir dir;
  const std::string path = dir.file("session");
  const int64_t t0 = 1'700'000'000'000;
  auto first = telemetry::resume_or_start_session(path, t0);
  EXPECT_TRUE(first.is_new);
  EXPECT_EQ(first.id.size(), 32u);
  ASSERT_TRUE(telemetry::save_session(path, first).is_ok());
  auto later = telemetry::resume_or_start_session(path, t0 + 29 * 60 * 1000);
  EXPECT_FALSE(later.is_new);
  EXPECT_EQ(later.id, first.id);
  auto idle = telemetry::resume_or_start_session(path, t0 + 31 * 60 * 1000);
  EXPECT_TRUE(idle.is_new);
  EXPECT_NE(idle.id, first.id);
  auto past = telemetry::resume_or_start_session(path, t0 - 1000);  // the clock went back
  EXPECT_TRUE(past.is_new);
  write_file(path, "garbage");
  EXPECT_TRUE(telemetry::resume_or_start_session(path, t0).is_new);
}

TEST(TelemetrySession, ConsecutiveRunsShareASession) {
  TempDir dir;
  std::string s1, s2;
  for (std::string* s : {&s1, &s2}) {
    auto t = Telemetry::create(telemetry_options(dir));
    ASSERT_TRUE(t.is_ok());
    *s = (*t)->session();
    (*t)->record_stage("detect", 1, 1, 1);
  }
  EXPECT_EQ(s1, s2);
  EXPECT_EQ(sql_int(events_db(dir), "SELECT count(*) FROM sessions"), 1);
}

}  // namespace
}  // namespace faceweave::testing
