// One line per request worth showing in `faceweave serve`'s terminal: what a person did (a page opened, an
// upload, a preview, a job queued or cancelled, a result downloaded) and every error answer. The polling
// of job status, assets, frames, live streams and browser events stay out, so the lines stay readable.
#pragma once

#include <string>

namespace faceweave::server {

bool worth_logging(const std::string& method, const std::string& path, int status);

// "POST /api/jobs 201": the path without its query (a ?token= never reaches the terminal).
std::string request_log_line(const std::string& method, const std::string& path, int status);

}  // namespace faceweave::server
