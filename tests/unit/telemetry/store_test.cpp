// The stored data over time: a damaged or locked database leaves the host working with a clear reason;
// retention archives to zstd NDJSON that decompresses to the same events; erasure by user and purge.
#include <sqlite3.h>

#include <cstdio>
#include <filesystem>
#include <set>

#include <gtest/gtest.h>

#include "telemetry/archive.h"
#include "telemetry/paths.h"
#include "telemetry_test_support.h"

namespace faceweave::testing {
namespace {

constexpr int64_t kDayMs = 24LL * 3600 * 1000;

void record_some(const TelemetryOptions& o, int n) {
  auto t = Telemetry::create(o);
  ASSERT_TRUE(t.is_ok());
  ASSERT_TRUE((*t)->enabled()) << (*t)->health().to_string();
  for (int i = 0; i < n; ++i) (*t)->record_frame_stage("detect", 1.5, 1920, 1080, i);
  ASSERT_TRUE((*t)->flush().is_ok());
}

std::vector<std::string> ndjson(const std::string& data_dir) {
  std::vector<std::string> lines;
  auto store = TelemetryStore::open(data_dir);
  EXPECT_TRUE(store.is_ok()) << store.status().to_string();
  if (!store) return lines;
  EXPECT_TRUE((*store)
                  ->for_each([&](const TelemetryEventRow& r) { lines.push_back(telemetry_row_json(r)); })
                  .is_ok());
  return lines;
}

std::vector<std::string> archive_files(const TempDir& dir) {
  std::vector<std::string> files;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir.file("telemetry/archive"), ec))
    files.push_back(e.path().string());
  return files;
}

TEST(TelemetryStore, ADamagedDatabaseLeavesTheHostWorkingWithAClearReason) {
  TempDir dir;
  std::filesystem::create_directories(dir.file("telemetry"));
  write_file(events_db(dir), std::string(8192, 'x'));
  LogCapture log;
  auto t = Telemetry::create(telemetry_options(dir));
  ASSERT_TRUE(t.is_ok());
  EXPECT_FALSE((*t)->enabled());
  Status h = (*t)->health();
  EXPECT_EQ(h.code(), StatusCode::kInvalidInput);
  EXPECT_NE(h.message().find(events_db(dir)), std::string::npos) << h.message();
  EXPECT_NE(h.message().find("damaged"), std::string::npos) << h.message();
  EXPECT_NE(h.message().find("faceweave telemetry purge"), std::string::npos) << h.message();
  for (int i = 0; i < 1000; ++i) (*t)->record_stage("detect", 1, 1, 1);  // no crash, no effect
  EXPECT_EQ((*t)->flush().code(), StatusCode::kInvalidInput);
  EXPECT_EQ(log.count("telemetry is off for this run"), 1u);
  EXPECT_EQ(TelemetryStore::open(dir.path()).status().code(), StatusCode::kInvalidInput);
  // The documented fix works.
  t->reset();
  ASSERT_TRUE(purge_telemetry(dir.path()).is_ok());
  record_some(telemetry_options(dir), 3);
  EXPECT_EQ(sql_int(events_db(dir), "SELECT count(*) FROM events"), 3);
}

TEST(TelemetryStore, ADatabaseDamagedInsideIsReportedWhenWritten) {
  TempDir dir;
  record_some(telemetry_options(dir), 2000);
  {
    // Checkpoint so the table pages live in the main file, then overwrite them (the header stays valid).
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(events_db(dir).c_str(), &db), SQLITE_OK);
    sqlite3_exec(db, "PRAGMA wal_checkpoint(TRUNCATE)", nullptr, nullptr, nullptr);
    sqlite3_close(db);
  }
  std::string bytes = read_all(events_db(dir));
  ASSERT_GT(bytes.size(), 16384u * 4);
  for (size_t i = 16384; i < bytes.size(); ++i) bytes[i] = char(0xA5 ^ (i * 31));
  write_file(events_db(dir), bytes);
  auto t = Telemetry::create(telemetry_options(dir));
  ASSERT_TRUE(t.is_ok());
  for (int i = 0; i < 100; ++i) (*t)->record_stage("detect", 1, 1, 1);
  Status s = (*t)->flush();
  EXPECT_FALSE(s.is_ok());
  EXPECT_EQ(s.code(), StatusCode::kInvalidInput) << s.to_string();
  EXPECT_FALSE((*t)->enabled());
}

