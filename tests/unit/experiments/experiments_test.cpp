// The experiments module without the binary: the sequential test, the delta-method variance and the SRM
// chi-square against values computed by hand; the keyed-hash assignment (sticky, split within its CI over
// many pseudonyms, independent between experiments); the defaults profile's checks; the experiments table
// and its migration of an existing database; the experiment view's rollup (ax_exp_run) joining exposures and
// command.run folded in either order, and erased with the user.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <cmath>
#include <map>
#include <random>

#include "experiments/stats.h"
#include "faceweave/experiments.h"
#include "faceweave/telemetry.h"
#include "telemetry/database.h"
#include "test_support.h"
#include "unit/analytics/analytics_test_support.h"

namespace faceweave {
namespace {

using nlohmann::json;
using testing::TempDir;

// The experiment most tests use: colour matching, reinhard (the control) against none.
Experiment colour_match_experiment() {
  Experiment e;
  e.name = "cm";
  e.option = "color_match";
  e.arms = {"reinhard", "none"};
  return e;
}

std::string pseudonym(std::mt19937_64& g) {
  static const char* kHex = "0123456789abcdef";
  std::string s(64, '0');
  for (auto& c : s) c = kHex[g() & 15];
  return s;
}

TEST(Sequential, MixtureLikelihoodRatioByHand) {
  // d = 0.1, v = 0.01, tau = 0.1: sqrt(0.01 / 0.02) exp(0.01 * 0.01 / (2 * 0.01 * 0.02)) = 0.70711 e^0.25.
  EXPECT_NEAR(msprt_likelihood_ratio(0.1, 0.01, 0.1), std::sqrt(0.5) * std::exp(0.25), 1e-12);
  // No difference: Lambda = sqrt(v / (v + tau^2)) < 1, so the p-value stays 1.
  AlwaysValidP p;
  p.look(0, 0.01, 0.1);
  EXPECT_EQ(p.p(), 1.0);
  // A large difference: 1 / Lambda, and the p-value never goes back up.
  p.look(0.3, 0.001, 0.1);
  const double lambda = std::sqrt(0.001 / 0.011) * std::exp(0.09 * 0.01 / (2 * 0.001 * 0.011));
  EXPECT_NEAR(p.p(), 1 / lambda, 1e-12);
  p.look(0, 0.001, 0.1);
  EXPECT_NEAR(p.p(), 1 / lambda, 1e-12);
}

TEST(Sequential, DeltaMethodIsTheBinomialVarianceWithOneRunPerUser) {
  experiments::RatioMoments m;
  // 30 users, one run each, 12 successes: variance = s^2 / n with s^2 = n p (1 - p) / (n - 1).
  for (int i = 0; i < 30; ++i) m.add_user_change(0, 0, i < 12 ? 1 : 0, 1);
  EXPECT_DOUBLE_EQ(m.ratio(), 0.4);
  EXPECT_NEAR(m.variance(), 0.4 * 0.6 / 29, 1e-12);
  // Two users with 1 of 2 and 3 of 4: ratio 4/6; by hand mx = 2, mn = 3, vx = 2, vn = 2, cxn = 2:
  // (2/9 - 2*2*2/27 + 4*2/81) / 2 = (18 - 24 + 8) / 81 / 2 = 1/81.
  experiments::RatioMoments two;
  two.add_user_change(0, 0, 1, 2);
  two.add_user_change(0, 0, 3, 4);
  EXPECT_NEAR(two.ratio(), 4.0 / 6, 1e-12);
  EXPECT_NEAR(two.variance(), 1.0 / 81, 1e-12);
  // A user's sums changing replaces their old contribution.
  experiments::RatioMoments c;
  c.add_user_change(0, 0, 1, 1);
  c.add_user_change(1, 1, 1, 2);
  EXPECT_EQ(c.users, 1);
  EXPECT_EQ(c.sn, 2);
  EXPECT_EQ(c.snn, 4);
}

TEST(Sequential, ChiSquareSurvivalMatchesTables) {
  EXPECT_NEAR(experiments::gamma_q(0.5, 2.0), 0.0455003, 1e-6);   // chi2(1) > 4
  EXPECT_NEAR(experiments::gamma_q(1.0, 5.991 / 2), 0.05, 1e-4);  // chi2(2) 95th percentile
  EXPECT_NEAR(experiments::gamma_q(1.5, 7.815 / 2), 0.05, 1e-4);  // chi2(3)
  auto [chi, p] = experiments::sample_ratio_chi_square({5100, 4900}, {0.5, 0.5});
  EXPECT_NEAR(chi, 4.0, 1e-9);
  EXPECT_NEAR(p, 0.0455, 1e-4);
}

TEST(Assignment, StickySplitWithinItsIntervalAndIndependentOfOtherExperiments) {
  Experiment e;
  e.name = "cm-none";
  e.option = "color_match";
  e.arms = {"reinhard", "none"};
  e.split = {0.2, 0.8};
  ASSERT_TRUE(validate_experiment(e).is_ok());
  Experiment other = e;
  other.name = "cm-other";
  std::mt19937_64 g(7);
  const int n = 20000;
  int in_b = 0, both_b = 0, other_b = 0;
  for (int i = 0; i < n; ++i) {
    const std::string p = pseudonym(g);
    const size_t arm = experiment_arm(e, p);
    EXPECT_EQ(arm, experiment_arm(e, p));  // sticky, with no state
    in_b += arm == 1;
    other_b += experiment_arm(other, p) == 1;
    both_b += arm == 1 && experiment_arm(other, p) == 1;
  }
  // 80% +- 4 standard deviations (sd = sqrt(n 0.8 0.2) = 56.6).
  EXPECT_NEAR(in_b, 0.8 * n, 4 * std::sqrt(n * 0.16));
  // Independent: P(b in both) = 0.64.
  EXPECT_NEAR(both_b, 0.64 * n, 4 * std::sqrt(n * 0.64 * 0.36));
  EXPECT_NEAR(other_b, 0.8 * n, 4 * std::sqrt(n * 0.16));
  // The position is HMAC-SHA256(key = name, pseudonym): another name moves it.
  EXPECT_NE(experiment_position("a", "x"), experiment_position("b", "x"));
}

TEST(Experiments, ValidationRefusesWhatCannotRun) {
  Experiment e;
  e.name = "Bad Name";
  e.option = "color_match";
  e.arms = {"reinhard", "none"};
  EXPECT_NE(validate_experiment(e).message().find("name"), std::string::npos);
  e.name = "ok";
  e.option = "watermark";  // not a preference to optimise
  EXPECT_FALSE(validate_experiment(e).is_ok());
  e.option = "color-match";  // the CLI's spelling is accepted
  e.arms = {"reinhard", "purple"};
  EXPECT_NE(validate_experiment(e).message().find("none, reinhard, histogram"), std::string::npos);
  e.arms = {"reinhard", "none"};
  e.split = {1, 2, 3};
  EXPECT_FALSE(validate_experiment(e).is_ok());
  e.split = {50, 50};
  e.metric = "face_enhancer=detail";
  ASSERT_TRUE(validate_experiment(e).is_ok());
  EXPECT_EQ(e.option, "color_match");
  EXPECT_EQ(e.split[0], 0.5);
  EXPECT_EQ(e.goal, "increase");
  e.metric = "happiness";
  EXPECT_FALSE(validate_experiment(e).is_ok());
}

TEST(DefaultsProfile, LoadsAndRefusesWithTheFileNamed) {
  TempDir d;
  const std::string path = d.file("p.json");
  testing::write_file(path, R"({"id": "team", "version": 3, "defaults": {"color_match": "none",
                                "face_enhancer_blend": 60, "keep_mouth_interior": false}})");
  auto p = load_defaults_profile(path);
  ASSERT_TRUE(p) << p.status().to_string();
  EXPECT_EQ(p->tag(), "team-v3");
  EXPECT_EQ(p->defaults["face_enhancer_blend"], 60);
  DefaultsProfile next = *p;
  next.version = 4;
  ASSERT_TRUE(save_defaults_profile(next, d.file("q.json")).is_ok());
  EXPECT_EQ(load_defaults_profile(d.file("q.json"))->tag(), "team-v4");
  for (const char* bad :
       {R"({"id": "Team!", "version": 1, "defaults": {}})", R"({"id": "team", "version": 0, "defaults": {}})",
        R"({"id": "team", "version": 1, "defaults": {"colour": "none"}})",
        R"({"id": "team", "version": 1, "defaults": {"color_match": 3}})",
        R"({"id": "team", "version": 1, "defaults": {"keep_mouth_interior": "no"}})",
        R"({"id": "team", "version": 1, "defaults": {}, "extra": 1})", "not json"}) {
    testing::write_file(path, bad);
    auto r = load_defaults_profile(path);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << bad;
    EXPECT_NE(r.status().message().find(path), std::string::npos) << r.status().message();
  }
  EXPECT_EQ(load_defaults_profile(d.file("missing.json")).status().code(), StatusCode::kNotFound);
}

