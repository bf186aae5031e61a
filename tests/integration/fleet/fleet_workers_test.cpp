// A fleet of real processes on a real PostgreSQL (pg_cluster.h): an API node and `faceweave worker`s share
// the queue and a media folder. Every job runs once; a worker killed with SIGKILL mid-video loses its job to
// another worker; a cancel reaches the worker running the job; a restart of PostgreSQL loses no job; a
// wrong URL ends with the documented exit code; an API node is not ready while its database refuses it.
#include <filesystem>
#include <set>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "integration/fleet/child_process.h"
#include "integration/fleet/pg_cluster.h"

namespace faceweave::testing {
namespace {
namespace fs = std::filesystem;
using nlohmann::json;

class Fleet {
 public:
  explicit Fleet(const std::string& database) : url_(PgCluster::get().fresh_database(database)) {
    fs::create_directories(media());
  }
  const std::string& url() const { return url_; }
  std::string media() const { return dir_.file("media"); }
  std::unique_ptr<ChildProcess> worker(const std::string& name, std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"--data-dir", dir_.file(name), "worker", "--database-url",
                                     url_,         "--media-dir",   media(),  "--name",
                                     name};
    args.insert(args.end(), extra.begin(), extra.end());
    auto w = std::make_unique<ChildProcess>(args, dir_.file(name + ".log"));
    EXPECT_TRUE(w->wait_for("worker waiting for jobs")) << w->log();
    return w;
  }
  // `faceweave jobs submit` for every source x target; the job ids.
  std::vector<std::string> submit(const std::vector<std::string>& sources,
                                  const std::vector<std::string>& targets) {
    std::string cmd = "FACEWEAVE_TELEMETRY=off " + binary() + " --data-dir " + dir_.file("cli") +
                      " jobs submit --json --database-url '" + url_ + "' --media-dir " + media();
    for (const auto& s : sources) cmd += " -s " + s;
    for (const auto& t : targets) cmd += " -t " + t;
    // Warnings of the image decoders go to standard error, the JSON to standard output.
    const CommandResult r = run_command(cmd + " 2>" + dir_.file("submit.err"));
    EXPECT_EQ(r.code, 0) << r.out << read_all(dir_.file("submit.err"));
    std::vector<std::string> ids;
    const json queued = json::parse(r.out, nullptr, false);
    EXPECT_TRUE(queued.is_array()) << r.out;
    if (queued.is_array())
      for (const auto& j : queued) ids.push_back(j.at("id").get<std::string>());
    return ids;
  }
  std::string sql(const std::string& statement) const { return PgCluster::get().sql(url_, statement); }
  std::string job(const std::string& id, const std::string& columns) const {
    return sql("SELECT " + columns + " FROM faceweave_jobs WHERE id = '" + id + "'");
  }
  // Polls until `done` holds (at most `seconds`).
  template <class F>
  bool wait_until(F done, int seconds) {
    for (int i = 0; i < seconds * 10; ++i) {
      if (done()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return false;
  }
  int finished() const {
    return std::stoi("0" + sql("SELECT count(*) FROM faceweave_jobs WHERE status IN ('done', 'failed', "
                               "'cancelled')"));
  }
  // Files in the results folder: {complete outputs, temporary (.partial) files}.
  std::pair<int, int> result_files() const {
    int complete = 0, partial = 0;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(media() + "/results", ec))
      (e.path().extension() == ".partial" ? partial : complete)++;
    return {complete, partial};
  }
  const TempDir& dir() const { return dir_; }

 private:
  TempDir dir_;
  std::string url_;
};

std::vector<std::string> images(const std::vector<std::string>& names) {
  std::vector<std::string> out;
  for (const auto& n : names) out.push_back(image(n));
  return out;
}

TEST(Fleet, AnApiNodeAndThreeWorkersRunEveryJobExactlyOnce) {
  Fleet fleet("three_workers");
  ChildProcess api({"--data-dir", fleet.dir().file("api"), "serve", "--port", "0", "--database-url",
                    fleet.url(), "--media-dir", fleet.media(), "--max-concurrent-jobs", "0"},
                   fleet.dir().file("api.log"));
  ASSERT_TRUE(api.wait_for("serving on http://127\\.0\\.0\\.1:[0-9]+/")) << api.log();
  std::smatch port;
  const std::string api_log = api.log();
  ASSERT_TRUE(std::regex_search(api_log, port, std::regex("127\\.0\\.0\\.1:([0-9]+)/")));
  auto w1 = fleet.worker("w1");
  auto w2 = fleet.worker("w2");
  auto w3 = fleet.worker("w3");
  const auto ids =
      fleet.submit(images({"biden.jpg", "meds-aa-S001-01.jpg", "meds-aa-S029-01.jpg"}),
                   images({"bald_guys.jpg", "astronaut.png", "meds-af-S419-01.jpg", "2008_002470.jpg"}));
  ASSERT_EQ(ids.size(), 12u);
  ASSERT_TRUE(fleet.wait_until([&] { return fleet.finished() == 12; }, 180))
      << fleet.sql("SELECT id, status, attempts, worker FROM faceweave_jobs") << w1->log();
  EXPECT_EQ(fleet.sql("SELECT count(*) FROM faceweave_jobs WHERE status = 'done' AND attempts = 1"), "12\n")
      << fleet.sql("SELECT id, status, attempts, worker, error_message FROM faceweave_jobs");
  // The work was shared (NOTIFY wakes every idle worker), and each output was written once, whole.
  const int workers =
      std::stoi(fleet.sql("SELECT count(DISTINCT split_part(worker, '#', 1)) FROM faceweave_jobs"));
  EXPECT_GE(workers, 2);
  EXPECT_EQ(fleet.result_files(), std::make_pair(12, 0));
  // The API node shows the fleet's queue and serves a result a worker wrote.
  const std::string base = "http://127.0.0.1:" + std::string(port[1]);
  const CommandResult listed = run_command(
      "python3 -c \"import urllib.request, sys; sys.stdout.write(urllib.request."
      "urlopen(sys.argv[1]).read().decode())\" '" +
      base + "/api/jobs?status=done&limit=100' 2>&1");
  ASSERT_EQ(listed.code, 0) << listed.out;
  EXPECT_EQ(json::parse(listed.out, nullptr, false)["jobs"].size(), 12u) << listed.out;
  const CommandResult result = run_command(
      "python3 -c \"import urllib.request, sys; print(len(urllib.request."
      "urlopen(sys.argv[1]).read()))\" '" +
      base + "/api/jobs/" + ids[0] + "/result' 2>&1");
  ASSERT_EQ(result.code, 0) << result.out;
  EXPECT_GT(std::stol(result.out), 1000) << result.out;
}

TEST(Fleet, AKilledWorkersVideoJobFinishesOnAnotherWorkerWithoutItsPartialOutput) {
  Fleet fleet("killed_worker");
  auto w1 = fleet.worker("w1", {"--lease-seconds", "3"});
  const auto ids = fleet.submit(images({"biden.jpg"}), {testdata("video/video_01.mp4")});
  ASSERT_EQ(ids.size(), 1u);
  ASSERT_TRUE(fleet.wait_until([&] { return fleet.job(ids[0], "frames_done > 10") == "t\n"; }, 60))
      << w1->log();
  w1->kill9();
  EXPECT_EQ(fleet.result_files(), std::make_pair(0, 1)) << "the killed worker left its temporary output";
  auto w2 = fleet.worker("w2", {"--lease-seconds", "3"});
  ASSERT_TRUE(fleet.wait_until([&] { return fleet.finished() == 1; }, 120)) << w2->log();
  EXPECT_EQ(fleet.job(ids[0], "status, attempts, worker"), "done|2|w2#2\n");
  EXPECT_EQ(fleet.result_files(), std::make_pair(1, 0));
}

TEST(Fleet, CancelReachesTheWorkerRunningTheJob) {
  Fleet fleet("cancel");
  auto w1 = fleet.worker("w1");
  const auto ids = fleet.submit(images({"biden.jpg"}), {testdata("video/video_01.mp4")});
  ASSERT_EQ(ids.size(), 1u);
  ASSERT_TRUE(fleet.wait_until([&] { return fleet.job(ids[0], "frames_done > 5") == "t\n"; }, 60))
      << w1->log();
  const CommandResult r =
      run_command("FACEWEAVE_TELEMETRY=off " + binary() + " --data-dir " + fleet.dir().file("cli") +
                  " jobs cancel --database-url '" + fleet.url() + "' " + ids[0] + " 2>&1");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("cancel requested"), std::string::npos) << r.out;
  ASSERT_TRUE(fleet.wait_until([&] { return fleet.job(ids[0], "status") == "cancelled\n"; }, 10))
      << w1->log();
  EXPECT_EQ(fleet.job(ids[0], "frames_done < frames_total"), "t\n") << "it stopped before the end";
  EXPECT_EQ(fleet.result_files(), std::make_pair(0, 0));
}

TEST(Fleet, ARestartOfPostgresLosesNoJob) {
  Fleet fleet("restart");
  auto w1 = fleet.worker("w1", {"--lease-seconds", "5"});
  auto w2 = fleet.worker("w2", {"--lease-seconds", "5"});
  const auto ids =
      fleet.submit(images({"biden.jpg", "meds-aa-S001-01.jpg"}),
                   images({"bald_guys.jpg", "astronaut.png", "meds-af-S419-01.jpg", "2008_002470.jpg"}));
  ASSERT_EQ(ids.size(), 8u);
  ASSERT_TRUE(fleet.wait_until([&] { return fleet.finished() >= 2; }, 120)) << w1->log();
  PgCluster::get().restart();
  ASSERT_TRUE(fleet.wait_until([&] { return fleet.finished() == 8; }, 180))
      << fleet.sql("SELECT id, status, attempts, worker FROM faceweave_jobs") << w1->log() << w2->log();
  EXPECT_EQ(fleet.sql("SELECT count(*) FROM faceweave_jobs WHERE status = 'done'"), "8\n")
      << fleet.sql("SELECT id, status, attempts, error_message FROM faceweave_jobs");
  EXPECT_EQ(fleet.result_files(), std::make_pair(8, 0));
  // Both workers still take jobs after the restart.
  const auto more = fleet.submit(images({"biden.jpg"}), images({"meds-aa-S001-02.jpg"}));
  ASSERT_TRUE(fleet.wait_until([&] { return fleet.finished() == 9; }, 60)) << w1->log() << w2->log();
}

TEST(Fleet, AnApiNodeIsNotReadyWhileItsDatabaseCannotBeReached) {
  Fleet fleet("readiness");
  ChildProcess api({"--data-dir", fleet.dir().file("api"), "serve", "--port", "0", "--database-url",
                    fleet.url(), "--media-dir", fleet.media(), "--max-concurrent-jobs", "0"},
                   fleet.dir().file("api.log"));
  ASSERT_TRUE(api.wait_for("serving on http://127\\.0\\.0\\.1:[0-9]+/")) << api.log();
  std::smatch port;
  const std::string api_log = api.log();
  ASSERT_TRUE(std::regex_search(api_log, port, std::regex("127\\.0\\.0\\.1:([0-9]+)/")));
  // The status code on the last line, the body before it.
  auto readyz = [&] {
    return run_command("curl -s -w '\\n%{http_code}' http://127.0.0.1:" + std::string(port[1]) + "/readyz")
        .out;
  };
  EXPECT_EQ(readyz().substr(readyz().rfind('\n') + 1), "200") << readyz();
  // The database takes no connections and drops the node's: it is alive (/healthz) but not ready.
  const std::string db = fleet.url().substr(fleet.url().rfind('/') + 1);
  const std::string admin = PgCluster::get().url();
  PgCluster::get().sql(admin, "ALTER DATABASE " + db + " ALLOW_CONNECTIONS false");
  PgCluster::get().sql(admin,
                       "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '" + db + "'");
  std::string answer;
  EXPECT_TRUE(fleet.wait_until(
      [&] {
        answer = readyz();
        return answer.substr(answer.rfind('\n') + 1) == "503";
      },
      20))
      << answer;
  const json body = json::parse(answer.substr(0, answer.rfind('\n')), nullptr, false);
  EXPECT_EQ(body.value("status", ""), "not_ready") << answer;
  EXPECT_EQ(body["checks"]["database"].value("status", ""), "error") << answer;
  EXPECT_NE(body["checks"]["database"].value("message", "").find("--database-url"), std::string::npos)
      << answer;
  EXPECT_EQ(run_command("curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:" + std::string(port[1]) +
                        "/healthz")
                .out,
            "200");
  // Back: ready again, without a restart.
  PgCluster::get().sql(admin, "ALTER DATABASE " + db + " ALLOW_CONNECTIONS true");
  EXPECT_TRUE(fleet.wait_until(
      [&] {
        answer = readyz();
        return answer.substr(answer.rfind('\n') + 1) == "200";
      },
      20))
      << answer;
}

TEST(Fleet, AWrongDatabaseUrlEndsWithTheDocumentedExitCode) {
  const std::string url = PgCluster::get().url();
  const std::string port = url.substr(url.rfind(':') + 1, url.rfind('/') - url.rfind(':') - 1);
  TempDir dir;
  auto jobs_list = [&](const std::string& database_url) {
    return run_command("FACEWEAVE_TELEMETRY=off " + binary() + " --data-dir " + dir.path() +
                       " jobs list --database-url '" + database_url + "' 2>&1");
  };
  CommandResult r = jobs_list("mysql://localhost/x");
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find("postgres://user:password@host:5432/dbname"), std::string::npos) << r.out;
  r = jobs_list("postgres://password_check:wrong@127.0.0.1:" + port + "/postgres");
  EXPECT_EQ(r.code, 7) << r.out;
  EXPECT_NE(r.out.find("check the user and password"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find(":wrong@"), std::string::npos) << "the password is never printed: " << r.out;
  r = jobs_list("postgres://postgres@127.0.0.1:" + port + "/no_such_db");
  EXPECT_EQ(r.code, 3) << r.out;
  r = jobs_list("postgres://postgres@127.0.0.1:1/postgres");
  EXPECT_EQ(r.code, 8) << r.out;
  EXPECT_NE(r.out.find("check the server is running"), std::string::npos) << r.out;
  // A worker needs a queue to work on.
  r = run_command("FACEWEAVE_TELEMETRY=off FACEWEAVE_DATABASE_URL= " + binary() + " --data-dir " +
                  dir.path() + " worker 2>&1");
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find("--database-url"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace faceweave::testing

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  ::testing::AddGlobalTestEnvironment(&faceweave::testing::PgCluster::get());
  return RUN_ALL_TESTS();
}
