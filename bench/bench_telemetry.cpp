// Telemetry benchmarks (docs/benchmarks.md, "Telemetry"). A plain program rather than Google Benchmark:
// latency needs per-call percentiles, and the baselines must run side by side in the same process.
//
//   1. record() latency, median / p99 / p99.9, while the writer thread is busy committing to SQLite: the bare
//      hot path (Recorder::record of a built event) and the full public call (Telemetry::record_stage).
//   2. Sustained ingest into SQLite: events/s from a producer that never lets the queue overflow, until the
//      last batch is committed.
//   3. Side by side, the same work for every contender (read the clock, build or format the event per call),
//      the same 8192-slot queue blocking when full, unpaced and paced at the same rate: faceweave's recorder
//      into SQLite, spdlog's asynchronous logger writing JSON lines, and a naive open/append/close per event.
//   4. Overhead on a real image swap: the same 1080p swap with telemetry off and all, interleaved, recording
//      what the pipeline will record per run (command, options, stage timings, face counts).
//
// Usage: bench_telemetry [--quick] [--no-swap] [--only 1|2|3|4]
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#endif

#include <spdlog/async.h>
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/spdlog.h>
#include <sqlite3.h>
#include <opencv2/core/utility.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "faceweave/engine.h"
#include "faceweave/telemetry.h"
#include "telemetry/engine.h"
#include "telemetry/event.h"
#include "telemetry/paths.h"
#include "telemetry/recorder.h"
#include "telemetry/sqlite_sink.h"

