// Experiments and the defaults profile through the faceweave binary, on real swaps: each user's arm is the
// keyed hash of their pseudonym (sticky across runs), the arm's value is really the run's default (the output
// equals an explicit run with that value), an explicit flag wins and is recorded as such, every exposure
// joins its command.run by run id, the profile is recorded on every run, `experiments show` counts what the
// test computes by hand from the events, `stop --adopt` writes the next profile version, and bad input is
// refused.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <map>
#include <set>

#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>

#include "core/image_io.h"
#include "faceweave/experiments.h"
#include "faceweave/telemetry.h"
#include "test_support.h"

namespace faceweave::testing {
namespace {

using nlohmann::json;

struct Cli {
  int code = -1;
  std::string out, err;
};

Cli run(const TempDir& d, const std::string& args, const std::string& user = "u0",
        const std::string& defaults_env = "") {
  const std::string err = d.file("stderr.txt");
  CommandResult r =
      run_command("FACEWEAVE_DATA_DIR='" + d.path() + "/data' FACEWEAVE_MODELS_DIR='" + models_dir() +
                  "' FACEWEAVE_TELEMETRY= DO_NOT_TRACK= FACEWEAVE_DEFAULTS='" + defaults_env +
                  "' FACEWEAVE_TELEMETRY_USER='" + user + "' " + binary() + " " + args + " 2>'" + err + "'");
  return {r.code, r.out, read_all(err)};
}

std::string swap_args(const TempDir& d, const std::string& out) {
  return "swap -s " + image("obama.jpg") + " -t " + image("astronaut.png") + " -o " + d.file(out) +
         " --no-watermark --no-provenance";
}

json events(const TempDir& d, const std::string& name) {
  Cli r = run(d, "insights events --event " + name + " --limit 1000 --json");
  EXPECT_EQ(r.code, 0) << r.err;
  json j = json::parse(r.out, nullptr, false);
  EXPECT_FALSE(j.is_discarded()) << r.out;
  return j.is_discarded() ? json::array() : j["rows"];
}

json props(const json& row) {
  return row["props"].is_string() ? json::parse(row["props"].get<std::string>()) : row["props"];
}

bool same_pixels(const std::string& a, const std::string& b) {
  auto x = core::load_image(a), y = core::load_image(b);
  if (!x.is_ok() || !y.is_ok() || x->size() != y->size()) return false;
  cv::Mat diff;
  cv::absdiff(*x, *y, diff);
  return cv::countNonZero(diff.reshape(1)) == 0;
}

TEST(ExperimentsCli, ArmsProfileExposuresAndVerdictOnRealRuns) {
  TempDir d;
  const std::string profile = d.file("team.json");
  write_file(profile, R"({"id": "team", "version": 2, "defaults": {"blend": "affine"}})");
  Cli c = run(d,
              "experiments create cm --option color_match --arms reinhard,none --split 50/50 --metric "
              "explicit_rate --min-users 2");
  ASSERT_EQ(c.code, 0) << c.err;
  EXPECT_NE(c.out.find("created experiment cm on color_match: reinhard 50%, none 50%"), std::string::npos)
      << c.out;

  // The arm of each user, computed here with the install's secret (the pseudonym) and the keyed hash.
  Experiment e;
  e.name = "cm";
  e.option = "color_match";
  e.arms = {"reinhard", "none"};
  ASSERT_TRUE(validate_experiment(e).is_ok());
  auto arm_of = [&](const std::string& user) {
    auto p = telemetry_pseudonym(d.path() + "/data", user);
    EXPECT_TRUE(p) << p.status().to_string();
    return p ? e.arms[experiment_arm(e, *p)] : std::string();
  };
  // The secret exists once a command recorded something: the first swap makes it.
  ASSERT_EQ(run(d, "--defaults-profile " + profile + " " + swap_args(d, "u0a.png"), "u0").code, 0);
  std::map<std::string, std::string> arm;
  std::string user_none, user_reinhard;
  for (int i = 0; i < 40 && (user_none.empty() || user_reinhard.empty()); ++i) {
    const std::string u = "u" + std::to_string(i);
    arm[u] = arm_of("user:" + u);
    (arm[u] == "none" ? user_none : user_reinhard) = u;
  }
  ASSERT_FALSE(user_none.empty());
  ASSERT_FALSE(user_reinhard.empty());
  // Runs: u0 twice (sticky), a "none" user and a "reinhard" user without the flag, the reinhard user once
  // with an explicit --color-match none (the flag wins), and u0 once with the profile from the environment.
  ASSERT_EQ(run(d, "--defaults-profile " + profile + " " + swap_args(d, "u0b.png"), "u0").code, 0);
  ASSERT_EQ(run(d, "--defaults-profile " + profile + " " + swap_args(d, "none.png"), user_none).code, 0);
  ASSERT_EQ(run(d, "--defaults-profile " + profile + " " + swap_args(d, "reinhard.png"), user_reinhard).code,
            0);
  Cli x = run(d, "--defaults-profile " + profile + " " + swap_args(d, "explicit.png") + " --color-match none",
              user_reinhard);
  ASSERT_EQ(x.code, 0) << x.err;
  // The arm's value is really the default: the "none" user's output is the explicit none run's, pixel for
  // pixel, and not the reinhard user's.
  EXPECT_TRUE(same_pixels(d.file("none.png"), d.file("explicit.png")));
  EXPECT_FALSE(same_pixels(d.file("none.png"), d.file("reinhard.png")));

  const json exposures = events(d, "experiment.exposure");
  const json runs = events(d, "command.run");
  ASSERT_EQ(exposures.size(), 5u) << exposures.dump(2);
  std::map<std::string, json> run_by_id;
  for (const auto& r : runs) run_by_id[props(r)["run"].get<std::string>()] = r;
  int explicit_runs = 0;
  for (const auto& x : exposures) {
    const json p = props(x);
    EXPECT_EQ(p["experiment"], "cm");
    // Joins its own command.run, which records the profile.
    ASSERT_TRUE(run_by_id.count(p["run"].get<std::string>())) << x.dump();
    const json rp = props(run_by_id[p["run"].get<std::string>()]);
    EXPECT_EQ(rp["command"], "swap");
    EXPECT_EQ(rp["profile"], "team-v2");
    explicit_runs += p["explicit"].get<bool>();
    if (p["explicit"].get<bool>()) {
      EXPECT_EQ(p["value"], "none");
      EXPECT_EQ(p["arm"], "reinhard");
    } else {
      EXPECT_EQ(p["value"], p["arm"]);
    }
  }
  EXPECT_EQ(explicit_runs, 1);
  // Each run's exposure carries the arm the keyed hash gives its user (u0's two runs: sticky). The explorer
  // lists newest first: explicit (reinhard user), reinhard user, none user, u0, u0.
  const std::vector<std::string> expected = {"reinhard", "reinhard", "none", arm["u0"], arm["u0"]};
  for (size_t i = 0; i < expected.size(); ++i) EXPECT_EQ(props(exposures[i])["arm"], expected[i]) << i;
  // The explicit flag is recorded as an option set; the arm's default is not.
  int color_options = 0;
  for (const auto& o : events(d, "command.option"))
    if (props(o)["option"] == "color_match") {
      ++color_options;
      EXPECT_EQ(props(o)["value"], "none");
    }
  EXPECT_EQ(color_options, 1);

  // experiments show: users and runs per arm and the explicit share, as counted here.
  std::map<std::string, int> runs_in, users_in, explicit_in;
  users_in[arm["u0"]] += 1;
  runs_in[arm["u0"]] += 2;
  if (user_none != "u0") {
    users_in["none"] += 1;
    runs_in["none"] += 1;
  } else {
    runs_in["none"] += 1;
  }
  if (user_reinhard != "u0") {
    users_in["reinhard"] += 1;
    runs_in["reinhard"] += 2;
  } else {
    runs_in["reinhard"] += 2;
  }
  explicit_in["reinhard"] = 1;
  Cli s = run(d, "experiments show cm --json --k 1");
  ASSERT_EQ(s.code, 0) << s.err;
  json t = json::parse(s.out);
  ASSERT_EQ(t["rows"].size(), 2u);
  for (const auto& row : t["rows"]) {
    const std::string v = row["value"];
    EXPECT_EQ(row["users"], users_in[v]) << v << " " << t.dump(2);
    EXPECT_EQ(row["runs"], runs_in[v]) << v;
    EXPECT_NEAR(row["metric"].get<double>(), double(explicit_in[v]) / runs_in[v], 1e-6) << v;
  }
  // Too few users for the sequential test's first look: no verdict, and no arm under k = 5 shown.
  EXPECT_EQ(t["summary"]["decision"], "continue") << t.dump(2);
  Cli k5 = run(d, "experiments show cm --json");
  ASSERT_EQ(k5.code, 0);
  EXPECT_EQ(json::parse(k5.out)["rows"][0]["users"], "< 5");

  // list, stop --adopt: the next profile version, and runs after it record it.
  Cli l = run(d, "experiments list --json --k 1");
  ASSERT_EQ(l.code, 0) << l.err;
  EXPECT_EQ(json::parse(l.out)["rows"][0]["name"], "cm");
  Cli st = run(d, "--defaults-profile " + profile + " experiments stop cm --adopt none");
  ASSERT_EQ(st.code, 0) << st.err;
  EXPECT_NE(st.out.find("team-v3"), std::string::npos) << st.out;
  auto next = load_defaults_profile(profile);
  ASSERT_TRUE(next) << next.status().to_string();
  EXPECT_EQ(next->version, 3);
  EXPECT_EQ(next->defaults["color_match"], "none");
  EXPECT_EQ(next->defaults["blend"], "affine");
  // The profile from the environment this time.
  Cli after = run(d, swap_args(d, "after.png"), user_reinhard, profile);
  ASSERT_EQ(after.code, 0) << after.err;
  EXPECT_TRUE(same_pixels(d.file("after.png"), d.file("none.png")));  // the adopted default, for everyone
  EXPECT_EQ(events(d, "experiment.exposure").size(), 5u);             // stopped: nobody is exposed
  EXPECT_EQ(props(events(d, "command.run")[0])["profile"], "team-v3");

  // Bad input: a clear message and the documented exit code.
  Cli bad = run(d, "experiments create x --option watermark --arms true,false");
  EXPECT_EQ(bad.code, 2);
  EXPECT_NE(bad.err.find("cannot be experimented on"), std::string::npos) << bad.err;
  EXPECT_EQ(run(d, "experiments create cm --option color_match --arms reinhard,none").code, 2);  // name taken
  EXPECT_EQ(run(d, "experiments create y --option color_match --arms reinhard,none --split 50").code, 2);
  Cli missing = run(d, "experiments show nope");
  EXPECT_EQ(missing.code, 3);
  EXPECT_NE(missing.err.find("experiments: cm"), std::string::npos) << missing.err;
  write_file(d.file("bad.json"), R"({"id": "team", "version": 1, "defaults": {"color_match": "purple"}})");
  Cli bp = run(d, "--defaults-profile " + d.file("bad.json") + " models list");
  EXPECT_EQ(bp.code, 2);
  EXPECT_NE(bp.err.find("bad.json"), std::string::npos) << bp.err;
  EXPECT_NE(bp.err.find("must be one of: none, reinhard, histogram"), std::string::npos) << bp.err;
}

// The A/B by defaults profile on real CLI runs: six users run swaps under two profiles (and one without a
// profile), some with --color-match none, some failing (a target that does not exist). Expected, by hand:
//   pa-v1: u1 ok, u1 ok --color-match none, u2 ok --color-match none, u3 failed  -> 4 runs, 1 failed, 2 set
//          color_match=none, 3 users
//   pb-v1: u4 ok, u5 ok --color-match none, u5 failed, u6 failed                 -> 4 runs, 2 failed, 1 set
//          color_match=none, 3 users
//   (none): u7 failed                                                            -> 1 run
TEST(ExperimentsCli, AbByProfileComparesRealRunsUnderTwoProfiles) {
  TempDir d;
  write_file(d.file("pa.json"), R"({"id": "pa", "version": 1, "defaults": {"blend": "affine"}})");
  write_file(d.file("pb.json"), R"({"id": "pb", "version": 1, "defaults": {"face_selector_mode": "one"}})");
  const std::string missing = " --no-watermark --no-provenance -s " + image("obama.jpg") + " -t " +
                              d.file("no-such-target.png") + " -o " + d.file("never.png");
  struct Run {
    std::string user, profile, extra;
    bool fails;
  };
  const std::vector<Run> runs = {{"u1", "pa", "", false},
                                 {"u1", "pa", " --color-match none", false},
                                 {"u2", "pa", " --color-match none", false},
                                 {"u3", "pa", "", true},
                                 {"u4", "pb", "", false},
                                 {"u5", "pb", " --color-match none", false},
                                 {"u5", "pb", "", true},
                                 {"u6", "pb", "", true},
                                 {"u7", "", "", true}};
  int i = 0;
  for (const auto& r : runs) {
    const std::string profile =
        r.profile.empty() ? "" : "--defaults-profile " + d.file(r.profile + ".json") + " ";
    const std::string args = r.fails ? "swap" + missing : swap_args(d, "out" + std::to_string(i++) + ".png");
    Cli c = run(d, profile + args + r.extra, r.user);
    EXPECT_EQ(c.code == 0, !r.fails) << args << "\n" << c.err;
  }
  auto ab = [&](const std::string& args) {
    Cli c = run(d, "insights ab --by profile --json " + args);
    EXPECT_EQ(c.code, 0) << c.err;
    json j = json::parse(c.out, nullptr, false);
    EXPECT_FALSE(j.is_discarded()) << c.out;
    return j;
  };
  // Default arms: the two profiles with the most swap runs (pa-v1 and pb-v1, 4 each; not (none), 1).
  json e = ab("--k 1 --min-sample 1");
  ASSERT_EQ(e["rows"].size(), 2u) << e.dump(2);
  EXPECT_EQ(e["columns"][1], "profile");
  const json a = e["rows"][0], b = e["rows"][1];
  EXPECT_EQ(a["profile"], "pa-v1");
  EXPECT_EQ(b["profile"], "pb-v1");
  EXPECT_EQ(a["successes"], 1.0);
  EXPECT_EQ(a["trials"], 4.0);
  EXPECT_EQ(a["rate"], 0.25);
  EXPECT_EQ(a["users"], 3.0);
  EXPECT_EQ(b["successes"], 2.0);
  EXPECT_EQ(b["trials"], 4.0);
  EXPECT_EQ(b["rate"], 0.5);
  EXPECT_EQ(b["users"], 3.0);
  // The same statistics as the version A/B: 0.5 - 0.25, pooled z = 0.25 / sqrt(3/8 * 5/8 * (1/4 + 1/4)).
  EXPECT_NEAR(e["summary"]["difference"].get<double>(), 0.25, 1e-6);
  EXPECT_NEAR(e["summary"]["z"].get<double>(), 0.25 / std::sqrt(0.375 * 0.625 * 0.5), 1e-4);
  EXPECT_EQ(e["summary"]["by"], "profile");
  EXPECT_EQ(e["summary"]["srm_chi_square"], 0.0);  // 3 users each against 50/50

  // The usage share: runs that set color_match=none, of each profile's runs.
  json u = ab("--k 1 --min-sample 1 --metric color_match=none");
  EXPECT_EQ(u["rows"][0]["successes"], 2.0);
  EXPECT_EQ(u["rows"][0]["rate"], 0.5);
  EXPECT_EQ(u["rows"][1]["successes"], 1.0);
  EXPECT_EQ(u["rows"][1]["rate"], 0.25);
  EXPECT_NEAR(u["summary"]["difference"].get<double>(), -0.25, 1e-6);

  // Named arms, the runs without a profile included.
  json n = ab("--k 1 --min-sample 1 --a '(none)' --b pa-v1");
  EXPECT_EQ(n["rows"][0]["profile"], "(none)");
  EXPECT_EQ(n["rows"][0]["trials"], 1.0);
  EXPECT_EQ(n["rows"][0]["successes"], 1.0);

  // k-anonymity at the default k = 5: three users per arm are too few; nothing is computed from them.
  json k5 = ab("--min-sample 1");
  EXPECT_EQ(k5["rows"][0]["trials"], "< 5");
  EXPECT_EQ(k5["rows"][0]["users"], "< 5");
  EXPECT_TRUE(k5["rows"][0]["rate"].is_null());
  EXPECT_TRUE(k5["summary"]["difference"].is_null());
  EXPECT_NE(k5["summary"]["verdict"].get<std::string>().find("fewer than k = 5"), std::string::npos);
  EXPECT_EQ(k5.dump().find("0.25"), std::string::npos) << k5.dump(2);

  // Bad input: exit 2 with a message naming the problem.
  Cli bad = run(d, "insights ab --by profile --metric download_conversion");
  EXPECT_EQ(bad.code, 2);
  EXPECT_NE(bad.err.find("error_rate or OPTION=VALUE"), std::string::npos) << bad.err;
  EXPECT_EQ(run(d, "insights ab --by profile --a pa-v1 --b pa-v1").code, 2);
  EXPECT_EQ(run(d, "insights ab --by colour").code, 2);
  Cli bm = run(d, "insights ab --by profile --metric 'color match=none'");
  EXPECT_EQ(bm.code, 2);
  EXPECT_NE(bm.err.find("OPTION=VALUE"), std::string::npos) << bm.err;
}

TEST(ExperimentsCli, RecommendListsMajoritySwitchesAndWinningExperiments) {
  TempDir d;
  ASSERT_EQ(run(d, "--telemetry off telemetry simulate --users 300 --days 14 --seed 4 --end 2026-03-14").code,
            0);
  Cli none = run(d, "insights recommend --json");
  ASSERT_EQ(none.code, 0) << none.err;
  const json rec = json::parse(none.out);
  // What the defaults view says, by hand: every value more than half of the cohort switched to.
  const json view = json::parse(run(d, "insights defaults --json").out);
  std::set<std::string> expected, listed;
  for (const auto& r : view["rows"])
    if (r["share"].is_number() && r["share"].get<double>() > 0.5)
      expected.insert(r["option"].get<std::string>() + "=" + r["switched_to"].get<std::string>());
  // The simulator's 72% who switch color_match to none in their first session, at least.
  ASSERT_TRUE(expected.count("color_match=none")) << view.dump(2);
  for (const auto& r : rec["rows"]) {
    if (r["kind"] != "switched_off") continue;
    listed.insert(r["option"].get<std::string>() + "=" + r["proposed"].get<std::string>());
    EXPECT_LT(r["ci_low"].get<double>(), r["share"].get<double>());
    EXPECT_GT(r["ci_high"].get<double>(), r["share"].get<double>());
    EXPECT_GT(r["ci_low"].get<double>(), 0.0);
    EXPECT_NE(r["next"].get<std::string>().find("experiments create"), std::string::npos);
  }
  EXPECT_EQ(listed, expected) << rec.dump(2);
  // Never from fewer than k users: with k above the cohort nothing is proposed.
  Cli k = run(d, "insights recommend --json --k 1000");
  ASSERT_EQ(k.code, 0) << k.err;
  EXPECT_EQ(json::parse(k.out)["summary"]["recommendations"], 0);
  // An experiment with a true effect that reached its verdict is listed with the command that adopts it.
  Cli sim = run(d,
                "experiments simulate cm --option color_match --arms reinhard,none --metric explicit_rate "
                "--users 2000 --days 14 --end 2026-03-14 --effect -0.1 --seed 2");
  ASSERT_EQ(sim.code, 0) << sim.err;
  const json after = json::parse(run(d, "insights recommend --json").out);
  bool adopted = false;
  for (const auto& r : after["rows"])
    if (r["kind"] == "experiment") {
      adopted = true;
      EXPECT_EQ(r["proposed"], "none");
      EXPECT_EQ(r["next"], "faceweave experiments stop cm --adopt none");
    }
  EXPECT_TRUE(adopted) << after.dump(2);
}

}  // namespace
}  // namespace faceweave::testing
