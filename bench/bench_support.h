// What the Google Benchmark programs share: where the models are, and a main() that pins OpenCV's thread
// count (single-threaded numbers are the comparable ones, DESIGN.md section 8; FACEWEAVE_BENCH_THREADS
// overrides).
#pragma once

#include <cstdlib>
#include <string>
#include "core/allocator.h"

#include <benchmark/benchmark.h>
#include <opencv2/core/utility.hpp>

namespace faceweave::bench {

inline std::string models_dir() {
  const char* env = std::getenv("FACEWEAVE_MODELS_DIR");
  return env && *env ? env : FACEWEAVE_MODELS_DIR_DEFAULT;
}

inline int run_benchmarks(int argc, char** argv) {
  core::tune_allocator();  // as the faceweave binary does
  const char* threads = std::getenv("FACEWEAVE_BENCH_THREADS");
  cv::setNumThreads(threads ? std::atoi(threads) : 1);
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}

}  // namespace faceweave::bench