TEST(DefaultsResolution, ExplicitWinsThenExperimentThenProfile) {
  DefaultsProfile p;
  p.id = "team";
  p.defaults = {{"color_match", "histogram"}, {"blend", "affine"}};
  Experiment e = colour_match_experiment();
  ASSERT_TRUE(validate_experiment(e).is_ok());
  const std::string user(64, 'a');
  const std::string arm = e.arms[experiment_arm(e, user)];
  auto none_given = [](const std::string&) { return std::optional<std::string>(); };
  ResolvedDefaults r = resolve_defaults(&p, {e}, user, none_given);
  ASSERT_EQ(r.exposures.size(), 1u);
  EXPECT_EQ(r.exposures[0].arm, arm);
  EXPECT_FALSE(r.exposures[0].explicit_value);
  std::map<std::string, nlohmann::json> got(r.defaults.begin(), r.defaults.end());
  EXPECT_EQ(got["color_match"], arm);  // the arm over the profile
  EXPECT_EQ(got["blend"], "affine");
  auto given = [](const std::string& o) {
    return o == "color_match" ? std::optional<std::string>("histogram") : std::nullopt;
  };
  r = resolve_defaults(&p, {e}, user, given);
  got = std::map<std::string, nlohmann::json>(r.defaults.begin(), r.defaults.end());
  EXPECT_FALSE(got.count("color_match"));  // the user's flag wins
  ASSERT_EQ(r.exposures.size(), 1u);
  EXPECT_TRUE(r.exposures[0].explicit_value);
  EXPECT_EQ(r.exposures[0].value, "histogram");
  // Without a pseudonym (telemetry off) nobody is assigned: the profile alone.
  r = resolve_defaults(&p, {e}, "", none_given);
  EXPECT_TRUE(r.exposures.empty());
  got = std::map<std::string, nlohmann::json>(r.defaults.begin(), r.defaults.end());
  EXPECT_EQ(got["color_match"], "histogram");
}

