#include "server/request_log.h"

namespace faceweave::server {

bool worth_logging(const std::string& method, const std::string& path, int status) {
  if (status >= 400) return true;
  if (method == "GET" || method == "HEAD")
    return path == "/" || path == "/insights/" ||
           (path.starts_with("/api/jobs/") && path.ends_with("/result"));
  return path != "/api/events";
}

std::string request_log_line(const std::string& method, const std::string& path, int status) {
  const std::string shown = path.substr(0, path.find('?')).substr(0, 200);
  return method + " " + shown + " " + std::to_string(status);
}

}  // namespace faceweave::server
