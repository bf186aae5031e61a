// Error messages as HTTP clients see them: without the server's file paths. A message from the engine names
// the files it read ("<data dir>/uploads/u_.../media.png is a truncated JPEG", "<models>/x.onnx is missing");
// a client learns which upload or which model, never where the server keeps them.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace faceweave::server {

// `message` with every path under one of `roots` (the data dir, the models folder), and every other absolute
// file path, replaced by what it names: "upload u_...", "the job's result", or the file's own name.
// Routes named in messages (/api/..., /insights, /healthz, /metrics) are kept.
std::string without_server_paths(const std::string& message, const std::vector<std::string>& roots);

// The same for every error message in an API answer: {"error": {...}} and the jobs' errors of a job or a
// list of jobs. Other bodies are returned unchanged.
void scrub_error_messages(nlohmann::json& body, const std::vector<std::string>& roots);

}  // namespace faceweave::server
