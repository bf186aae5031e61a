// Child process of the durability test: records frame.timing events (frame = a sequence number) as fast as
// it can into <data dir> and prints "batch <n> <first id> <last id> <rows>" after each commit, until it is
// killed. Usage: telemetry_durability_child DATA_DIR FIRST_FRAME
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "telemetry/paths.h"
#include "telemetry/recorder.h"
#include "telemetry/sqlite_sink.h"

int main(int argc, char** argv) {
  using namespace faceweave::telemetry;
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s DATA_DIR FIRST_FRAME\n", argv[0]);
    return 2;
  }
  Paths paths = telemetry_paths(argv[1]);
  if (!make_private_dirs(paths.dir).is_ok()) return 3;
  auto sink = SqliteSink::open(paths.database, {});
  if (!sink) {
    std::fprintf(stderr, "%s\n", sink.status().to_string().c_str());
    return 4;
  }
  RecorderOptions options;
  options.batch_size = 4096;
  options.flush_interval_ms = 5;
  options.on_commit = [](const CommitInfo& c) {
    // write(2), not stdio: the line must leave the process the moment the batch is committed.
    std::string line = "batch " + std::to_string(c.batch) + " " + std::to_string(c.ids.first) + " " +
                       std::to_string(c.ids.last) + " " + std::to_string(c.rows) + "\n";
    if (::write(1, line.data(), line.size()) < 0) std::_Exit(5);
  };
  auto recorder = Recorder::create(options, std::move(*sink), {std::string(64, 'a'), "durability", "test"});
  if (!recorder) return 6;
  long long frame = std::atoll(argv[2]);
  for (;;) {
    EventBuilder b(EventKind::kFrameTiming);
    b.set_text("stage", "swap").set_int("frame", frame).duration(1.0);
    Event e = b.event();
    e.ts_ms = unix_ms();
    // A dropped event is simply not stored; its number is never used again.
    (void)(*recorder)->record(e);
    ++frame;
  }
}