TEST(ExperimentStore, MigratesAnExistingDatabaseKeepingItsEvents) {
  TempDir d;
  {
    TelemetryOptions o;
    o.data_dir = d.path();
    o.consent = "usage";
    auto t = Telemetry::create(o);
    ASSERT_TRUE(t);
    for (int i = 0; i < 5; ++i) (*t)->record_command("swap", StatusCode::kOk, 10.0);
    ASSERT_TRUE((*t)->flush().is_ok());
  }
  const std::string db = d.file("telemetry/events.db");
  // Back to schema 2, as a database of the previous release.
  sqlite3* h = nullptr;
  ASSERT_EQ(sqlite3_open(db.c_str(), &h), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(h, "DROP TABLE experiments; UPDATE schema_version SET version = 2", nullptr, nullptr,
                         nullptr),
            SQLITE_OK);
  sqlite3_close(h);
  auto store = ExperimentStore::open(d.path(), false);
  ASSERT_TRUE(store) << store.status().to_string();
  EXPECT_EQ((*store)->database().schema_version(), 3);
  Experiment e = colour_match_experiment();
  ASSERT_TRUE((*store)->create(e).is_ok());
  EXPECT_EQ((*store)->create(e).code(), StatusCode::kInvalidArgument);  // the name is taken
  auto info = TelemetryStore::open(d.path());
  ASSERT_TRUE(info);
  EXPECT_EQ((*info)->info()->events, 5);  // the events stayed
  auto got = (*store)->get("cm");
  ASSERT_TRUE(got);
  EXPECT_EQ(got->status, "running");
  EXPECT_EQ(got->split, (std::vector<double>{0.5, 0.5}));
  EXPECT_EQ((*store)->stop("cm", "purple").code(), StatusCode::kInvalidArgument);
  ASSERT_TRUE((*store)->stop("cm", "none").is_ok());
  EXPECT_EQ((*store)->get("cm")->adopted, "none");
  EXPECT_EQ((*store)->stop("cm", "").code(), StatusCode::kInvalidArgument);  // stopped already
  EXPECT_EQ((*store)->get("nope").status().code(), StatusCode::kNotFound);
  auto running = running_experiments(d.path());
  ASSERT_TRUE(running);
  EXPECT_TRUE(running->empty());
}

