// The faceweave binary end to end: every command run is recorded (and `faceweave telemetry ...` is not),
// --telemetry off and FACEWEAVE_TELEMETRY=off leave no database, --telemetry-debug prints exactly what is
// stored, and status, show, export, forget and purge work on what the binary itself recorded.
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "telemetry_test_support.h"

namespace faceweave::testing {
namespace {

struct CliRun {
  int code = -1;
  std::string out;  // stdout
  std::string err;  // stderr
};

CliRun run(const TempDir& data, const std::string& args, const std::string& env = "") {
  std::string err_file = data.file("stderr.txt");
  std::string cmd = "FACEWEAVE_DATA_DIR='" + data.path() + "/data' FACEWEAVE_MODELS_DIR='" + models_dir() +
                    "' FACEWEAVE_TELEMETRY= DO_NOT_TRACK= " + env + " " + binary() + " " + args + " 2>'" +
                    err_file + "'";
  CommandResult result = run_command(cmd);
  CliRun r;
  r.code = result.code;
  r.out = std::move(result.out);
  r.err = read_all(err_file);
  return r;
}

std::string db_of(const TempDir& d) {
  return d.file("data/telemetry/events.db");
}

nlohmann::json show_json(const TempDir& d, int last = 100) {
  CliRun r = run(d, "telemetry show --json --last " + std::to_string(last));
  EXPECT_EQ(r.code, 0) << r.err;
  return nlohmann::json::parse(r.out, nullptr, false);
}

TEST(TelemetryCli, RecordsEachCommandRunAndShowsANoticeOnce) {
  TempDir d;
  CliRun first = run(d, "models list");
  ASSERT_EQ(first.code, 0) << first.err;
  EXPECT_NE(first.err.find("faceweave records usage telemetry"), std::string::npos) << first.err;
  EXPECT_NE(first.err.find(db_of(d)), std::string::npos);
  CliRun second = run(d, "models list --json");
  ASSERT_EQ(second.code, 0);
  EXPECT_EQ(second.err.find("records usage telemetry"), std::string::npos) << second.err;
  // The telemetry command itself is not recorded.
  ASSERT_EQ(run(d, "telemetry status").code, 0);
  auto events = show_json(d);
  ASSERT_TRUE(events.is_array());
  ASSERT_EQ(events.size(), 2u) << events.dump(2);  // --json is an output format, not an option
  EXPECT_EQ(events[0]["event"], "command.run");
  EXPECT_EQ(events[0]["props"]["command"], "models_list");
  EXPECT_EQ(events[0]["props"]["exit_code"], 0);
  EXPECT_FALSE(events[0]["props"].contains("provider"));  // no model ran
  EXPECT_EQ(events[0]["outcome"], "ok");
  EXPECT_GT(events[0]["duration_ms"].get<double>(), 0.0);
  EXPECT_EQ(events[0]["session"], events[1]["session"]);  // one session across runs
  EXPECT_EQ(events[1]["props"]["changed"], 0);
  // Each command is its own run.
  ASSERT_TRUE(events[0]["props"].contains("run"));
  EXPECT_EQ(events[0]["props"]["run"].get<std::string>().size(), 16u);
  EXPECT_NE(events[0]["props"]["run"], events[1]["props"]["run"]);
}

TEST(TelemetryCli, RecordsChangedOptionsByNameAndListedValuesButNeverPaths) {
  TempDir d;
  std::string img = image("obama.jpg");
  CliRun r = run(d,
                 "--execution-provider cpu analyse --face-detector-score 0.5 --face-landmarker-model dlib_68 "
                 "--debug-out " +
                     d.file("zq_annotated.png") + " " + img);
  ASSERT_EQ(r.code, 0) << r.err;
  auto events = show_json(d);
  std::map<std::string, nlohmann::json> options;
  for (const auto& e : events)
    if (e["event"] == "command.option") options[e["props"]["option"]] = e["props"];
  // --execution-provider cpu is the default: unchanged; --debug-out is an output path, not an option.
  EXPECT_EQ(options.size(), 2u) << events.dump(2);
  EXPECT_EQ(options["face_detector_score"]["number"], 0.5);
  EXPECT_EQ(options["face_landmarker_model"]["value"], "dlib_68");
  EXPECT_FALSE(options.count("debug_out"));
  nlohmann::json run_event;
  for (const auto& e : events)
    if (e["event"] == "command.run") run_event = e;
  EXPECT_EQ(run_event["props"]["changed"], 2) << events.dump(2);
  EXPECT_EQ(run_event["props"]["provider"], "cpu") << events.dump(2);  // the provider that served it
  std::string bytes = all_bytes_under(d.file("data"));
  EXPECT_EQ(bytes.find("zq_annotated"), std::string::npos);
  EXPECT_EQ(bytes.find("obama"), std::string::npos);
  EXPECT_EQ(bytes.find(d.path()), std::string::npos);
}

TEST(TelemetryCli, FailuresRecordTheirOutcomeAndAnError) {
  TempDir d;
  CliRun r = run(d, "analyse /nonexistent/zq_face.jpg");
  EXPECT_EQ(r.code, 3);
  auto events = show_json(d);
  ASSERT_EQ(events.size(), 2u) << events.dump(2);
  EXPECT_EQ(events[0]["outcome"], "not_found");
  EXPECT_EQ(events[0]["props"]["exit_code"], 3);
  EXPECT_EQ(events[1]["event"], "error");
  EXPECT_EQ(events[1]["props"]["where"], "analyse");
  EXPECT_EQ(all_bytes_under(d.file("data")).find("zq_face"), std::string::npos);
}

// A 64x64 mid-grey 24-bit BMP: a valid image without a face.
void write_faceless_bmp(const std::string& path) {
  const int w = 64, h = 64, row = w * 3, size = 54 + row * h;
  std::string b(size_t(size), '\0');
  auto put32 = [&](size_t at, uint32_t v) {
    for (int i = 0; i < 4; ++i) b[at + size_t(i)] = char((v >> (8 * i)) & 0xff);
  };
  b[0] = 'B';
  b[1] = 'M';
  put32(2, uint32_t(size));
  put32(10, 54);
  put32(14, 40);
  put32(18, w);
  put32(22, h);
  b[26] = 1;
  b[28] = 24;
  put32(34, uint32_t(row * h));
  for (size_t i = 54; i < b.size(); ++i) b[i] = char(128);
  write_file(path, b);
}

// A run that asked for cuda on a build without it falls back to cpu and fails (the source has no face):
// the fallback, the requested and the used provider are recorded on the failed run, and every event of the
// run carries the same run id.
TEST(TelemetryCli, AFallbackRunThatFailsRecordsItsFallbackAndJoinsByRunId) {
  TempDir d;
  write_faceless_bmp(d.file("grey.bmp"));
  CliRun r = run(d, "--execution-provider cuda swap -s " + d.file("grey.bmp") + " -t " + image("obama.jpg") +
                        " -o " + d.file("zq_out.png") + " --color-match none --json");
  ASSERT_EQ(r.code, 9) << r.err;  // no face in the source
  auto events = show_json(d);
  std::map<std::string, nlohmann::json> by_name;
  std::set<std::string> runs;
  for (const auto& e : events) {
    by_name[e["event"]] = e;
    ASSERT_TRUE(e["props"].contains("run")) << e.dump();
    runs.insert(e["props"]["run"].get<std::string>());
  }
  EXPECT_EQ(runs.size(), 1u) << events.dump(2);
  ASSERT_TRUE(by_name.count("command.run")) << events.dump(2);
  const auto& run_props = by_name["command.run"]["props"];
  EXPECT_EQ(by_name["command.run"]["outcome"], "no_face");
  EXPECT_EQ(run_props["requested"], "cuda");
  EXPECT_EQ(run_props["provider"], "cpu");
  EXPECT_EQ(run_props["fallback"], true);
  // -s, -t, -o and --json are inputs and outputs, not options; --execution-provider and --color-match are.
  EXPECT_EQ(run_props["changed"], 2) << events.dump(2);
  ASSERT_TRUE(by_name.count("provider.fallback")) << events.dump(2);
  EXPECT_EQ(by_name["provider.fallback"]["props"]["requested"], "cuda");
  EXPECT_EQ(by_name["provider.fallback"]["props"]["used"], "cpu");
  ASSERT_TRUE(by_name.count("error"));
  EXPECT_EQ(by_name["error"]["props"]["requested"], "cuda");
  EXPECT_EQ(by_name["error"]["props"]["provider"], "cpu");
  EXPECT_EQ(by_name["error"]["props"]["fallback"], true);
  for (const auto& e : events) {
    if (e["event"] != "command.option") continue;
    EXPECT_TRUE(e["props"]["option"] == "execution_provider" || e["props"]["option"] == "color_match")
        << e.dump();
  }
}

// The analyst's own commands are not usage: `insights` on a fresh data dir records nothing, creates no
// database and says there is no data; on a data dir with events it leaves them as they were.
TEST(TelemetryCli, InsightsIsNotRecordedAndCreatesNoDatabase) {
  TempDir d;
  CliRun fresh = run(d, "insights defaults");
  EXPECT_EQ(fresh.code, 3) << fresh.err;
  EXPECT_NE(fresh.err.find("no telemetry database"), std::string::npos) << fresh.err;
  EXPECT_FALSE(std::filesystem::exists(db_of(d)));
  ASSERT_EQ(run(d, "models list").code, 0);
  ASSERT_EQ(run(d, "insights usage --json").code, 0);
  ASSERT_EQ(run(d, "insights errors").code, 0);
  auto events = show_json(d);
  ASSERT_EQ(events.size(), 1u) << events.dump(2);
  EXPECT_EQ(events[0]["props"]["command"], "models_list");
}

// Sharing without raw events from the command line (docs/analytics.md "Shares"): `telemetry share` writes
// aggregates and sketches, never a pseudonym; `insights merge` combines shares; `insights users` counts
// distinct users; bad input exits non-zero with a message.
TEST(TelemetryCli, ShareMergeAndUsers) {
  TempDir d;
  ASSERT_EQ(run(d, "telemetry simulate --users 80 --days 5 --seed 2 --end 2025-05-10").code, 0);
  const std::string a = d.file("a.json"), b = d.file("b.json");
  CliRun share = run(d, "telemetry share --out '" + a + "'");
  ASSERT_EQ(share.code, 0) << share.err;
  EXPECT_NE(share.out.find("left out"), std::string::npos) << share.out;
  auto ja = nlohmann::json::parse(read_all(a));
  EXPECT_EQ(ja["format"], "faceweave-share");
  EXPECT_TRUE(ja["epsilon"].is_null());
  EXPECT_FALSE(ja["active_users"].empty());
  // No pseudonym leaves: none of the stored users appears anywhere in the file.
  int users_checked = 0;
  for (const auto& e : show_json(d, 400))
    if (e.contains("user") && e["user"].is_string()) {
      ++users_checked;
      EXPECT_EQ(read_all(a).find(e["user"].get<std::string>()), std::string::npos);
    }
  EXPECT_GT(users_checked, 0);
  ASSERT_EQ(run(d, "telemetry share --out '" + b + "' --epsilon 0.5 --k 3").code, 0);
  EXPECT_EQ(nlohmann::json::parse(read_all(b))["epsilon"], 0.5);

  CliRun one = run(d, "insights merge '" + a + "' --json");
  ASSERT_EQ(one.code, 0) << one.err;
  CliRun two = run(d, "insights merge '" + a + "' '" + b + "' --json");
  ASSERT_EQ(two.code, 0) << two.err;
  auto j1 = nlohmann::json::parse(one.out), j2 = nlohmann::json::parse(two.out);
  EXPECT_EQ(j2["summary"]["installs"], 2);
  // The same install twice: the sketches count its users once, adding the installs' counts twice.
  EXPECT_GE(j2["summary"]["active_users"].get<double>(), j1["summary"]["active_users"].get<double>());
  EXPECT_EQ(
      j2["summary"]["active_users_summed_per_install"].get<double>(),
      j1["summary"]["active_users"].get<double>() +
          nlohmann::json::parse(run(d, "insights merge '" + b + "' --json").out)["summary"]["active_users"]
              .get<double>());
  CliRun users = run(d, "insights users --json --k 1");
  ASSERT_EQ(users.code, 0) << users.err;
  auto ju = nlohmann::json::parse(users.out);
  EXPECT_EQ(ju["view"], "users");
  EXPECT_GT(ju["summary"]["active_users"].get<double>(), 20);
  EXPECT_LE(ju["summary"]["active_users"].get<double>(), 80);

  std::ofstream(d.file("not.json")) << "hello";
  EXPECT_EQ(run(d, "insights merge").code, 2);
  EXPECT_EQ(run(d, "insights merge '" + d.file("missing.json") + "'").code, 3);
  CliRun bad = run(d, "insights merge '" + d.file("not.json") + "'");
  EXPECT_EQ(bad.code, 2);
  EXPECT_NE(bad.err.find("not JSON"), std::string::npos) << bad.err;
  EXPECT_NE(run(d, "telemetry share").code, 0);  // --out is required
  EXPECT_NE(run(d, "telemetry share --out '" + d.file("c.json") + "' --epsilon -1").code, 0);
  EXPECT_EQ(run(d, "telemetry share --out '" + d.path() + "'").code, 2);  // a directory
  EXPECT_EQ(run(d, "insights usage '" + a + "'").code, 2);                // only merge takes files
}

TEST(TelemetryCli, OffByFlagOrEnvironmentCreatesNoDatabase) {
  TempDir d;
  ASSERT_EQ(run(d, "--telemetry off models list").code, 0);
  EXPECT_FALSE(std::filesystem::exists(d.file("data")));
  CliRun env = run(d, "models list", "FACEWEAVE_TELEMETRY=off");
  ASSERT_EQ(env.code, 0);
  EXPECT_EQ(env.err.find("telemetry"), std::string::npos) << env.err;
  EXPECT_FALSE(std::filesystem::exists(d.file("data")));
  ASSERT_EQ(run(d, "models list", "DO_NOT_TRACK=1").code, 0);
  EXPECT_FALSE(std::filesystem::exists(d.file("data")));
  CliRun status = run(d, "--telemetry off telemetry status");
  EXPECT_EQ(status.code, 0);
  EXPECT_NE(status.out.find("level:     off (--telemetry)"), std::string::npos) << status.out;
  EXPECT_NE(status.out.find("none yet"), std::string::npos) << status.out;
  EXPECT_FALSE(std::filesystem::exists(d.file("data")));
  EXPECT_EQ(run(d, "--telemetry sometimes models list").code, 2);
}

TEST(TelemetryCli, DebugPrintsEachEventExactlyAsStored) {
  TempDir d;
  CliRun r = run(d, "--telemetry-debug models list --json");
  ASSERT_EQ(r.code, 0) << r.err;
  std::vector<std::string> debug;
  std::istringstream err(r.err);
  for (std::string line; std::getline(err, line);)
    if (line.rfind("telemetry: ", 0) == 0) debug.push_back(line.substr(11));
  CliRun exported = run(d, "telemetry export --format ndjson");
  ASSERT_EQ(exported.code, 0);
  std::string expected;
  for (const auto& l : debug) expected += l + "\n";
  EXPECT_EQ(exported.out, expected);
  EXPECT_EQ(debug.size(), 1u);  // command.run (--json is an output format, not an option)
}

TEST(TelemetryCli, StatusExportForgetAndPurge) {
  TempDir d;
  ASSERT_EQ(run(d, "models list").code, 0);
  ASSERT_EQ(run(d, "--data-dir " + d.file("data") + " models list").code,
            0);  // the flag finds the same place
  CliRun status = run(d, "telemetry status --json");
  ASSERT_EQ(status.code, 0) << status.err;
  auto s = nlohmann::json::parse(status.out);
  EXPECT_EQ(s["level"], "usage");
  EXPECT_EQ(s["events"], 2);
  EXPECT_EQ(s["users"], 1);
  EXPECT_EQ(s["events_by_name"]["command.run"], 2);
  std::string user = s["user"];
  ASSERT_EQ(user.size(), 64u);

  CliRun csv = run(d, "telemetry export --format csv");
  ASSERT_EQ(csv.code, 0);
  EXPECT_EQ(std::count(csv.out.begin(), csv.out.end(), '\n'), 3);
  EXPECT_EQ(csv.out.find("id,ts,event,user,session"), 0u);
  CliRun to_file = run(d, "telemetry export -o " + d.file("out.ndjson"));
  ASSERT_EQ(to_file.code, 0);
  EXPECT_EQ(std::count(std::istreambuf_iterator<char>(*new std::ifstream(d.file("out.ndjson"))),
                       std::istreambuf_iterator<char>(), '\n'),
            2);

  CliRun text = run(d, "telemetry show --last 1");
  EXPECT_NE(text.out.find("command.run"), std::string::npos) << text.out;
  EXPECT_EQ(std::count(text.out.begin(), text.out.end(), '\n'), 2);  // header + 1

  CliRun forget = run(d, "telemetry forget --user " + user);
  ASSERT_EQ(forget.code, 0) << forget.err;
  EXPECT_NE(forget.out.find("erased 2 event(s)"), std::string::npos) << forget.out;
  EXPECT_EQ(show_json(d).size(), 0u);

  ASSERT_EQ(run(d, "models list").code, 0);
  CliRun purge = run(d, "telemetry purge");
  ASSERT_EQ(purge.code, 0) << purge.err;
  EXPECT_NE(purge.out.find("erased 1 event(s)"), std::string::npos) << purge.out;
  EXPECT_EQ(show_json(d).size(), 0u);
  EXPECT_EQ(run(d, "telemetry forget").code, 2);  // --user is required
}

TEST(TelemetryCli, ADamagedDatabaseNeverStopsACommand) {
  TempDir d;
  std::filesystem::create_directories(d.file("data/telemetry"));
  write_file(db_of(d), std::string(4096, 'x'));
  CliRun r = run(d, "models list --json");
  EXPECT_EQ(r.code, 0);
  EXPECT_NE(r.err.find("damaged"), std::string::npos) << r.err;
  EXPECT_TRUE(nlohmann::json::parse(r.out, nullptr, false).is_array()) << r.out;  // stdout untouched
  CliRun status = run(d, "telemetry status");
  EXPECT_EQ(status.code, 4);
  EXPECT_NE(status.err.find("faceweave telemetry purge"), std::string::npos) << status.err;
  ASSERT_EQ(run(d, "telemetry purge").code, 0);
  ASSERT_EQ(run(d, "models list").code, 0);
  EXPECT_EQ(show_json(d).size(), 1u);
}

}  // namespace
}  // namespace faceweave::testing