TEST(TelemetryStore, ALockedDatabaseLeavesTheHostWorkingWithAClearReason) {
  TempDir dir;
  record_some(telemetry_options(dir), 1);
  // Another program holds the write lock (an sqlite3 shell inside BEGIN EXCLUSIVE, say).
  sqlite3* other = nullptr;
  ASSERT_EQ(sqlite3_open(events_db(dir).c_str(), &other), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(other, "BEGIN EXCLUSIVE; DELETE FROM events WHERE 0", nullptr, nullptr, nullptr),
            SQLITE_OK);
  LogCapture log;
  auto o = telemetry_options(dir);
  o.busy_timeout_ms = 100;
  auto t = Telemetry::create(o);
  ASSERT_TRUE(t.is_ok());
  (*t)->record_stage("detect", 1, 1, 1);
  Status s = (*t)->flush();
  EXPECT_EQ(s.code(), StatusCode::kIoError);
  EXPECT_NE(s.message().find("locked by another process"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find(events_db(dir)), std::string::npos) << s.message();
  EXPECT_FALSE((*t)->enabled());
  for (int i = 0; i < 1000; ++i) (*t)->record_stage("detect", 1, 1, 1);  // still harmless
  EXPECT_EQ(log.count("telemetry is off"), 1u);
  // Erasure reports the lock too, instead of pretending.
  auto store = TelemetryStore::open(dir.path(), 100);
  ASSERT_TRUE(store.is_ok());
  EXPECT_EQ((*store)->forget((*t)->user()).status().code(), StatusCode::kIoError);
  sqlite3_exec(other, "ROLLBACK", nullptr, nullptr, nullptr);
  sqlite3_close(other);
  EXPECT_EQ(*(*store)->forget((*t)->user()), 1);
}

TEST(TelemetryStore, ANewerSchemaIsLeftAloneWithAClearReason) {
  TempDir dir;
  record_some(telemetry_options(dir), 1);
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(events_db(dir).c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "UPDATE schema_version SET version = 99", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  auto t = Telemetry::create(telemetry_options(dir));
  ASSERT_TRUE(t.is_ok());
  EXPECT_EQ((*t)->health().code(), StatusCode::kUnsupported);
  EXPECT_NE((*t)->health().message().find("newer"), std::string::npos);
}

TEST(TelemetryStore, RetentionArchivesOldEventsToZstdNdjsonThatDecompressesToTheSameEvents) {
  TempDir dir;
  record_some(telemetry_options(dir), 1500);
  std::vector<std::string> before = ndjson(dir.path());
  ASSERT_EQ(before.size(), 1500u);
  auto store = TelemetryStore::open(dir.path());
  ASSERT_TRUE(store.is_ok());
  // Nothing is 90 days old yet.
  auto none = (*store)->apply_retention(90, "archive", telemetry::unix_ms());
  ASSERT_TRUE(none.is_ok());
  EXPECT_EQ(none->moved, 0);
  // 91 days later, everything is.
  auto moved = (*store)->apply_retention(90, "archive", telemetry::unix_ms() + 91 * kDayMs);
  ASSERT_TRUE(moved.is_ok()) << moved.status().to_string();
  EXPECT_EQ(moved->moved, 1500);
  EXPECT_EQ(sql_int(events_db(dir), "SELECT count(*) FROM events"), 0);
  // Pseudonyms leave with their last event.
  EXPECT_EQ(sql_int(events_db(dir), "SELECT count(*) FROM sessions"), 0);
  auto files = archive_files(dir);
  ASSERT_EQ(files.size(), 1u);
  EXPECT_EQ(files[0], moved->archive_path);
  EXPECT_NE(files[0].find(".ndjson.zst"), std::string::npos);
  std::vector<std::string> lines;
  ASSERT_TRUE(
      telemetry::read_zstd_lines(files[0], [&](std::string_view l) { lines.emplace_back(l); }).is_ok());
  EXPECT_EQ(lines, before);
  // The zstd tool reads it too.
  if (std::filesystem::exists("/usr/bin/zstd")) {
    std::string out;
    FILE* p = ::popen(("/usr/bin/zstd -dc '" + files[0] + "'").c_str(), "r");
    ASSERT_NE(p, nullptr);
    char buf[4096];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
    EXPECT_EQ(::pclose(p), 0);
    std::string expected;
    for (const auto& l : before) expected += l + "\n";
    EXPECT_EQ(out, expected);
  }
  // New events keep new ids: an id is never given twice, archived or not.
  record_some(telemetry_options(dir), 1);
  EXPECT_EQ(sql_int(events_db(dir), "SELECT min(id) FROM events"), 1501);
}

TEST(TelemetryStore, RetentionCanDeleteInsteadAndKeepsRecentEvents) {
  TempDir dir;
  record_some(telemetry_options(dir), 10);
  // Make half of them 100 days old.
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(events_db(dir).c_str(), &db), SQLITE_OK);
  std::string old = std::to_string(telemetry::unix_ms() - 100 * kDayMs);
  ASSERT_EQ(sqlite3_exec(db, ("UPDATE events SET ts = " + old + " WHERE id <= 5").c_str(), nullptr, nullptr,
                         nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  auto store = TelemetryStore::open(dir.path());
  ASSERT_TRUE(store.is_ok());
  auto r = (*store)->apply_retention(90, "delete", telemetry::unix_ms());
  ASSERT_TRUE(r.is_ok());
  EXPECT_EQ(r->deleted, 5);
  EXPECT_EQ(r->moved, 0);
  EXPECT_TRUE(archive_files(dir).empty());
  EXPECT_EQ(sql_int(events_db(dir), "SELECT min(id) FROM events"), 6);
  EXPECT_EQ(sql_int(events_db(dir), "SELECT count(*) FROM sessions"), 1);
}

TEST(TelemetryStore, RetentionRunsAtStartupOnTheWriterThread) {
  TempDir dir;
  record_some(telemetry_options(dir), 4);
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(events_db(dir).c_str(), &db), SQLITE_OK);
  std::string old = std::to_string(telemetry::unix_ms() - 100 * kDayMs);
  ASSERT_EQ(sqlite3_exec(db,
                         ("UPDATE events SET ts = " + old +
                          " WHERE id <= 2; UPDATE meta SET value = 0 WHERE key = "
                          "'last_retention_ms'")
                             .c_str(),
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  record_some(telemetry_options(dir), 1);
  EXPECT_EQ(sql_int(events_db(dir), "SELECT count(*) FROM events"), 3);
  EXPECT_EQ(archive_files(dir).size(), 1u);
}

TEST(TelemetryStore, AnArchiveLeftByACrashedRetentionIsRemoved) {
  TempDir dir;
  record_some(telemetry_options(dir), 3);
  std::filesystem::create_directories(dir.file("telemetry/archive"));
  write_file(dir.file("telemetry/archive/events-20260101-1-3.ndjson.zst"), "partial");
  auto store = TelemetryStore::open(dir.path());
  ASSERT_TRUE(store.is_ok());
  ASSERT_TRUE((*store)->apply_retention(90, "archive", telemetry::unix_ms()).is_ok());
  EXPECT_TRUE(archive_files(dir).empty());
  EXPECT_EQ(sql_int(events_db(dir), "SELECT count(*) FROM events"), 3);
}

TEST(TelemetryStore, ForgetErasesOneUserEverywhereAndKeepsTheOthers) {
  TempDir dir;
  auto alice = telemetry_options(dir);
  alice.user_id = "alice";
  auto bob = telemetry_options(dir);
  bob.user_id = "bob";
  record_some(alice, 30);
  {
    // Archive Alice's first events, then record more for both.
    auto store = TelemetryStore::open(dir.path());
    ASSERT_TRUE(store.is_ok());
    ASSERT_EQ((*store)->apply_retention(1, "archive", telemetry::unix_ms() + 2 * kDayMs)->moved, 30);
  }
  record_some(alice, 20);
  record_some(bob, 10);
  std::string alice_id = *telemetry_pseudonym(dir.path(), "alice");
  std::string bob_id = *telemetry_pseudonym(dir.path(), "bob");
  auto store = TelemetryStore::open(dir.path());
  ASSERT_TRUE(store.is_ok());
  auto removed = (*store)->forget("alice");  // the raw id works: it is hashed with this install's secret
  ASSERT_TRUE(removed.is_ok()) << removed.status().to_string();
  EXPECT_EQ(*removed, 50);
  EXPECT_EQ(sql_int(events_db(dir), "SELECT count(*) FROM events_view WHERE user = '" + bob_id + "'"), 10);
  EXPECT_EQ(sql_int(events_db(dir), "SELECT count(*) FROM events"), 10);
  EXPECT_EQ(sql_int(events_db(dir), "SELECT count(*) FROM sessions WHERE user = '" + alice_id + "'"), 0);
  // Nothing of Alice is left in any file, archives and write-ahead log included.
  EXPECT_TRUE(archive_files(dir).empty());
  EXPECT_EQ(all_bytes_under(dir.path()).find(alice_id), std::string::npos);
  // By pseudonym too.
  EXPECT_EQ(*(*store)->forget(bob_id), 10);
  EXPECT_EQ(sql_int(events_db(dir), "SELECT count(*) FROM events"), 0);
}

TEST(TelemetryStore, PurgeErasesEverythingButKeepsThePseudonymSecret) {
  TempDir dir;
  record_some(telemetry_options(dir), 100);
  {
    auto store = TelemetryStore::open(dir.path());
    ASSERT_TRUE((*store)->apply_retention(1, "archive", telemetry::unix_ms() + 2 * kDayMs).is_ok());
  }
  record_some(telemetry_options(dir), 10);
  std::string user = *telemetry_pseudonym(dir.path());
  ASSERT_TRUE(purge_telemetry(dir.path()).is_ok());
  EXPECT_EQ(sql_int(events_db(dir), "SELECT count(*) FROM events"), 0);
  EXPECT_TRUE(archive_files(dir).empty());
  EXPECT_EQ(all_bytes_under(dir.file("telemetry")).find(user), std::string::npos);
  EXPECT_EQ(*telemetry_pseudonym(dir.path()), user);
  auto info = (*TelemetryStore::open(dir.path()))->info();
  ASSERT_TRUE(info.is_ok());
  EXPECT_EQ(info->events, 0);
  EXPECT_EQ(info->users, 0);
}

TEST(TelemetryStore, InfoCountsEventsUsersAndNames) {
  TempDir dir;
  record_some(telemetry_options(dir), 7);
  auto t = Telemetry::create(telemetry_options(dir));
  (*t)->record_command("swap", StatusCode::kOk, 5);
  t->reset();
  auto store = TelemetryStore::open(dir.path());
  auto info = (*store)->info();
  ASSERT_TRUE(info.is_ok());
  EXPECT_EQ(info->events, 8);
  EXPECT_EQ(info->users, 1);
  EXPECT_EQ(info->events_by_name["frame.timing"], 7);
  EXPECT_EQ(info->events_by_name["command.run"], 1);
  EXPECT_EQ(info->schema_version, 3);
  EXPECT_TRUE(info->oldest_ms && info->newest_ms && *info->oldest_ms <= *info->newest_ms);
  auto last = (*store)->last(3);
  ASSERT_TRUE(last.is_ok());
  ASSERT_EQ(last->size(), 3u);
  EXPECT_EQ(last->back().event, "command.run");
  EXPECT_LT((*last)[0].id, (*last)[2].id);
  EXPECT_EQ(TelemetryStore::open(dir.file("nowhere")).status().code(), StatusCode::kNotFound);
}

TEST(TelemetryStore, CsvExportQuotesJsonProps) {
  TempDir dir;
  auto t = Telemetry::create(telemetry_options(dir));
  (*t)->record_stage("detect", 2.5, 1920, 1080);
  t->reset();
  std::ostringstream out;
  ASSERT_TRUE((*TelemetryStore::open(dir.path()))->export_events(out, "csv").is_ok());
  std::string csv = out.str();
  EXPECT_EQ(csv.find("id,ts,event,user,session,app_version,duration_ms,outcome,sample_rate,props\n"), 0u);
  EXPECT_NE(
      csv.find(
          R"(,2.5,ok,1,"{""stage"":""detect"",""resolution"":""1080p"",""frames"":1,""media"":""image""}")"),
      std::string::npos)
      << csv;
  std::ostringstream bad;
  EXPECT_EQ((*TelemetryStore::open(dir.path()))->export_events(bad, "xml").code(),
            StatusCode::kInvalidArgument);
}

// Another user's run (a job a browser submitted, run by the server's job thread): its events are stored
// under that user's pseudonym in a web session, with the run's id; a host run nested in it, and a run given
// something that is not a pseudonym, stay the host's.
TEST(TelemetryStore, AnotherUsersRunIsStoredUnderItsPseudonymAndPlatform) {
  TempDir dir;
  auto t = Telemetry::create(telemetry_options(dir, "usage"));
  ASSERT_TRUE(t) << t.status().to_string();
  const std::string browser = (*t)->client_pseudonym("c_0123456789abcdef");
  ASSERT_EQ(browser.size(), 64u);
  const std::string host = (*t)->user();
  std::string nested_id;
  {
    TelemetryRun run("00112233445566ff", browser, "web");
    (*t)->record_command("swap", StatusCode::kOk, 10);
    {
      TelemetryRun own;
      nested_id = own.id();
      (*t)->record_command("models_list", StatusCode::kOk, 1);
    }
    (*t)->record_option("swap", "blend", "affine");
  }
  {
    TelemetryRun bad("0011223344556677", "not-a-pseudonym", "web");
    (*t)->record_command("analyse", StatusCode::kOk, 1);
  }
  ASSERT_TRUE((*t)->flush().is_ok());
  const auto rows =
      sql_column(events_db(dir),
                 "SELECT coalesce(json_extract(e.props, '$.command'), '') || '|' || s.user || '|' "
                 "|| s.platform || '|' || json_extract(e.props, '$.run') FROM events e JOIN "
                 "sessions s ON s.id = e.session ORDER BY e.id");
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_EQ(rows[0], "swap|" + browser + "|web|00112233445566ff");
  EXPECT_NE(rows[1].find("models_list|" + host + "|"), std::string::npos) << rows[1];
  EXPECT_EQ(rows[1].find("|web|"), std::string::npos) << rows[1];
  EXPECT_NE(rows[1].find("|" + nested_id), std::string::npos) << rows[1];
  EXPECT_EQ(rows[2], "swap|" + browser + "|web|00112233445566ff");  // the option, back in the browser's run
  EXPECT_NE(rows[3].find("analyse|" + host + "|"), std::string::npos) << rows[3];
  EXPECT_NE(rows[3].find("|0011223344556677"), std::string::npos) << rows[3];
}

}  // namespace
}  // namespace faceweave::testing
