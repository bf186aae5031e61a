// Rollup maintenance cost: sustained ingest through the telemetry writer (the same recorder, batch size and
// event as bench/bench_telemetry.cpp's "sustained ingest") into a database without and with the analytics
// rollups installed, and the fold of those events into the rollups afterwards (what the next view does).
// Not a test: `cmake --build B --target analytics_ingest_bench && B/tests/unit/analytics/...`.
//
//   analytics_ingest_bench [events]   (default 1,000,000)
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <thread>

#include "faceweave/analytics.h"
#include "telemetry/event.h"
#include "telemetry/paths.h"
#include "telemetry/recorder.h"
#include "telemetry/sqlite_sink.h"

using namespace faceweave;

namespace {

telemetry::Event make_event(telemetry::EventKind kind, int i) {
  telemetry::EventBuilder b(kind);
  switch (kind) {
    case telemetry::EventKind::kStageTiming:
      b.set_text("stage", i % 3 ? "detect" : "enhance")
          .set_text("resolution", i % 2 ? "1080p" : "4k")
          .set_int("frames", 1 + i % 7)
          .set_text("media", "video");
      b.duration(7.25 + i % 13);
      break;
    case telemetry::EventKind::kCommandOption:
      b.set_text("command", "swap")
          .set_text("option", "color_match")
          .set_text("value", i % 2 ? "none" : "histogram");
      break;
    default:
      b.set_text("surface", "cli").set_text("command", "swap").set_int("exit_code", 0).set_int("changed", 1);
      b.duration(300);
      break;
  }
  telemetry::Event e = b.event();
  e.ts_ms = telemetry::unix_ms();
  return e;
}

struct Result2 {
  double ingest = 0, fold = 0;  // events/s
};

Result2 ingest(size_t n, bool rollups, bool mixed) {
  std::string t = (std::filesystem::temp_directory_path() / "faceweave-ingest-XXXXXX").string();
  std::string dir = ::mkdtemp(t.data());
  auto paths = telemetry::telemetry_paths(dir);
  (void)telemetry::make_private_dirs(paths.dir);
  auto sink = telemetry::SqliteSink::open(paths.database, {});
  if (!sink) std::exit(1);
  std::unique_ptr<Analytics> analytics;
  if (rollups) {
    auto a = Analytics::open_database(paths.database);
    if (!a) {
      std::fprintf(stderr, "%s\n", a.status().to_string().c_str());
      std::exit(1);
    }
    analytics = std::move(*a);
  }
  telemetry::RecorderOptions o;
  o.queue_capacity = 1 << 18;
  o.batch_size = 8192;
  auto r =
      telemetry::Recorder::create(o, std::move(*sink), {std::string(64, 'a'), std::string(32, 'b'), "0.1.0"});
  if (!r) std::exit(1);
  std::vector<telemetry::Event> events;
  for (int i = 0; i < 64; ++i) {
    telemetry::EventKind k = telemetry::EventKind::kStageTiming;
    // Mixed: the shape of a swap run (about 8 stage timings, 2 options, 1 run).
    if (mixed && i % 11 == 9) k = telemetry::EventKind::kCommandOption;
    if (mixed && i % 11 == 10) k = telemetry::EventKind::kCommandRun;
    events.push_back(make_event(k, i));
  }
  auto start = std::chrono::steady_clock::now();
  for (size_t i = 0; i < n; ++i) {
    telemetry::Event& e = events[i % events.size()];
    if ((i & 1023) == 0) e.ts_ms = telemetry::unix_ms();
    while (!(*r)->try_record(e)) std::this_thread::sleep_for(std::chrono::microseconds(20));
  }
  (void)(*r)->flush();
  double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  Result2 out{double(n) / s, 0};
  if (analytics) {
    auto f0 = std::chrono::steady_clock::now();
    if (!analytics->refresh().is_ok()) std::exit(1);
    out.fold = double(n) / std::chrono::duration<double>(std::chrono::steady_clock::now() - f0).count();
  }
  analytics.reset();
  r->reset();
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  size_t n = argc > 1 ? size_t(std::atoll(argv[1])) : 1'000'000;
  for (bool mixed : {false, true}) {
    double without = ingest(n, false, mixed).ingest;
    Result2 with = ingest(n, true, mixed);
    std::printf(
        "%s events: %.0f events/s without rollups, %.0f with them installed (%.1f%%); fold afterwards %.0f "
        "events/s\n",
        mixed ? "mixed (swap-run shaped)" : "stage.timing", without, with.ingest,
        100.0 * with.ingest / without, with.fold);
  }
  return 0;
}
