#include "server/job_store.h"

#include <filesystem>

#include <gtest/gtest.h>

#include "server/ids.h"
#include "test_support.h"

namespace faceweave::server {
namespace {
using nlohmann::json;

TEST(Ids, AreWellFormedAndCheckedStrictly) {
  const std::string id = new_id('j');
  EXPECT_TRUE(is_id(id, 'j'));
  EXPECT_FALSE(is_id(id, 'u'));
  EXPECT_NE(new_id('j'), id);
  EXPECT_FALSE(is_id("j_../../../etc/passwd000000", 'j'));
  EXPECT_FALSE(is_id("j_ABCDEF000000000000000000", 'j'));
  EXPECT_FALSE(is_id("", 'j'));
}

TEST(JobStore, QueueRunsOldestFirstAndRecordsOutcomes) {
  faceweave::testing::TempDir dir;
  auto store = JobStore::open(dir.file("jobs.db"));
  ASSERT_TRUE(store) << store.status().message();
  auto a = (*store)->submit({{"target", "a.jpg"}}, "image");
  auto b = (*store)->submit({{"target", "b.mp4"}}, "video");
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->status, "queued");
  auto first = (*store)->claim();
  ASSERT_TRUE(first && first->has_value());
  EXPECT_EQ((*first)->id, a->id);
  EXPECT_EQ((*first)->status, "running");
  EXPECT_EQ((*first)->attempts, 1);
  EXPECT_EQ((*first)->request["target"], "a.jpg");
  ASSERT_TRUE((*store)->update_progress(**first, {0.5, 5, 10, 20.0, 0.25}).is_ok());
  EXPECT_DOUBLE_EQ((*store)->get(a->id)->progress, 0.5);
  ASSERT_TRUE((*store)->finish(**first, "done", "", "", {{"detect", 7.5}}, {{"bytes", 10}}).is_ok());
  auto done = (*store)->get(a->id);
  EXPECT_EQ(done->status, "done");
  EXPECT_DOUBLE_EQ(done->progress, 1.0);
  EXPECT_DOUBLE_EQ(done->timings["detect"].get<double>(), 7.5);
  EXPECT_GT(done->finished_ms, 0);
  const json shown = job_json(*done);
  EXPECT_EQ(shown["result"]["url"], "/api/jobs/" + a->id + "/result");
  auto second = (*store)->claim();
  ASSERT_TRUE(second && second->has_value());
  EXPECT_EQ((*second)->id, b->id);
  auto none = (*store)->claim();
  ASSERT_TRUE(none);
  EXPECT_FALSE(none->has_value());
  auto list = (*store)->list("", 10);
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].id, b->id);  // newest first
  EXPECT_EQ((*store)->list("done", 10)->size(), 1u);
}

// SQLite opens an empty file as a new database: a jobs.db truncated to 0 bytes silently started with no jobs.
TEST(JobStore, AnEmptyDatabaseFileIsRefused) {
  faceweave::testing::TempDir dir;
  const std::string path = dir.file("jobs.db");
  faceweave::testing::write_file(path, "");
  auto store = JobStore::open(path);
  ASSERT_FALSE(store);
  EXPECT_EQ(store.status().code(), StatusCode::kIoError);
  EXPECT_NE(store.status().message().find("empty (0 bytes)"), std::string::npos) << store.status().message();
  EXPECT_EQ(std::filesystem::file_size(path), 0u) << "the damaged file is left for the user to look at";
  // A missing file is a fresh start, and is made owner-only.
  auto fresh = JobStore::open(dir.file("new.db"));
  ASSERT_TRUE(fresh) << fresh.status().message();
  EXPECT_EQ(std::filesystem::status(dir.file("new.db")).permissions(),
            std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
}

TEST(JobStore, CancelAndRestart) {
  faceweave::testing::TempDir dir;
  const std::string path = dir.file("jobs.db");
  std::string queued_id, running_id, cancel_running_id;
  {
    auto store = JobStore::open(path);
    ASSERT_TRUE(store);
    running_id = (*store)->submit({}, "video")->id;
    cancel_running_id = (*store)->submit({}, "video")->id;
    queued_id = (*store)->submit({}, "image")->id;
    ASSERT_TRUE((*store)->claim());
    auto second = (*store)->claim();
    ASSERT_TRUE(second && second->has_value());
    // A running job is only asked to stop; its runner ends it.
    auto asked = (*store)->cancel(cancel_running_id);
    ASSERT_TRUE(asked);
    EXPECT_EQ(asked->status, "running");
    auto beat = (*store)->heartbeat(**second);
    ASSERT_TRUE(beat);
    EXPECT_TRUE(beat->owned);
    EXPECT_TRUE(beat->cancel_requested);
  }
  // The process died with two jobs running: one runs again, the one asked to stop is cancelled.
  auto store = JobStore::open(path);
  ASSERT_TRUE(store);
  EXPECT_EQ(*(*store)->requeue_interrupted(), 2);
  EXPECT_EQ((*store)->get(running_id)->status, "queued");
  EXPECT_EQ((*store)->get(cancel_running_id)->status, "cancelled");
  auto counts = (*store)->counts();
  EXPECT_EQ(counts->first, 2);
  EXPECT_EQ(counts->second, 0);
  auto cancelled = (*store)->cancel(queued_id);
  ASSERT_TRUE(cancelled);
  EXPECT_EQ(cancelled->status, "cancelled");
  auto again = (*store)->cancel(queued_id);
  ASSERT_FALSE(again);
  EXPECT_NE(again.status().message().find("already"), std::string::npos);
  EXPECT_EQ((*store)->get("j_000000000000000000000000").status().code(), StatusCode::kNotFound);
  EXPECT_EQ((*store)->get("../etc").status().code(), StatusCode::kNotFound);
  auto next = (*store)->claim();
  ASSERT_TRUE(next && next->has_value());
  EXPECT_EQ((*next)->id, running_id);
  EXPECT_EQ((*next)->attempts, 2);
}

}  // namespace
}  // namespace faceweave::server
