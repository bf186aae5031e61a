// A name service that does not answer (docs/fleet.md "Connections that hang"): the database's host name is
// looked up through tests/integration/fleet/hanging_getaddrinfo.cpp, preloaded into the faceweave process,
// which makes getaddrinfo() hang for one chosen name and resolves it as 127.0.0.1 (the test cluster) when
// told to answer. A connection attempt must give up within the URL's connect_timeout, and a worker stuck in
// such a lookup must stop on SIGTERM within seconds, not after the lookup or the connect timeout.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "integration/fleet/child_process.h"
#include "integration/fleet/pg_cluster.h"
#include "test_support.h"

namespace faceweave::testing {
namespace {

constexpr char kHangingHost[] = "hanging-db.faceweave.test";

std::string cluster_port() {
  const std::string url = PgCluster::get().url();
  return url.substr(url.rfind(':') + 1, url.rfind('/') - url.rfind(':') - 1);
}

// The test cluster's database `db`, reached through the hanging host name.
std::string url_by_name(const std::string& db, int connect_timeout_s) {
  return std::string("postgres://postgres@") + kHangingHost + ":" + cluster_port() + "/" + db +
         "?connect_timeout=" + std::to_string(connect_timeout_s);
}

// The environment that preloads the hanging name service; `gate`: the name hangs only while this file
// exists ("": always).
std::vector<std::pair<std::string, std::string>> hanging_env(const std::string& gate,
                                                             const std::string& log) {
  std::vector<std::pair<std::string, std::string>> env = {{"LD_PRELOAD", FACEWEAVE_HANG_LIB},
                                                          {"FACEWEAVE_TEST_HANG_HOST", kHangingHost},
                                                          {"FACEWEAVE_TEST_HANG_LOG", log}};
  if (!gate.empty()) env.emplace_back("FACEWEAVE_TEST_HANG_WHILE", gate);
  return env;
}

std::string shell_env(const std::vector<std::pair<std::string, std::string>>& env) {
  std::string out;
  for (const auto& [name, value] : env) out += name + "='" + value + "' ";
  return out;
}

struct Timed {
  CommandResult result;
  double seconds = 0;
};

Timed timed_command(const std::string& command) {
  const auto start = std::chrono::steady_clock::now();
  Timed t{run_command(command), 0};
  t.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return t;
}

TEST(FleetNameLookup, AConnectionWhoseHostLookupHangsFailsWithinTheConnectTimeout) {
  TempDir dir;
  const std::string db = "lookup_timeout";
  PgCluster::get().fresh_database(db);
  const std::string gate = dir.file("lookups-hang");
  const std::string jobs_list =
      "FACEWEAVE_TELEMETRY=off " + shell_env(hanging_env(gate, dir.file("hang.log"))) + binary() +
      " --data-dir " + dir.file("cli") + " jobs list --database-url '" + url_by_name(db, 2) + "' 2>&1";
  // The name answers (no gate file): the preloaded lookup leads to the live cluster, so a failure below is
  // the hanging lookup's doing and nothing else.
  const Timed answered = timed_command(jobs_list);
  ASSERT_EQ(answered.result.code, 0) << answered.result.out;

  write_file(gate, "");
  const Timed hung = timed_command(jobs_list);
  EXPECT_EQ(hung.result.code, 8) << hung.result.out;  // I/O error (README, exit codes)
  EXPECT_NE(hung.result.out.find(std::string("resolving the host ") + kHangingHost + " took too long"),
            std::string::npos)
      << hung.result.out;
  EXPECT_NE(hung.result.out.find("check the host in --database-url"), std::string::npos) << hung.result.out;
  EXPECT_NE(read_all(dir.file("hang.log")).find(std::string("hang ") + kHangingHost), std::string::npos)
      << "the lookup did not hang: the preloaded library was not used";
  // connect_timeout=2: it waited for the lookup (not an instant failure), and gave up about then. The upper
  // bound leaves room for a loaded 2-core machine; without the bound the process would wait forever.
  std::printf("connect_timeout=2 with a hanging lookup: gave up after %.2f s\n", hung.seconds);
  EXPECT_GE(hung.seconds, 1.8) << hung.result.out;
  EXPECT_LT(hung.seconds, 10.0) << hung.result.out;
}

TEST(FleetNameLookup, AWorkerWhoseHostLookupHangsAtStartStopsOnSigterm) {
  TempDir dir;
  const std::string db = "lookup_start";
  PgCluster::get().fresh_database(db);
  // No gate: every lookup of the name hangs. connect_timeout=120: only SIGTERM can end the attempt early.
  ChildProcess worker({"--data-dir", dir.file("w"), "worker", "--database-url", url_by_name(db, 120),
                       "--media-dir", dir.path()},
                      dir.file("worker.log"), hanging_env("", dir.file("hang.log")));
  for (int i = 0; i < 300 && read_all(dir.file("hang.log")).empty(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  ASSERT_NE(read_all(dir.file("hang.log")).find(kHangingHost), std::string::npos)
      << "the worker never looked the host up: " << worker.log();
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  ASSERT_TRUE(worker.running()) << worker.log();
  const auto stopped = worker.stop_within(std::chrono::seconds(30));
  ASSERT_TRUE(stopped.in_time) << "still running 30 s after SIGTERM: " << worker.log();
  std::printf("stopped %.2f s after SIGTERM\n", stopped.seconds);
  // About a second after the signal; 5 s leaves room for a loaded machine.
  EXPECT_LT(stopped.seconds, 5.0) << worker.log();
  EXPECT_EQ(stopped.exit_code, 130) << worker.log();  // cancelled (README, exit codes)
  EXPECT_NE(worker.log().find("stopped while resolving the host"), std::string::npos) << worker.log();
}

// The case seen in compose: a running worker loses its database (PostgreSQL restarts), and while it is
// gone the name service stops answering for its name. The worker's threads (the LISTEN connection, the job
// claims, the telemetry shipper) all reconnect into the hanging lookup; SIGTERM must still stop it within
// seconds, as a normal stop (exit 0).
TEST(FleetNameLookup, ARunningWorkerStuckInAHangingLookupStopsOnSigterm) {
  TempDir dir;
  const std::string db = "lookup_running";
  PgCluster::get().fresh_database(db);
  const std::string gate = dir.file("lookups-hang");
  // Telemetry on: the worker's shipper connects every 5 s too, and once more on the way out.
  auto env = hanging_env(gate, dir.file("hang.log"));
  env.emplace_back("FACEWEAVE_TELEMETRY", "usage");
  ChildProcess worker({"--data-dir", dir.file("w"), "worker", "--database-url", url_by_name(db, 60),
                       "--media-dir", dir.path()},
                      dir.file("worker.log"), env);
  ASSERT_TRUE(worker.wait_for("waiting for jobs")) << worker.log();
  EXPECT_EQ(read_all(dir.file("hang.log")), "") << "a lookup hung before the gate was set";
  write_file(gate, "");
  PgCluster::get().restart();
  for (int i = 0; i < 400 && read_all(dir.file("hang.log")).empty(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  ASSERT_NE(read_all(dir.file("hang.log")).find(kHangingHost), std::string::npos)
      << "the worker did not reconnect after the restart: " << worker.log();
  // Let the other threads run into the lookup too (claims poll every 5 s, the shipper ships every 5 s).
  std::this_thread::sleep_for(std::chrono::seconds(6));
  ASSERT_TRUE(worker.running()) << worker.log();
  const auto stopped = worker.stop_within(std::chrono::seconds(90));
  ASSERT_TRUE(stopped.in_time) << "still running 90 s after SIGTERM: " << worker.log();
  const std::string hangs = read_all(dir.file("hang.log"));
  const int hung_lookups = int(std::count(hangs.begin(), hangs.end(), '\n'));
  std::printf("stopped %.2f s after SIGTERM (%d lookups hung)\n", stopped.seconds, hung_lookups);
  EXPECT_LT(stopped.seconds, 5.0) << hangs << worker.log();
  EXPECT_EQ(stopped.exit_code, 0) << worker.log();
  // Every thread's retries (LISTEN, claims, shipping) waited for the one lookup in flight: a name service
  // that never answers holds one thread of the worker, not one per attempt.
  EXPECT_EQ(hung_lookups, 1) << hangs;
  std::filesystem::remove(gate);
}

// When the name service answers again, the lookup all attempts waited for delivers its address and the
// worker is back on its database without a restart (its LISTEN connection shows up again).
TEST(FleetNameLookup, AWorkerReconnectsOnceTheHangingLookupAnswers) {
  TempDir dir;
  const std::string db = "lookup_recover";
  PgCluster::get().fresh_database(db);
  const std::string gate = dir.file("lookups-hang");
  ChildProcess worker({"--data-dir", dir.file("w"), "worker", "--database-url", url_by_name(db, 60),
                       "--media-dir", dir.path()},
                      dir.file("worker.log"), hanging_env(gate, dir.file("hang.log")));
  ASSERT_TRUE(worker.wait_for("waiting for jobs")) << worker.log();
  const std::string admin = PgCluster::get().url();
  const std::string listening = "SELECT count(*) FROM pg_stat_activity WHERE datname = '" + db +
                                "' AND application_name LIKE 'faceweave listen%'";
  auto listeners = [&] { return PgCluster::get().sql(admin, listening); };
  for (int i = 0; i < 100 && listeners() != "1\n"; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  ASSERT_EQ(listeners(), "1\n");
  write_file(gate, "");
  PgCluster::get().restart();
  for (int i = 0; i < 400 && read_all(dir.file("hang.log")).empty(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  ASSERT_NE(read_all(dir.file("hang.log")).find(kHangingHost), std::string::npos) << worker.log();
  std::this_thread::sleep_for(std::chrono::seconds(2));
  EXPECT_EQ(listeners(), "0\n") << "connected although its lookup hangs";
  std::filesystem::remove(gate);  // the name service answers again
  // The LISTEN connection retries with a backoff of up to 10 s.
  for (int i = 0; i < 300 && listeners() != "1\n"; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(listeners(), "1\n") << worker.log();
  const auto stopped = worker.stop_within(std::chrono::seconds(30));
  EXPECT_TRUE(stopped.in_time) << worker.log();
  EXPECT_EQ(stopped.exit_code, 0) << worker.log();
}

}  // namespace
}  // namespace faceweave::testing
