#include "core/log.h"

#include <memory>
#include <mutex>

namespace faceweave {
namespace {
std::mutex& sink_mutex() {
  static std::mutex m;
  return m;
}
// Held by shared_ptr so a log call in flight keeps its sink alive while another thread replaces it.
std::shared_ptr<LogSink>& sink_slot() {
  static std::shared_ptr<LogSink> sink;
  return sink;
}
}  // namespace

LogSink set_log_sink(LogSink sink) {
  std::lock_guard lock(sink_mutex());
  auto previous = sink_slot();
  sink_slot() = sink ? std::make_shared<LogSink>(std::move(sink)) : nullptr;
  return previous ? *previous : LogSink{};
}

const char* log_level_name(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarning:
      return "warning";
    case LogLevel::kError:
      return "error";
  }
  return "info";
}

namespace core {
void log(LogLevel level, const std::string& message) {
  std::shared_ptr<LogSink> sink;
  {
    std::lock_guard lock(sink_mutex());
    sink = sink_slot();
  }
  if (sink) (*sink)(level, message);
}
}  // namespace core
}  // namespace faceweave