TEST(ExperimentView, JoinsRunsFoldedInEitherOrderAndForgetsTheUser) {
  TempDir d;
  auto store = ExperimentStore::open(d.path(), true);
  ASSERT_TRUE(store) << store.status().to_string();
  Experiment e = colour_match_experiment();
  e.metric = "error_rate";
  e.min_users = 1;
  ASSERT_TRUE((*store)->create(e).is_ok());
  auto exposure = [](const std::string& arm, const std::string& run) {
    return R"({"experiment":"cm","arm":")" + arm + R"(","value":")" + arm + R"(","explicit":false,"run":")" +
           run + "\"}";
  };
  auto command = [](const std::string& run) {
    return R"({"surface":"cli","command":"swap","exit_code":0,"changed":0,"run":")" + run + "\"}";
  };
  using analytics_test::at;
  using telemetry::EventKind;
  const int64_t t0 = at("2026-03-02", 10);
  int64_t a = 0, b = 0;
  {
    analytics_test::Db db(d.path());
    a = db.session("sa", std::string(64, 'a'), "0.2.0", t0, "linux-x86_64");
    b = db.session("sb", std::string(64, 'b'), "0.2.0", t0, "linux-x86_64");
    db.event(a, t0, EventKind::kExperimentExposure, exposure("reinhard", "r1"));
    db.event(a, t0 + 100, EventKind::kCommandRun, command("r1"), 100);
    db.event(a, t0 + 200, EventKind::kExperimentExposure, exposure("reinhard", "r2"));  // its run ends later
    db.event(b, t0 + 300, EventKind::kCommandRun, command("r3"), 40);  // before its exposure is stored
  }
  auto view = [&] {
    auto t = analyse_experiment((*store)->database(), e, {"", -1, 1});
    EXPECT_TRUE(t) << t.status().to_string();
    return t ? *t : InsightsTable{};
  };
  InsightsTable t = view();
  EXPECT_EQ(t.summary["exposed_runs"], 1);  // r1: r2 has not ended, r3 has no exposure yet
  {
    analytics_test::Db db(d.path());
    db.event(a, t0 + 400, EventKind::kCommandRun, command("r2"), 200, StatusCode::kNoFace);
    db.event(b, t0 + 500, EventKind::kExperimentExposure, exposure("none", "r3"));
    db.event(b, t0 + 600, EventKind::kExperimentExposure, exposure("none", "r4"));
    db.event(b, t0 + 700, EventKind::kCommandRun, command("r4"), 60, StatusCode::kCancelled);
  }
  t = view();
  EXPECT_EQ(t.summary["exposed_runs"], 4) << t.to_json().dump(2);
  ASSERT_EQ(t.rows.size(), 2u);
  // arm, value, users, runs, metric, ..., error_rate (11), run_ms (12): a cancelled run is not an error.
  EXPECT_EQ(t.rows[0][2], 1);
  EXPECT_EQ(t.rows[0][3], 2.0);
  EXPECT_EQ(t.rows[0][11], 0.5);
  EXPECT_EQ(t.rows[0][12], 150.0);
  EXPECT_EQ(t.rows[1][3], 2.0);
  EXPECT_EQ(t.rows[1][11], 0.0);
  EXPECT_EQ(t.rows[1][12], 50.0);
  // Erasing a user (telemetry forget deletes their events and sessions) erases their exposed runs.
  {
    analytics_test::Db db(d.path());
    db.exec("DELETE FROM events WHERE session = " + std::to_string(b));
    db.exec("DELETE FROM sessions WHERE id = " + std::to_string(b));
  }
  t = view();
  EXPECT_EQ(t.summary["exposed_runs"], 2) << t.to_json().dump(2);
}

