// Internal logging entry point for library code; see include/faceweave/log.h for the host side.
#pragma once

#include <string>

#include "faceweave/log.h"

namespace faceweave::core {

void log(LogLevel level, const std::string& message);
inline void log_debug(const std::string& m) {
  log(LogLevel::kDebug, m);
}
inline void log_info(const std::string& m) {
  log(LogLevel::kInfo, m);
}
inline void log_warning(const std::string& m) {
  log(LogLevel::kWarning, m);
}
inline void log_error(const std::string& m) {
  log(LogLevel::kError, m);
}

}  // namespace faceweave::core
