// The recorder: everything recorded is committed once, in order per thread; a full queue drops and counts
// (and says so once); a failing sink disables recording without disturbing the host; --telemetry-debug
// lines are exactly the stored rows.
#include <filesystem>
#include <future>
#include <set>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>

#include "telemetry/recorder.h"
#include "telemetry_test_support.h"

namespace faceweave::testing {
namespace {

using telemetry::Event;
using telemetry::EventBuilder;
using telemetry::EventKind;
using telemetry::Identity;
using telemetry::IdRange;
using telemetry::Recorder;
using telemetry::RecorderOptions;

Event frame_event(int64_t frame) {
  EventBuilder b(EventKind::kFrameTiming);
  b.set_text("stage", "swap").set_int("frame", frame).duration(1.0);
  return b.event();
}

// Keeps what it is given; can be held closed (to fill the queue) or made to fail.
class MemorySink : public telemetry::EventSink {
 public:
  Result<IdRange> write(std::span<const Event> events, std::span<const Identity>,
                        std::vector<TelemetryEventRow>*) override {
    gate_.wait();
    std::lock_guard lock(mutex_);
    if (fail_) return io_error("the disk went away");
    IdRange ids{next_, next_ + int64_t(events.size()) - 1};
    next_ += int64_t(events.size());
    stored_.insert(stored_.end(), events.begin(), events.end());
    ++batches_;
    return ids;
  }
  std::vector<Event> stored() {
    std::lock_guard lock(mutex_);
    return stored_;
  }
  size_t batches() {
    std::lock_guard lock(mutex_);
    return batches_;
  }
  void fail() {
    std::lock_guard lock(mutex_);
    fail_ = true;
  }
  std::promise<void> open;
  std::shared_future<void> gate_ = open.get_future().share();

