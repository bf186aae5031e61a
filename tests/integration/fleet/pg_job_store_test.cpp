// The job queue on a real PostgreSQL (pg_cluster.h): claims by competing connections, leases that run out,
// the attempt limit, cancel through the heartbeat, NOTIFY, and the errors a wrong URL gets.
#include "server/pg_job_store.h"

#include <condition_variable>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include <gtest/gtest.h>

#include "integration/fleet/pg_cluster.h"

namespace faceweave::server {
namespace {
using faceweave::testing::PgCluster;
using nlohmann::json;

std::unique_ptr<PgJobStore> open_store(const std::string& url, const std::string& name,
                                       int lease_seconds = 30, int max_attempts = 3) {
  auto store = PgJobStore::open({url, name, lease_seconds, max_attempts});
  EXPECT_TRUE(store) << store.status().message();
  return store ? std::move(store).value() : nullptr;
}

TEST(PgJobStore, CompetingWorkersNeverClaimTheSameJob) {
  const std::string url = PgCluster::get().fresh_database("claims");
  auto submitter = open_store(url, "api");
  ASSERT_TRUE(submitter);
  constexpr int kJobs = 200;
  for (int i = 0; i < kJobs; ++i) ASSERT_TRUE(submitter->submit({{"n", i}}, "image"));
  std::mutex mutex;
  std::map<std::string, int> claimed;  // job id -> times claimed
  std::vector<std::thread> workers;
  for (int w = 0; w < 4; ++w)
    workers.emplace_back([&, w] {
      auto store = open_store(url, "w" + std::to_string(w));
      if (!store) return;
      while (true) {
        auto job = store->claim();
        ASSERT_TRUE(job) << job.status().message();
        if (!job->has_value()) return;
        {
          std::lock_guard lock(mutex);
          ++claimed[(*job)->id];
        }
        ASSERT_TRUE(store->finish(**job, "done", "", "", json::object(), json::object()).is_ok());
      }
    });
  for (auto& t : workers) t.join();
  EXPECT_EQ(claimed.size(), size_t(kJobs));
  for (const auto& [id, times] : claimed) EXPECT_EQ(times, 1) << id;
  EXPECT_EQ(PgCluster::get().sql(url,
                                 "SELECT count(*) FROM faceweave_jobs WHERE status = 'done' AND "
                                 "attempts = 1"),
            std::to_string(kJobs) + "\n");
}

TEST(PgJobStore, AnExpiredLeaseGoesToAnotherWorkerAndFencesTheFirstOut) {
  const std::string url = PgCluster::get().fresh_database("leases");
  auto a = open_store(url, "a", 3, 2);
  auto b = open_store(url, "b", 3, 2);
  ASSERT_TRUE(a && b);
  auto queued = a->submit({{"target", "t.mp4"}}, "video");
  ASSERT_TRUE(queued);
  auto first = a->claim();
  ASSERT_TRUE(first && first->has_value());
  EXPECT_EQ((*first)->worker, "a#1");
  auto beat = a->heartbeat(**first);
  ASSERT_TRUE(beat);
  EXPECT_TRUE(beat->owned);
  // While the lease holds, nobody else gets the job.
  auto nothing = b->claim();
  ASSERT_TRUE(nothing);
  EXPECT_FALSE(nothing->has_value());
  // Worker a stops renewing (killed, or cut off): after the lease, b takes the job as attempt 2.
  std::this_thread::sleep_for(std::chrono::milliseconds(3500));
  auto second = b->claim();
  ASSERT_TRUE(second && second->has_value());
  EXPECT_EQ((*second)->id, queued->id);
  EXPECT_EQ((*second)->attempts, 2);
  EXPECT_EQ((*second)->worker, "b#2");
  // a learns it lost the job, and can no longer write its outcome or progress over b's.
  beat = a->heartbeat(**first);
  ASSERT_TRUE(beat);
  EXPECT_FALSE(beat->owned);
  EXPECT_EQ(a->finish(**first, "done", "", "", json::object(), json::object()).code(), StatusCode::kNotFound);
  ASSERT_TRUE(a->update_progress(**first, {0.9, 9, 10, 1, 1}).is_ok());
  EXPECT_DOUBLE_EQ(b->get(queued->id)->progress, 0);
  // b dies too: that was the last of the 2 attempts, so the job fails with a message saying why.
  std::this_thread::sleep_for(std::chrono::milliseconds(3500));
  auto none = a->claim();
  ASSERT_TRUE(none);
  EXPECT_FALSE(none->has_value());
  auto failed = a->get(queued->id);
  EXPECT_EQ(failed->status, "failed");
  EXPECT_EQ(failed->error_code, "io_error");
  EXPECT_NE(failed->error_message.find("stopped answering in each of 2 attempts"), std::string::npos)
      << failed->error_message;
}

TEST(PgJobStore, CancelReachesTheRunningWorkerAndReleaseKeepsTheAttempt) {
  const std::string url = PgCluster::get().fresh_database("cancels");
  auto api = open_store(url, "api");
  auto worker = open_store(url, "w");
  ASSERT_TRUE(api && worker);
  auto one = api->submit({}, "video");
  auto two = api->submit({}, "video");
  auto queued = api->submit({}, "image");
  auto running = worker->claim();
  ASSERT_TRUE(running && running->has_value());
  EXPECT_EQ((*running)->id, one->id);
  // A running job is asked to stop; its worker hears it at the next heartbeat.
  auto asked = api->cancel(one->id);
  ASSERT_TRUE(asked);
  EXPECT_EQ(asked->status, "running");
  auto beat = worker->heartbeat(**running);
  ASSERT_TRUE(beat);
  EXPECT_TRUE(beat->owned);
  EXPECT_TRUE(beat->cancel_requested);
  ASSERT_TRUE(worker->finish(**running, "cancelled", "", "", json::object(), nullptr).is_ok());
  EXPECT_EQ(api->get(one->id)->status, "cancelled");
  EXPECT_NE(api->cancel(one->id).status().message().find("already cancelled"), std::string::npos);
  // A queued job is cancelled at once.
  EXPECT_EQ(api->cancel(queued->id)->status, "cancelled");
  // A worker that stops hands its job back without using up an attempt.
  auto handed = worker->claim();
  ASSERT_TRUE(handed && handed->has_value());
  EXPECT_EQ((*handed)->id, two->id);
  ASSERT_TRUE(worker->release(**handed).is_ok());
  auto again = api->claim();
  ASSERT_TRUE(again && again->has_value());
  EXPECT_EQ((*again)->id, two->id);
  EXPECT_EQ((*again)->attempts, 1);
  auto counts = api->counts();
  ASSERT_TRUE(counts);
  EXPECT_EQ(counts->first, 0);
  EXPECT_EQ(counts->second, 1);
  EXPECT_EQ(api->list("cancelled", 10)->size(), 2u);
}

TEST(PgJobStore, NotifyWakesAnIdleWorker) {
  const std::string url = PgCluster::get().fresh_database("wakes");
  auto api = open_store(url, "api");
  auto worker = open_store(url, "w");
  ASSERT_TRUE(api && worker);
  std::mutex mutex;
  std::condition_variable cv;
  int wakes = 0;
  ASSERT_TRUE(worker->watch([&] {
    std::lock_guard lock(mutex);
    ++wakes;
    cv.notify_all();
  }));
  std::unique_lock lock(mutex);
  // The listener looks once when it connects (notifications sent before are not replayed).
  ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(10), [&] { return wakes >= 1; }));
  const int before = wakes;
  lock.unlock();
  ASSERT_TRUE(api->submit({}, "image"));
  lock.lock();
  EXPECT_TRUE(cv.wait_for(lock, std::chrono::seconds(3), [&] { return wakes > before; }))
      << "no NOTIFY reached the watching store";
}