namespace {
using namespace faceweave;
using Clock = std::chrono::steady_clock;

// --- timing -----------------------------------------------------------------------------------------------

// A cycle counter where there is one (a few ns to read), else the steady clock.
inline uint64_t ticks() {
#if defined(__x86_64__) || defined(__i386__)
  // The fences keep the measured call from overlapping the reads.
  _mm_lfence();
  uint64_t t = __rdtsc();
  _mm_lfence();
  return t;
#else
  return uint64_t(Clock::now().time_since_epoch().count());
#endif
}

double ns_per_tick() {
  static const double v = [] {
    auto t0 = Clock::now();
    uint64_t c0 = ticks();
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    uint64_t c1 = ticks();
    auto t1 = Clock::now();
    return std::chrono::duration<double, std::nano>(t1 - t0).count() / double(c1 - c0);
  }();
  return v;
}

struct Percentiles {
  double median = 0, p90 = 0, p99 = 0, p999 = 0, max = 0;
};

// Raw percentiles: each sample includes reading the counter twice (printed once as "timer overhead").
Percentiles percentiles(std::vector<uint64_t>& samples) {
  std::sort(samples.begin(), samples.end());
  auto at = [&](double q) {
    return double(samples[std::min(samples.size() - 1, size_t(q * double(samples.size())))]) * ns_per_tick();
  };
  return {at(0.5), at(0.9), at(0.99), at(0.999), at(1.0 - 1e-12)};
}

// CPU seconds used so far by this process's thread called `name` (the writer is "fw-telemetry").
double thread_cpu_seconds(const std::string& name) {
  double total = 0;
  std::error_code ec;
  for (const auto& task : std::filesystem::directory_iterator("/proc/self/task", ec)) {
    std::ifstream comm(task.path() / "comm");
    std::string c;
    std::getline(comm, c);
    if (c != name) continue;
    std::ifstream stat(task.path() / "stat");
    std::string line;
    std::getline(stat, line);
    std::istringstream fields(line.substr(line.rfind(')') + 2));
    std::string f;
    unsigned long long utime = 0, stime = 0;
    for (int i = 3; i <= 15 && fields >> f; ++i) {
      if (i == 14) utime = std::stoull(f);
      if (i == 15) stime = std::stoull(f);
    }
    total += double(utime + stime) / double(sysconf(_SC_CLK_TCK));
  }
  return total;
}

// The cost of reading the counter twice: subtracted from every sample.
double timer_overhead_ticks() {
  std::vector<uint64_t> s(200000);
  for (auto& v : s) {
    uint64_t a = ticks();
    uint64_t b = ticks();
    v = b - a;
  }
  std::sort(s.begin(), s.end());
  return double(s[s.size() / 2]);
}

double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

double cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return double(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         1e-6 * double(u.ru_utime.tv_usec + u.ru_stime.tv_usec);
}

// --- the event every contender stores ---------------------------------------------------------------------

telemetry::Event stage_event(int64_t frame) {
  telemetry::EventBuilder b(telemetry::EventKind::kStageTiming);
  b.set_text("stage", "detect")
      .set_text("resolution", "1080p")
      .set_int("frames", frame)
      .set_text("media", "video");
  b.duration(7.25);
  telemetry::Event e = b.event();
  e.ts_ms = telemetry::unix_ms();
  return e;
}

const std::string kUser(64, 'a');
const std::string kSession(32, 'b');

// The same event as one JSON line, formatted the way the baselines must (on the caller's thread).
int format_line(char* buf, size_t size, int64_t ts, int64_t frame) {
  return std::snprintf(
      buf, size,
      "{\"ts\":%lld,\"event\":\"stage.timing\",\"user\":\"%s\",\"session\":\"%s\",\"app_version\":"
      "\"0.1.0\",\"props\":{\"stage\":\"detect\",\"resolution\":\"1080p\",\"frames\":%lld,\"media\":"
      "\"video\"},\"duration_ms\":7.25,\"outcome\":\"ok\",\"sample_rate\":1}\n",
      static_cast<long long>(ts), kUser.c_str(), kSession.c_str(), static_cast<long long>(frame));
}

struct Dir {
  std::string path;
  Dir() {
    std::string t = (std::filesystem::temp_directory_path() / "faceweave-bench-XXXXXX").string();
    path = ::mkdtemp(t.data());
  }
  ~Dir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
};

std::unique_ptr<telemetry::Recorder> make_recorder(const std::string& dir, size_t queue, size_t batch) {
  auto paths = telemetry::telemetry_paths(dir);
  (void)telemetry::make_private_dirs(paths.dir);
  auto sink = telemetry::SqliteSink::open(paths.database, {});
  if (!sink) {
    std::fprintf(stderr, "bench: %s\n", sink.status().to_string().c_str());
    std::exit(1);
  }
  telemetry::RecorderOptions o;
  o.queue_capacity = queue;
  o.batch_size = batch;
  auto r = telemetry::Recorder::create(o, std::move(*sink), {kUser, kSession, "0.1.0"});
  if (!r) std::exit(1);
  return std::move(*r);
}

// --- 1. latency
// ---------------------------------------------------------------------------------------------

struct LatencyResult {
  Percentiles p;
  uint64_t samples = 0, dropped = 0, committed = 0;
  double rate = 0;
  double writer_busy = 0;  // share of the run the writer thread spent on a CPU
};

// Calls `call(i)` `n` times at `rate` calls per second (paced, so the queue never fills and the writer
// stays busy committing), timing each call.
template <typename Call, typename Stats>
LatencyResult paced_latency(size_t n, double rate, double overhead, Call&& call, Stats&& stats) {
  (void)overhead;
  std::vector<uint64_t> samples(n);
  const double tick_ns = ns_per_tick();
  const uint64_t spacing = uint64_t(1e9 / rate / tick_ns);
  uint64_t next = ticks();
  double writer0 = thread_cpu_seconds("fw-telemetry");
  auto start = Clock::now();
  for (size_t i = 0; i < n; ++i) {
    while (ticks() < next) {
    }
    next += spacing;
    uint64_t a = ticks();
    call(int64_t(i));
    uint64_t b = ticks();
    samples[i] = b - a;
  }
  LatencyResult r;
  double wall = seconds_since(start);
  r.rate = double(n) / wall;
  r.writer_busy = (thread_cpu_seconds("fw-telemetry") - writer0) / wall;
  r.p = percentiles(samples);
  r.samples = n;
  stats(r);
  return r;
}

void print_latency(const char* what, const LatencyResult& r) {
  std::printf("  %s: %llu calls at %.0f/s, writer thread busy %.0f%% of the time, %llu dropped\n", what,
              static_cast<unsigned long long>(r.samples), r.rate, 100 * r.writer_busy,
              static_cast<unsigned long long>(r.dropped));
  std::printf("    median %5.0f ns   p90 %5.0f ns   p99 %5.0f ns   p99.9 %6.0f ns   max %9.0f ns\n",
              r.p.median, r.p.p90, r.p.p99, r.p.p999, r.p.max);
}

// --- 2. ingest
// ----------------------------------------------------------------------------------------------

struct Ingest {
  double events_per_s = 0;
  double seconds = 0;
  uint64_t events = 0;
  double cpu_per_event_ns = 0;  // process CPU time (producer + writer) per stored event
};

Ingest sqlite_ingest(size_t n, size_t batch) {
  Dir dir;
  auto r = make_recorder(dir.path, 1 << 18, batch);
  telemetry::Event e = stage_event(0);
  double cpu0 = cpu_seconds();
  auto start = Clock::now();
  for (size_t i = 0; i < n; ++i) {
    e.props[2].i = int64_t(i);
    if ((i & 1023) == 0) e.ts_ms = telemetry::unix_ms();
    // Never drop: wait for room, so every event is stored and the rate is the writer's.
    while (!r->try_record(e)) std::this_thread::sleep_for(std::chrono::microseconds(20));
  }
  (void)r->flush();
  Ingest out;
  out.seconds = seconds_since(start);
  out.events = r->committed();
  out.events_per_s = double(out.events) / out.seconds;
  out.cpu_per_event_ns = (cpu_seconds() - cpu0) * 1e9 / double(out.events);
  if (out.events != n) std::fprintf(stderr, "bench: stored %llu of %zu\n", (unsigned long long)out.events, n);
  return out;
}

// --- 3. side by side
// -----------------------------------------------------------------------------------------------
//
// Every contender does the same work per call on the caller's thread: read the wall clock, turn the same
// inputs (stage, a 1920x1080 frame's resolution bucket, the frame number, the duration) into its own event
// (faceweave: an EventBuilder event; the baselines: one JSON line), and hand it over. The two queued ones
// get the same queue (kSideQueue slots, spdlog's default) and the same policy when it is full: block until
// there is room (spdlog's async_overflow_policy::block; faceweave retries try_record). Each runs the same
// two passes: unpaced (as fast as it can: throughput until everything is written, and the call latency
// including any blocking) and paced at the same rate (the call latency when the queue never fills).

constexpr size_t kSideQueue = 8192;

struct Side {
  Ingest ingest;
  Percentiles unpaced, paced;
  double paced_rate = 0;
};

// Runs `call(i)` n times, paced at `rate` calls/s (0: unpaced), timing each call.
template <typename Call>
Percentiles timed_calls(size_t n, double rate, double& achieved, Call&& call) {
  std::vector<uint64_t> samples(n);
  const uint64_t spacing = rate > 0 ? uint64_t(1e9 / rate / ns_per_tick()) : 0;
  uint64_t next = ticks();
  auto start = Clock::now();
  for (size_t i = 0; i < n; ++i) {
    if (spacing) {
      while (ticks() < next) {
      }
      next += spacing;
    }
    uint64_t a = ticks();
    call(int64_t(i));
    samples[i] = ticks() - a;
  }
  achieved = double(n) / seconds_since(start);
  return percentiles(samples);
}

Side side_faceweave(size_t n, size_t n_paced, double rate) {
  Side out;
  auto pass = [&](size_t count, double r, bool unpaced) {
    Dir dir;
    auto rec = make_recorder(dir.path, kSideQueue, 8192);
    auto call = [&](int64_t i) {
      telemetry::EventBuilder b(telemetry::EventKind::kStageTiming);
      b.set_text("stage", "detect")
          .set_text("resolution", telemetry::resolution_bucket(1920, 1080))
          .set_int("frames", i)
          .set_text("media", "video");
      b.duration(7.25);
      telemetry::Event e = b.event();
      e.ts_ms = telemetry::unix_ms();
      while (!rec->try_record(e)) std::this_thread::yield();  // block while full, as spdlog does
    };
    double cpu0 = cpu_seconds(), achieved = 0;
    auto start = Clock::now();
    Percentiles p = timed_calls(count, r, achieved, call);
    (void)rec->flush();
    if (unpaced) {
      out.unpaced = p;
      out.ingest.seconds = seconds_since(start);
      out.ingest.events = rec->committed();
      out.ingest.events_per_s = double(out.ingest.events) / out.ingest.seconds;
      out.ingest.cpu_per_event_ns = (cpu_seconds() - cpu0) * 1e9 / double(out.ingest.events);
    } else {
      out.paced = p;
      out.paced_rate = achieved;
    }
    if (rec->committed() != count)
      std::fprintf(stderr, "bench: stored %llu of %zu\n", (unsigned long long)rec->committed(), count);
  };
  pass(n, 0, true);
  pass(n_paced, rate, false);
  return out;
}

Side side_spdlog(size_t n, size_t n_paced, double rate) {
  Side out;
  auto pass = [&](size_t count, double r, bool unpaced) {
    Dir dir;
    std::string path = dir.path + "/events.ndjson";
    spdlog::init_thread_pool(kSideQueue, 1);
    auto logger = spdlog::basic_logger_mt<spdlog::async_factory>("telemetry", path, true);
    logger->set_pattern("%v");
    auto call = [&](int64_t i) {
      logger->info(
          "{{\"ts\":{},\"event\":\"stage.timing\",\"user\":\"{}\",\"session\":\"{}\",\"app_version\":\"0.1."
          "0\","
          "\"props\":{{\"stage\":\"detect\",\"resolution\":\"{}\",\"frames\":{},\"media\":\"video\"}},"
          "\"duration_ms\":7.25,\"outcome\":\"ok\",\"sample_rate\":1}}",
          telemetry::unix_ms(), kUser, kSession, telemetry::resolution_bucket(1920, 1080), i);
    };
    double cpu0 = cpu_seconds(), achieved = 0;
    auto start = Clock::now();
    Percentiles p = timed_calls(count, r, achieved, call);
    logger->flush();
    logger.reset();
    spdlog::shutdown();  // joins the worker after it has written everything queued
    if (unpaced) {
      out.unpaced = p;
      out.ingest.seconds = seconds_since(start);
      out.ingest.events = count;
      out.ingest.events_per_s = double(count) / out.ingest.seconds;
      out.ingest.cpu_per_event_ns = (cpu_seconds() - cpu0) * 1e9 / double(count);
    } else {
      out.paced = p;
      out.paced_rate = achieved;
    }
    size_t lines = 0;
    std::ifstream in(path);
    for (std::string l; std::getline(in, l);) ++lines;
    if (lines != count) std::fprintf(stderr, "bench: spdlog wrote %zu of %zu lines\n", lines, count);
  };
  pass(n, 0, true);
  pass(n_paced, rate, false);
  return out;
}

// No queue: each call opens the file, appends its line and closes it (it cannot keep the paced rate; the
// paced pass shows the rate it reached).
Side side_naive(size_t n, double rate) {
  Side out;
  auto pass = [&](double r, bool unpaced) {
    Dir dir;
    std::string path = dir.path + "/events.ndjson";
    char line[512];
    auto call = [&](int64_t i) {
      int len = format_line(line, sizeof line, telemetry::unix_ms(), i);
      std::FILE* f = std::fopen(path.c_str(), "a");
      std::fwrite(line, 1, size_t(len), f);
      std::fclose(f);
    };
    double cpu0 = cpu_seconds(), achieved = 0;
    auto start = Clock::now();
    Percentiles p = timed_calls(n, r, achieved, call);
    if (unpaced) {
      out.unpaced = p;
      out.ingest.seconds = seconds_since(start);
      out.ingest.events = n;
      out.ingest.events_per_s = double(n) / out.ingest.seconds;
      out.ingest.cpu_per_event_ns = (cpu_seconds() - cpu0) * 1e9 / double(n);
    } else {
      out.paced = p;
      out.paced_rate = achieved;
    }
  };
  pass(0, true);
  pass(rate, false);
  return out;
}

// --- 4. swap overhead
// ---------------------------------------------------------------------------------------

void swap_overhead(int iterations) {
  std::string testdata = FACEWEAVE_TESTDATA_DIR;
  const char* env = std::getenv("FACEWEAVE_MODELS_DIR");
  EngineOptions eo;
  eo.models_dir = env && *env ? env : FACEWEAVE_MODELS_DIR_DEFAULT;
  eo.manifest_path = FACEWEAVE_MANIFEST_PATH;
  auto engine = Engine::create(eo);
  if (!engine) {
    std::printf("  skipped: %s\n", engine.status().message().c_str());
    return;
  }
  Dir dir;
  // The 1080p frame of bench_swap: the astronaut portrait on a 1920x1080 canvas.
  cv::Mat portrait = cv::imread(testdata + "/images/astronaut.png");
  cv::Mat scaled, frame(1080, 1920, CV_8UC3, cv::Scalar(90, 90, 90));
  cv::resize(portrait, scaled, cv::Size(1080, 1080), 0, 0, cv::INTER_CUBIC);
  scaled.copyTo(frame(cv::Rect(420, 0, 1080, 1080)));
  std::string target = dir.path + "/target.jpg";
  cv::imwrite(target, frame);
  SwapRequest req;
  req.sources = {testdata + "/images/obama.jpg"};
  req.target = target;
  req.output = dir.path + "/out.jpg";

  TelemetryOptions on;
  on.data_dir = dir.path + "/data";
  on.consent = "all";
  TelemetryOptions off = on;
  off.consent = "off";
  auto t_on = Telemetry::create(on);
  auto t_off = Telemetry::create(off);
  if (!t_on || !t_off) return;
  // Three arms, interleaved so drift (other load, thermal) hits all alike: off, all, and off again, whose
  // difference from the first is the noise floor of this measurement.
  std::vector<double> ms[3];
  std::vector<uint64_t> record_ticks;
  (void)(*engine)->swap(req);  // warm-up
  for (int i = 0; i < 3 * iterations; ++i) {
    int arm = i % 3;
    Telemetry& t = arm == 1 ? **t_on : **t_off;
    auto start = Clock::now();
    auto report = (*engine)->swap(req);
    if (!report) {
      std::printf("  skipped: %s\n", report.status().message().c_str());
      return;
    }
    // What the instrumented CLI records per image swap.
    uint64_t a = ticks();
    t.record_stages(report->stage_ms, report->output_width, report->output_height);
    t.record_faces("target", report->faces_found, report->faces_selected, report->output_width,
                   report->output_height);
    t.record_option("swap", "blend", "laplacian");
    t.record_command("swap", StatusCode::kOk, 50.0, 0, 1);
    uint64_t b = ticks();
    if (arm == 1) record_ticks.push_back(b - a);
    ms[arm].push_back(std::chrono::duration<double, std::milli>(Clock::now() - start).count());
  }
  (void)(*t_on)->flush();
  for (auto& v : ms) std::sort(v.begin(), v.end());
  std::sort(record_ticks.begin(), record_ticks.end());
  auto median = [](const std::vector<double>& v) { return v[v.size() / 2]; };
  double off_ms = median(ms[0]), on_ms = median(ms[1]), off2_ms = median(ms[2]);
  double rec_us = double(record_ticks[record_ticks.size() / 2]) * ns_per_tick() / 1000;
  uint64_t events = (*t_on)->stats().committed;
  std::printf(
      "  1080p image swap, %d runs per arm, interleaved: median %.2f ms telemetry off, %.2f ms all "
      "(%+.2f%%), %.2f ms off again (%+.2f%%: the noise floor)\n",
      iterations, off_ms, on_ms, 100.0 * (on_ms - off_ms) / off_ms, off2_ms,
      100.0 * (off2_ms - off_ms) / off_ms);
  std::printf(
      "  recording one swap's %llu events on the caller's thread: median %.2f us = %.4f%% of a swap\n",
      static_cast<unsigned long long>(events / uint64_t(iterations)), rec_us, 100.0 * rec_us / 1000 / off_ms);
}

}  // namespace