 private:
  std::mutex mutex_;
  std::vector<Event> stored_;
  int64_t next_ = 1;
  size_t batches_ = 0;
  bool fail_ = false;
};

int64_t frame_of(const Event& e) {
  for (size_t i = 0; i < e.prop_count; ++i)
    if (e.props[i].type == telemetry::PropType::kInt) return e.props[i].i;
  return -1;
}

TEST(TelemetryRecorder, CommitsEverythingOnceAndInOrderPerThread) {
  auto sink = std::make_unique<MemorySink>();
  MemorySink* mem = sink.get();
  mem->open.set_value();
  RecorderOptions o;
  o.batch_size = 1000;
  o.flush_interval_ms = 2;
  auto r = Recorder::create(o, std::move(sink), {"u", "s", "v"});
  ASSERT_TRUE(r.is_ok());
  const int threads = 4, per_thread = 20000;
  std::vector<std::thread> producers;
  std::atomic<int> queued{0};
  for (int t = 0; t < threads; ++t)
    producers.emplace_back([&, t] {
      for (int i = 0; i < per_thread; ++i) queued += (*r)->record(frame_event(int64_t(t) * 1'000'000 + i));
    });
  for (auto& p : producers) p.join();
  ASSERT_TRUE((*r)->flush().is_ok());
  auto stored = mem->stored();
  // Every event either committed or counted as dropped; none twice.
  size_t frame_events = 0;
  for (const auto& e : stored) frame_events += e.kind == EventKind::kFrameTiming;
  EXPECT_EQ(frame_events + (*r)->dropped(), size_t(threads * per_thread));
  EXPECT_EQ(frame_events, size_t(queued.load()));
  std::set<int64_t> frames;
  std::vector<int64_t> last(threads, -1);
  for (const auto& e : stored) {
    if (e.kind != EventKind::kFrameTiming) continue;
    int64_t f = frame_of(e);
    EXPECT_TRUE(frames.insert(f).second) << "duplicate " << f;
    int t = int(f / 1'000'000);
    EXPECT_GT(f, last[size_t(t)]) << "out of order within a thread";
    last[size_t(t)] = f;
  }
  EXPECT_EQ((*r)->committed(), stored.size());
  EXPECT_GT(mem->batches(), 1u);
}

TEST(TelemetryRecorder, AFullQueueDropsCountsReportsAndWarnsOnce) {
  LogCapture log;
  auto sink = std::make_unique<MemorySink>();
  MemorySink* mem = sink.get();
  RecorderOptions o;
  o.queue_capacity = 256;
  o.flush_interval_ms = 1;
  auto r = Recorder::create(o, std::move(sink), {"u", "s", "v"});
  ASSERT_TRUE(r.is_ok());
  // The sink is held closed: the writer takes what fits in one batch, then the queue fills up.
  const int n = 100000;
  int accepted = 0;
  for (int i = 0; i < n; ++i) accepted += (*r)->record(frame_event(i));
  uint64_t dropped = (*r)->dropped();
  EXPECT_GT(dropped, 0u);
  EXPECT_EQ(uint64_t(accepted) + dropped, uint64_t(n));
  mem->open.set_value();
  ASSERT_TRUE((*r)->flush().is_ok());
  auto stored = mem->stored();
  uint64_t reported = 0;
  size_t frames = 0;
  for (const auto& e : stored) {
    if (e.kind == EventKind::kFrameTiming) ++frames;
    if (e.kind != EventKind::kTelemetryDropped) continue;
    std::string props;
    telemetry::append_props_json(e, props);
    reported += uint64_t(e.props[0].i);
    EXPECT_EQ(props.find("\"dropped\":"), 1u) << props;
  }
  EXPECT_EQ(frames, size_t(accepted));
  EXPECT_EQ(reported, dropped);
  // Dropping again later adds another report, but no second warning.
  for (int i = 0; i < 10; ++i) (void)(*r)->record(frame_event(i));
  ASSERT_TRUE((*r)->flush().is_ok());
  EXPECT_EQ(log.count("events are being dropped"), 1u);
}

TEST(TelemetryRecorder, ASinkFailureDisablesRecordingWithoutDisturbingTheHost) {
  LogCapture log;
  auto sink = std::make_unique<MemorySink>();
  MemorySink* mem = sink.get();
  mem->open.set_value();
  mem->fail();
  auto r = Recorder::create({}, std::move(sink), {"u", "s", "v"});
  ASSERT_TRUE(r.is_ok());
  EXPECT_TRUE((*r)->record(frame_event(1)));
  Status s = (*r)->flush();
  EXPECT_EQ(s.code(), StatusCode::kIoError);
  EXPECT_TRUE((*r)->disabled());
  EXPECT_FALSE((*r)->record(frame_event(2)));
  EXPECT_EQ((*r)->failed(), 1u);
  EXPECT_EQ(log.count("telemetry is off for the rest of this run"), 1u);
}

TEST(TelemetryRecorder, CommitsOnTheTimerWithoutAFlush) {
  auto sink = std::make_unique<MemorySink>();
  MemorySink* mem = sink.get();
  mem->open.set_value();
  RecorderOptions o;
  o.flush_interval_ms = 20;
  auto r = Recorder::create(o, std::move(sink), {"u", "s", "v"});
  ASSERT_TRUE(r.is_ok());
  (*r)->record(frame_event(1));
  for (int i = 0; i < 500 && mem->stored().empty(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  EXPECT_EQ(mem->stored().size(), 1u);
}

TEST(TelemetryRecorder, DebugLinesAreExactlyTheStoredRows) {
  TempDir dir;
  auto o = telemetry_options(dir);
  std::mutex m;
  std::vector<std::string> lines;
  o.debug_sink = [&](std::string_view line) {
    std::lock_guard lock(m);
    lines.emplace_back(line);
  };
  {
    auto t = Telemetry::create(o);
    ASSERT_TRUE(t.is_ok());
    (*t)->record_command("analyse", StatusCode::kOk, 12.5, 0, 2);
    (*t)->record_option("analyse", "face_detector_score", 0.5);
    (*t)->record_stage("detect", 7.25, 910, 1137);
    (*t)->record_error("swap", StatusCode::kNoFace);
  }
  auto store = TelemetryStore::open(dir.path());
  ASSERT_TRUE(store.is_ok()) << store.status().to_string();
  std::ostringstream out;
  ASSERT_TRUE((*store)->export_events(out, "ndjson").is_ok());
  std::string expected;
  for (const auto& l : lines) expected += l + "\n";
  EXPECT_EQ(out.str(), expected);
  EXPECT_EQ(lines.size(), 4u);
  EXPECT_NE(expected.find(R"("outcome":"no_face")"), std::string::npos) << expected;
}

TEST(TelemetryRecorder, TheLogIsCheckpointedOffTheWriterThreadAndRemovedAtTheEnd) {
  TempDir dir;
  auto o = telemetry_options(dir);
  o.queue_capacity = 1 << 18;
  auto t = Telemetry::create(o);
  ASSERT_TRUE(t.is_ok());
  for (int i = 0; i < 250000; ++i) (*t)->record_frame_stage("swap", 1.0, 1920, 1080, i);
  ASSERT_TRUE((*t)->flush().is_ok());
  EXPECT_EQ((*t)->stats().committed, 250000u);
  // While the writer is still open, the checkpointer has already copied the log into the database file.
  uintmax_t size = 0;
  for (int i = 0; i < 500 && size < (8u << 20); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    size = std::filesystem::file_size(events_db(dir));
  }
  EXPECT_GE(size, 8u << 20);
  t->reset();
  EXPECT_FALSE(std::filesystem::exists(events_db(dir) + "-wal"));
  EXPECT_EQ(sql_int(events_db(dir), "SELECT count(*) FROM events"), 250000);
}

}  // namespace
}  // namespace faceweave::testing
