// The library never prints. Hosts (the CLI, the server, tests) install a sink; without one, messages are
// dropped. The sink may be called from any thread and must be thread-safe.
#pragma once

#include <functional>
#include <string_view>

namespace faceweave {

enum class LogLevel { kDebug, kInfo, kWarning, kError };

using LogSink = std::function<void(LogLevel, std::string_view)>;

// Replaces the process-wide sink (pass nullptr to silence). Returns the previous sink.
LogSink set_log_sink(LogSink sink);
const char* log_level_name(LogLevel level);

}  // namespace faceweave