// k-anonymity of the experiment view and the overview: five users in the control arm, two in the other.
// At k = 5 the small arm's users, runs and every number built on them are hidden ("< 5", null) and there is
// no verdict; at k = 2 everything shows.
TEST(ExperimentView, ArmsOfFewerThanKUsersAreHidden) {
  TempDir d;
  auto store = ExperimentStore::open(d.path(), true);
  ASSERT_TRUE(store) << store.status().to_string();
  Experiment e = colour_match_experiment();
  e.metric = "error_rate";
  e.min_users = 1;
  ASSERT_TRUE((*store)->create(e).is_ok());
  using analytics_test::at;
  using telemetry::EventKind;
  const int64_t t0 = at("2026-03-02", 10);
  {
    analytics_test::Db db(d.path());
    for (int i = 0; i < 7; ++i) {
      const std::string arm = i < 5 ? "reinhard" : "none", run = "r" + std::to_string(i);
      int64_t s = db.session("s" + std::to_string(i), std::string(63, 'a') + char('0' + i), "0.2.0", t0,
                             "linux-x86_64");
      db.event(s, t0, EventKind::kExperimentExposure,
               R"({"experiment":"cm","arm":")" + arm + R"(","value":")" + arm +
                   R"(","explicit":false,"run":")" + run + "\"}");
      db.event(s, t0 + 100, EventKind::kCommandRun,
               R"({"surface":"cli","command":"swap","exit_code":0,"changed":0,"run":")" + run + "\"}", 100,
               i == 6 ? StatusCode::kNoFace : StatusCode::kOk);
    }
  }
  auto view = [&](int k) {
    auto t = analyse_experiment((*store)->database(), e, {"", -1, k});
    EXPECT_TRUE(t) << t.status().to_string();
    return t ? *t : InsightsTable{};
  };
  InsightsTable t = view(5);
  ASSERT_EQ(t.rows.size(), 2u);
  EXPECT_EQ(t.rows[0][2], 5);  // the control arm: 5 users, 5 runs, no failure
  EXPECT_EQ(t.rows[0][3], 5.0);
  EXPECT_EQ(t.rows[1][2], "< 5");
  for (int c : {3, 4, 5, 6, 7, 8, 9, 10, 11, 12}) EXPECT_TRUE(t.rows[1][c].is_null()) << c;
  EXPECT_NE(t.summary["verdict"].get<std::string>().find("not enough data"), std::string::npos);
  EXPECT_TRUE(t.summary["winner"].is_null());
  auto overview = experiments_overview(**store, 5);
  ASSERT_TRUE(overview) << overview.status().to_string();
  EXPECT_EQ(overview->rows[0][5], json::array({5, "< 5"}));
  // k = 2: the small arm shows, 1 failed run of 2.
  InsightsTable all = view(2);
  EXPECT_EQ(all.rows[1][2], 2);
  EXPECT_EQ(all.rows[1][11], 0.5);
  EXPECT_EQ(all.rows[1][4], 0.5);                        // the metric is the error rate
  EXPECT_NEAR(all.rows[1][5].get<double>(), 0.5, 1e-9);  // difference against the control's 0
}

}  // namespace
}  // namespace faceweave
