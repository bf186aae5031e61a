// Experiments on defaults and the defaults profile through a real `faceweave serve` (docs/experiments.md):
// GET /api/config gives a browser its arm and the profile's defaults, a preview and a job of that browser
// record their exposures (the job's under the run id its later events carry), their command.run records
// the profile, the experiments routes answer what `faceweave experiments show` prints, and bad parameters
// are 4xx naming them.
#include <cstdlib>
#include <thread>

#include <gtest/gtest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include "faceweave/experiments.h"
#include "faceweave/telemetry.h"
#include "server_process.h"

namespace faceweave::testing {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

const char* kClient = "c_0123456789abcdef01234567";

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

  auto upload = [&](const std::string& path) {
    httplib::MultipartFormDataItems items = {
        {"file", read_all(path), fs::path(path).filename().string(), "application/octet-stream"}};
    auto r = http.Post("/api/uploads", items);
    EXPECT_TRUE(r && r->status == 201);
    return r ? json::parse(r->body)["id"].get<std::string>() : std::string();
  };
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

}  // namespace
}  // namespace faceweave::testing
