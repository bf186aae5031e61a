// Experiments on defaults and the defaults profile through a real `faceweave serve` (docs/experiments.md):
// GET /api/config gives a browser its arm and the profile's defaults, a preview and a job of that browser
// record their exposures (the job's under the run id its later events carry), their command.run records
// the profile, the experiments routes answer what `faceweave experiments show` prints, and bad parameters
// are 4xx naming them. `faceweave jobs submit` and the Python module give a user their arm's default too
// (the output equals an explicit run with that value), and record the exposure the same way.
#include <cstdlib>
#include <map>
#include <sstream>
#include <thread>
#include <tuple>

#include <gtest/gtest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include <opencv2/core.hpp>

#include "faceweave/engine.h"
#include "faceweave/experiments.h"
#include "faceweave/telemetry.h"
#include "server_process.h"

namespace faceweave::testing {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

const char* kClient = "c_0123456789abcdef01234567";

// POST /api/uploads of the file at `path`; its upload id ("" when the upload failed, which is reported).
std::string upload_file(httplib::Client& http, const std::string& path) {
  httplib::MultipartFormDataItems items = {
      {"file", read_all(path), fs::path(path).filename().string(), "application/octet-stream"}};
  auto r = http.Post("/api/uploads", items);
  EXPECT_TRUE(r && r->status == 201);
  return r ? json::parse(r->body)["id"].get<std::string>() : std::string();
}

json props_of(const json& row) {
  return row["props"].is_string() ? json::parse(row["props"].get<std::string>()) : row["props"];
}

TEST(ExperimentsApi, ConfigPreviewJobAndRoutes) {
  TempDir data;
  const std::string profile = data.file("profile.json");
  write_file(profile, R"({"id": "srv", "version": 1, "defaults": {"blend": "affine"}})");
  auto c =
      run_command(binary() + " --telemetry off --data-dir " + data.path() +
                  " experiments create cm --option color_match --arms reinhard,none --metric explicit_rate "
                  "--min-users 1 2>&1");
  ASSERT_EQ(c.code, 0) << c.out;
  ::setenv("FACEWEAVE_DEFAULTS", profile.c_str(), 1);
  ServerProcess server(data.path(), {}, data.file("server.log"));
  ::unsetenv("FACEWEAVE_DEFAULTS");
  ASSERT_TRUE(server.started()) << server.log();
  httplib::Client http("127.0.0.1", server.port());
  http.set_read_timeout(std::chrono::seconds(120));
  auto get = [&](const std::string& path, int expect = 200) {
    auto r = http.Get(path.c_str());
    EXPECT_TRUE(r) << path;
    if (!r) return json();
    EXPECT_EQ(r->status, expect) << path << ": " << r->body;
    return json::parse(r->body, nullptr, false);
  };

  // The browser's arm: the keyed hash of its pseudonym (the install's secret, "client:<id>").
  Experiment e;
  e.name = "cm";
  e.option = "color_match";
  e.arms = {"reinhard", "none"};
  ASSERT_TRUE(validate_experiment(e).is_ok());
  auto pseudonym = telemetry_pseudonym(data.path(), std::string("client:") + kClient);
  ASSERT_TRUE(pseudonym) << pseudonym.status().to_string();
  const std::string arm = e.arms[experiment_arm(e, *pseudonym)];
  json config = get(std::string("/api/config?client=") + kClient);
  EXPECT_EQ(config["defaults_profile"], (json{{"id", "srv"}, {"version", 1}}));
  EXPECT_EQ(config["options"]["blend"]["default"], "affine");
  EXPECT_EQ(config["options"]["color_match"]["default"], arm);
  EXPECT_EQ(config["experiments"], (json::array({{{"experiment", "cm"}, {"arm", arm}}})));
  // Without a client: the server's own user, and the profile.
  EXPECT_EQ(get("/api/config")["options"]["blend"]["default"], "affine");

  auto upload = [&](const std::string& path) { return upload_file(http, path); };
  const std::string source = upload(image("obama.jpg")), target = upload(image("astronaut.png"));
  auto preview =
      http.Post("/api/preview", json{{"sources", {source}}, {"target", target}, {"client", kClient}}.dump(),
                "application/json");
  ASSERT_TRUE(preview);
  ASSERT_EQ(preview->status, 200) << preview->body;
  auto job = http.Post("/api/jobs",
                       json{{"sources", {source}},
                            {"target", target},
                            {"client", kClient},
                            {"options", {{"color_match", "histogram"}}}}
                           .dump(),
                       "application/json");
  ASSERT_TRUE(job);
  ASSERT_EQ(job->status, 201) << job->body;
  const std::string id = json::parse(job->body)["id"];
  json done;
  for (int i = 0; i < 1800; ++i) {
    done = get("/api/jobs/" + id);
    if (done["status"] != "queued" && done["status"] != "running") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_EQ(done["status"], "done") << done.dump();
  EXPECT_EQ(done["options"], (json{{"color_match", "histogram"}}));  // the user's options, not the defaults
  auto bad = http.Post("/api/preview", json{{"sources", {source}}, {"target", target}, {"client", 7}}.dump(),
                       "application/json");
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 400);

  // The exposures and their runs (the writer commits within a second).
  json exposures, runs;
  for (int i = 0; i < 100; ++i) {
    exposures = get("/api/insights/events?event=experiment.exposure")["rows"];
    runs = get("/api/insights/events?event=command.run")["rows"];
    if (exposures.size() >= 2 && runs.size() >= 2) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_EQ(exposures.size(), 2u) << exposures.dump(2);
  std::map<std::string, json> run_by_id;
  for (const auto& r : runs) run_by_id[props_of(r).value("run", "")] = props_of(r);
  const json job_x = props_of(exposures[0]), preview_x = props_of(exposures[1]);  // newest first
  EXPECT_EQ(preview_x["arm"], arm);
  EXPECT_EQ(preview_x["value"], arm);
  EXPECT_FALSE(preview_x["explicit"].get<bool>());
  EXPECT_EQ(job_x["arm"], arm);
  EXPECT_EQ(job_x["value"], "histogram");
  EXPECT_TRUE(job_x["explicit"].get<bool>());
  ASSERT_TRUE(run_by_id.count(preview_x["run"])) << runs.dump(2);
  ASSERT_TRUE(run_by_id.count(job_x["run"])) << runs.dump(2);
  EXPECT_EQ(run_by_id[preview_x["run"]]["command"], "preview");
  EXPECT_EQ(run_by_id[job_x["run"]]["command"], "swap");
  EXPECT_EQ(run_by_id[job_x["run"]]["profile"], "srv-v1");
  EXPECT_EQ(run_by_id[preview_x["run"]]["profile"], "srv-v1");

  // The routes: one user (the browser) in its arm with two runs, one of them explicit.
  json list = get("/api/insights/experiments?k=1");
  ASSERT_EQ(list["rows"].size(), 1u) << list.dump(2);
  EXPECT_EQ(list["rows"][0]["name"], "cm");
  json one = get("/api/insights/experiments/cm?k=1");
  for (const auto& row : one["rows"]) {
    if (row["value"] != arm) continue;
    EXPECT_EQ(row["users"], 1);
    EXPECT_EQ(row["runs"], 2);
    EXPECT_EQ(row["metric"], 0.5);
  }
  auto cli = run_command(binary() + " --data-dir " + data.path() + " experiments show cm --k 1 --json 2>&1");
  ASSERT_EQ(cli.code, 0) << cli.out;
  EXPECT_EQ(json::parse(cli.out)["rows"], one["rows"]);
  EXPECT_EQ(get("/api/insights/experiments/nope", 404)["error"]["code"], "not_found");
  EXPECT_EQ(get("/api/insights/experiments?k=0", 400)["error"]["field"], "k");
  EXPECT_EQ(get("/api/insights/experiments/cm?metric=happiness", 400)["error"]["field"], "metric");
}

// A job (and a preview) a browser submits is that browser user's run: the job runner's events carry the
// submitter's pseudonym (the install's secret over "client:<id>"), a session of platform web and the one
// run id its exposure was recorded under at submission; a job without a client stays the server's own.
TEST(ExperimentsApi, SubmittedJobIsTheSubmittersRun) {
  TempDir data;
  auto c = run_command(binary() + " --telemetry off --data-dir " + data.path() +
                       " experiments create cm --option color_match --arms reinhard,none --min-users 1 2>&1");
  ASSERT_EQ(c.code, 0) << c.out;
  ServerProcess server(data.path(), {}, data.file("server.log"));
  ASSERT_TRUE(server.started()) << server.log();
  httplib::Client http("127.0.0.1", server.port());
  http.set_read_timeout(std::chrono::seconds(120));
  auto upload = [&](const std::string& path) { return upload_file(http, path); };
  const std::string source = upload(image("obama.jpg")), target = upload(image("astronaut.png"));
  auto submit = [&](const json& body) {
    auto r = http.Post("/api/jobs", body.dump(), "application/json");
    EXPECT_TRUE(r && r->status == 201) << (r ? r->body : "no answer");
    const std::string id = r ? json::parse(r->body)["id"].get<std::string>() : "";
    for (int i = 0; i < 1800; ++i) {
      auto g = http.Get(("/api/jobs/" + id).c_str());
      if (!g) break;
      const json j = json::parse(g->body);
      if (j["status"] != "queued" && j["status"] != "running") {
        EXPECT_EQ(j["status"], "done") << j.dump();
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  };
  json body{{"sources", {source}}, {"target", target}, {"options", {{"blend", "affine"}}}};
  submit(body);  // the server's own user
  body["client"] = kClient;
  submit(body);  // the browser's
  auto preview = http.Post("/api/preview", body.dump(), "application/json");
  ASSERT_TRUE(preview && preview->status == 200);

  // Every stored event with its pseudonym (telemetry export) and platform (the explorer), by id.
  json runs;
  for (int i = 0; i < 100; ++i) {
    auto r = http.Get("/api/insights/events?event=command.run&limit=100");
    ASSERT_TRUE(r);
    runs = json::parse(r->body)["rows"];
    if (runs.size() >= 3) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_EQ(runs.size(), 3u) << runs.dump(2);
  auto all = http.Get("/api/insights/events?limit=1000");
  ASSERT_TRUE(all);
  std::map<int64_t, std::string> platform;
  const json stored = json::parse(all->body);
  for (const auto& row : stored["rows"])
    platform[row["id"].get<int64_t>()] = row["platform"].get<std::string>();
  ASSERT_FALSE(platform.empty()) << all->body.substr(0, 400);
  auto exported = run_command(binary() + " --telemetry off --data-dir " + data.path() + " telemetry export");
  ASSERT_EQ(exported.code, 0) << exported.out;
  std::map<std::string, std::vector<json>> by_run;  // run id -> its events
  std::istringstream lines(exported.out);
  for (std::string line; std::getline(lines, line);) {
    json e = json::parse(line, nullptr, false);
    if (e.is_object() && e["props"].contains("run")) by_run[e["props"]["run"]].push_back(e);
  }
  auto browser = telemetry_pseudonym(data.path(), std::string("client:") + kClient);
  ASSERT_TRUE(browser) << browser.status().to_string();

  // Newest first: the preview, the browser's job, the server's job.
  const json preview_run = props_of(runs[0]), browser_job = props_of(runs[1]), own_job = props_of(runs[2]);
  EXPECT_EQ(preview_run["command"], "preview");
  EXPECT_EQ(browser_job["command"], "swap");
  EXPECT_EQ(own_job["command"], "swap");
  EXPECT_EQ(runs[0]["platform"], "web");
  EXPECT_EQ(runs[1]["platform"], "web");
  EXPECT_NE(runs[2]["platform"], "web");
  // The browser's job: one run id joins its exposure, its option, its stage times and its one command.run,
  // all under the browser's pseudonym in a web session.
  const std::vector<json>& job = by_run[browser_job["run"]];
  std::map<std::string, int> kinds;
  for (const auto& e : job) {
    ++kinds[e["event"]];
    EXPECT_EQ(e["user"], *browser) << e.dump();
    EXPECT_EQ(platform[e["id"].get<int64_t>()], "web") << e.dump();
  }
  EXPECT_EQ(kinds["command.run"], 1);
  EXPECT_EQ(kinds["experiment.exposure"], 1);
  EXPECT_EQ(kinds["command.option"], 1);  // blend affine
  EXPECT_GE(kinds["stage.timing"], 3);
  for (const auto& e : by_run[preview_run["run"]]) EXPECT_EQ(e["user"], *browser) << e.dump();
  EXPECT_GE(by_run[preview_run["run"]].size(), 2u);  // its exposure and command.run at least
  // The job without a client is the server's own user's, not the browser's.
  const std::vector<json>& own = by_run[own_job["run"]];
  ASSERT_FALSE(own.empty());
  for (const auto& e : own) {
    EXPECT_NE(e["user"], *browser) << e.dump();
    EXPECT_EQ(e["user"], own[0]["user"]);
    EXPECT_NE(platform[e["id"].get<int64_t>()], "web");
  }
  // Usage per user: the insights users view counts the browser and the server's user, two.
  auto users = http.Get("/api/insights/users?k=1");
  ASSERT_TRUE(users);
  EXPECT_NEAR(json::parse(users->body)["summary"]["active_users"].get<double>(), 2.0, 0.01) << users->body;
}

bool same_pixels(const std::string& a, const std::string& b) {
  auto x = load_image(a), y = load_image(b);
  if (!x || !y || x->size() != y->size()) return false;
  cv::Mat diff;
  cv::absdiff(*x, *y, diff);
  return cv::countNonZero(diff.reshape(1)) == 0;
}

// The arm a CLI user ("user:<id>", FACEWEAVE_TELEMETRY_USER) has in `e` under this install's secret.
std::string arm_of(const std::string& data_dir, const Experiment& e, const std::string& user) {
  auto p = telemetry_pseudonym(data_dir, "user:" + user);
  EXPECT_TRUE(p) << p.status().to_string();
  return p ? e.arms[experiment_arm(e, *p)] : std::string();
}

TEST(ExperimentsApi, JobsSubmitAndPythonGiveTheArmsDefault) {
  TempDir data, out;
  auto c =
      run_command(binary() + " --telemetry off --data-dir " + data.path() +
                  " experiments create cm --option color_match --arms reinhard,none --metric explicit_rate "
                  "--min-users 1 2>&1");
  ASSERT_EQ(c.code, 0) << c.out;
  ServerProcess server(data.path(), {}, data.file("server.log"));  // makes the install's secret
  ASSERT_TRUE(server.started()) << server.log();
  Experiment e;
  e.name = "cm";
  e.option = "color_match";
  e.arms = {"reinhard", "none"};
  ASSERT_TRUE(validate_experiment(e).is_ok());
  std::string user_none, user_reinhard;
  for (int i = 0; i < 40 && (user_none.empty() || user_reinhard.empty()); ++i) {
    const std::string u = "u" + std::to_string(i);
    (arm_of(data.path(), e, u) == "none" ? user_none : user_reinhard) = u;
  }
  ASSERT_FALSE(user_none.empty());
  ASSERT_FALSE(user_reinhard.empty());

  // jobs submit: the arm's default, an explicit flag (at the arm's value, and at the built-in default).
  auto submit = [&](const std::string& user, const std::string& name, const std::string& flags) {
    auto r =
        run_command("FACEWEAVE_TELEMETRY_USER=" + user + " " + binary() + " --telemetry usage --data-dir " +
                    data.path() + " jobs submit -s " + image("obama.jpg") + " -t " + image("astronaut.png") +
                    " --output-dir " + out.path() + " --output-format png --no-watermark --no-provenance " +
                    flags + " --json --wait 2>>'" + out.file("stderr.txt") + "'");
    EXPECT_EQ(r.code, 0) << r.out << read_all(out.file("stderr.txt"));
    const json job = json::parse(r.out.substr(r.out.rfind("\n{") + 1), nullptr, false);
    EXPECT_TRUE(job.is_object()) << r.out;
    EXPECT_EQ(job.value("status", ""), "done") << r.out;
    const std::string path = job.is_object() ? job.value("output", "") : "";
    std::error_code ec;
    std::filesystem::rename(path, out.file(name), ec);
    EXPECT_FALSE(ec) << path;
    return job;
  };
  submit(user_none, "job-none.png", "");
  submit(user_reinhard, "job-reinhard.png", "");
  submit(user_reinhard, "job-explicit-none.png", "--color-match none");
  submit(user_none, "job-explicit-reinhard.png", "--color-match reinhard");  // the built-in default, given
  EXPECT_TRUE(same_pixels(out.file("job-none.png"), out.file("job-explicit-none.png")));
  EXPECT_FALSE(same_pixels(out.file("job-none.png"), out.file("job-reinhard.png")));
  EXPECT_TRUE(same_pixels(out.file("job-reinhard.png"), out.file("job-explicit-reinhard.png")));

  // The Python module: the same arm for the same user, and its exposure joined to its command.run.
  const std::string script = out.file("swap.py");
  write_file(script,
             "import sys, cv2, faceweave\n"
             "engine = faceweave.Engine(telemetry='usage')\n"
             "kw = {'color_match': sys.argv[2]} if len(sys.argv) > 2 else {}\n"
             "out = engine.swap([cv2.imread('" +
                 image("obama.jpg") + "')], cv2.imread('" + image("astronaut.png") +
                 "'), watermark=False, provenance=False, **kw)\n"
                 "cv2.imwrite(sys.argv[1], out)\n");
  auto python = [&](const std::string& user, const std::string& name, const std::string& value) {
    auto r = run_command("PYTHONPATH=" FACEWEAVE_PYTHON_DIR " FACEWEAVE_DATA_DIR=" + data.path() +
                         " FACEWEAVE_MODELS_DIR=" + models_dir() + " FACEWEAVE_TELEMETRY_USER=" + user +
                         " /usr/bin/python3 " + script + " " + out.file(name) + " " + value + " 2>&1");
    EXPECT_EQ(r.code, 0) << r.out;
  };
  python(user_none, "py-none.png", "");
  python(user_reinhard, "py-reinhard.png", "");
  python(user_reinhard, "py-explicit-none.png", "none");
  EXPECT_TRUE(same_pixels(out.file("py-none.png"), out.file("py-explicit-none.png")));
  EXPECT_FALSE(same_pixels(out.file("py-none.png"), out.file("py-reinhard.png")));

  // Every run recorded one exposure with its user's arm, joined by run id to its command.run: the jobs'
  // (recorded by the server that ran them) and the Python calls'.
  httplib::Client http("127.0.0.1", server.port());
  json exposures, runs;
  for (int i = 0; i < 100; ++i) {
    auto x = http.Get("/api/insights/events?event=experiment.exposure&limit=100");
    auto r = http.Get("/api/insights/events?event=command.run&limit=100");
    ASSERT_TRUE(x && r);
    exposures = json::parse(x->body)["rows"];
    runs = json::parse(r->body)["rows"];
    if (exposures.size() >= 7 && runs.size() >= 7) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_EQ(exposures.size(), 7u) << exposures.dump(2);
  std::map<std::string, json> run_by_id;
  for (const auto& r : runs) run_by_id[props_of(r).value("run", "")] = props_of(r);
  // Newest first: python explicit none (reinhard user), python reinhard, python none, then the jobs.
  const std::vector<std::tuple<std::string, std::string, bool, std::string>> expected = {
      {"reinhard", "none", true, "python"}, {"reinhard", "reinhard", false, "python"},
      {"none", "none", false, "python"},    {"none", "reinhard", true, "api"},
      {"reinhard", "none", true, "api"},    {"reinhard", "reinhard", false, "api"},
      {"none", "none", false, "api"}};
  for (size_t i = 0; i < expected.size(); ++i) {
    const json x = props_of(exposures[i]);
    const auto& [arm, value, is_explicit, surface] = expected[i];
    EXPECT_EQ(x["experiment"], "cm") << i;
    EXPECT_EQ(x["arm"], arm) << i << " " << x.dump();
    EXPECT_EQ(x["value"], value) << i << " " << x.dump();
    EXPECT_EQ(x["explicit"].get<bool>(), is_explicit) << i << " " << x.dump();
    ASSERT_TRUE(run_by_id.count(x.value("run", ""))) << x.dump() << runs.dump(2);
    EXPECT_EQ(run_by_id[x["run"]]["command"], "swap") << i;
    EXPECT_EQ(run_by_id[x["run"]]["surface"], surface) << i;
  }
}

}  // namespace
}  // namespace faceweave::testing