int main(int argc, char** argv) {
  bool quick = false, swap = true;
  int only = 0;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--quick") quick = true;
    if (a == "--no-swap") swap = false;
    if (a == "--only" && i + 1 < argc) only = std::atoi(argv[++i]);
  }
  auto section = [only](int n) { return only == 0 || only == n; };
  cv::setNumThreads(1);
  const size_t scale = quick ? 10 : 1;
  double load[3] = {0, 0, 0};
  getloadavg(load, 3);
  std::string cpu = "unknown CPU";
  {
    std::ifstream info("/proc/cpuinfo");
    for (std::string l; std::getline(info, l);)
      if (l.rfind("model name", 0) == 0) {
        cpu = l.substr(l.find(':') + 2);
        break;
      }
  }
  std::printf("bench_telemetry: %s, %u cores, load average %.2f, SQLite %s, tick %.3f ns\n", cpu.c_str(),
              std::thread::hardware_concurrency(), load[0], sqlite3_libversion(), ns_per_tick());
  const double overhead = timer_overhead_ticks();
  std::printf("timer overhead %.1f ns (included in every latency below)\n\n", overhead * ns_per_tick());

  if (section(1))
    std::printf("1. record() latency while the writer commits to SQLite (events paced at 500,000/s)\n");
  if (section(1)) {
    Dir dir;
    auto r = make_recorder(dir.path, 1 << 16, 8192);
    telemetry::Event e = stage_event(0);
    auto res = paced_latency(
        2'000'000 / scale, 500'000, overhead,
        [&](int64_t i) {
          e.props[2].i = i;
          (void)r->record(e);
        },
        [&](LatencyResult& out) {
          (void)r->flush();
          out.dropped = r->dropped();
          out.committed = r->committed();
        });
    print_latency("Recorder::record(event) (the hot path)", res);
  }
  if (section(1)) {
    Dir dir;
    TelemetryOptions o;
    o.data_dir = dir.path;
    o.consent = "all";
    auto t = Telemetry::create(o);
    if (!t || !(*t)->enabled()) return 1;
    auto res = paced_latency(
        2'000'000 / scale, 500'000, overhead,
        [&](int64_t i) { (*t)->record_frame_stage("detect", 7.25, 1920, 1080, i); },
        [&](LatencyResult& out) {
          (void)(*t)->flush();
          out.dropped = (*t)->stats().dropped;
        });
    print_latency("Telemetry::record_frame_stage(...) (public API)", res);
  }

  if (section(2))
    std::printf(
        "\n2. sustained ingest into SQLite (WAL, synchronous=NORMAL, 256-row INSERTs, a transaction per "
        "batch, "
        "checkpoints on their own thread)\n");
  for (size_t batch : {size_t(8192), size_t(32768)}) {
    if (!section(2)) continue;
    Ingest in = sqlite_ingest(4'000'000 / scale, batch);
    std::printf("  batch %6zu: %10.0f events/s  (%llu events in %.2f s, %.0f ns CPU per event)\n", batch,
                in.events_per_s, static_cast<unsigned long long>(in.events), in.seconds, in.cpu_per_event_ns);
  }

  if (!section(3)) {
    if (swap && section(4)) {
      std::printf("\n4. overhead on a real swap\n");
      swap_overhead(quick ? 5 : 25);
    }
    return 0;
  }
  const double side_rate = 100'000;
  std::printf(
      "\n3. side by side: the same work per call (clock read, event built or formatted), a %zu-slot queue "
      "blocking when full for both queued contenders, unpaced and paced at %.0f/s\n",
      kSideQueue, side_rate);
  Side fw = side_faceweave(2'000'000 / scale, 1'000'000 / scale, side_rate);
  Side spd = side_spdlog(2'000'000 / scale, 1'000'000 / scale, side_rate);
  Side naive = side_naive(20'000 / scale, side_rate);
  std::printf("  %-34s %11s %9s %12s %12s %12s %12s\n", "", "events/s", "CPU/ev", "unpaced med",
              "unpaced p99", "paced med", "paced p99");
  auto line = [](const char* name, const Side& x) {
    std::printf("  %-34s %11.0f %6.0f ns %9.0f ns %9.0f ns %9.0f ns %9.0f ns%s\n", name,
                x.ingest.events_per_s, x.ingest.cpu_per_event_ns, x.unpaced.median, x.unpaced.p99,
                x.paced.median, x.paced.p99,
                x.paced_rate < 0.95 * 100'000 ? "  (could not keep the paced rate)" : "");
  };
  line("faceweave recorder -> SQLite", fw);
  line("spdlog async logger, JSON lines", spd);
  line("naive open/append/close per event", naive);
  std::printf(
      "  faceweave against spdlog async: %.2fx the events/s, %.2fx the CPU per event, paced call median "
      "%.2fx (lower is better for the last two)\n",
      fw.ingest.events_per_s / spd.ingest.events_per_s,
      fw.ingest.cpu_per_event_ns / spd.ingest.cpu_per_event_ns, fw.paced.median / spd.paced.median);
  std::printf("  against the naive way: %.0fx the events/s, paced call median %.0fx less\n",
              fw.ingest.events_per_s / naive.ingest.events_per_s, naive.paced.median / fw.paced.median);

  if (swap) {
    std::printf("\n4. overhead on a real swap\n");
    swap_overhead(quick ? 5 : 25);
  }
  return 0;
}