TEST(PgJobStore, AWrongUrlSaysWhatToFix) {
  const std::string url = PgCluster::get().url();
  const std::string port = url.substr(url.rfind(':') + 1, url.rfind('/') - url.rfind(':') - 1);
  auto bad = PgJobStore::open({"mysql://localhost/db", "w", 30, 3});
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("postgres://"), std::string::npos);
  auto refused =
      PgJobStore::open({"postgres://password_check:wrong@127.0.0.1:" + port + "/postgres", "w", 30, 3});
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.status().code(), StatusCode::kPermissionDenied);
  EXPECT_NE(refused.status().message().find("password"), std::string::npos);
  EXPECT_EQ(refused.status().message().find("wrong"), std::string::npos) << "the password is never shown";
  auto missing = PgJobStore::open({"postgres://postgres@127.0.0.1:" + port + "/no_such_db", "w", 30, 3});
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  // Nothing listens on port 1.
  auto down = PgJobStore::open({"postgres://postgres@127.0.0.1:1/postgres", "w", 30, 3});
  ASSERT_FALSE(down);
  EXPECT_EQ(down.status().code(), StatusCode::kIoError);
  EXPECT_NE(down.status().message().find("cannot reach PostgreSQL"), std::string::npos);
}

}  // namespace
}  // namespace faceweave::server

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  ::testing::AddGlobalTestEnvironment(&faceweave::testing::PgCluster::get());
  return RUN_ALL_TESTS();
}
