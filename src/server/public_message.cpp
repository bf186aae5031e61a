#include "server/public_message.h"

#include <algorithm>
#include <regex>

namespace faceweave::server {
namespace {

// What a server path stands for, in words a client can act on.
std::string describe(const std::string& path) {
  static const std::regex kUpload("/uploads/(u_[0-9a-f]+)(/|$)");
  static const std::regex kResult("/results/(j_[0-9a-f]+)");
  std::smatch m;
  if (std::regex_search(path, m, kUpload)) return "upload " + m[1].str();
  if (std::regex_search(path, m, kResult)) return "the result of job " + m[1].str();
  std::string name = path;
  while (name.size() > 1 && name.back() == '/') name.pop_back();
  const size_t slash = name.find_last_of('/');
  name = slash == std::string::npos ? name : name.substr(slash + 1);
  return name.empty() ? "a server file" : name;
}

bool ends_path(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\'' || c == '"' || c == '(' || c == ')' || c == ',' ||
         c == ';' || c == '`';
}

bool is_route(const std::string& text, size_t at) {
  for (const char* route : {"/api/", "/api ", "/insights", "/healthz", "/metrics", "/events"})
    if (text.compare(at, std::char_traits<char>::length(route), route) == 0) return true;
  return false;
}

}  // namespace

std::string without_server_paths(const std::string& message, const std::vector<std::string>& roots) {
  std::string out = message;
  // The known roots first: they may hold spaces, which the generic pass below would split at.
  std::vector<std::string> sorted;
  for (const auto& r : roots)
    if (r.size() > 1) sorted.push_back(r.back() == '/' ? r.substr(0, r.size() - 1) : r);
  std::sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) { return a.size() > b.size(); });
  for (const auto& root : sorted) {
    for (size_t at = out.find(root); at != std::string::npos; at = out.find(root, at)) {
      size_t end = at + root.size();
      while (end < out.size() && !ends_path(out[end])) ++end;
      const std::string words = describe(out.substr(at, end - at));
      out.replace(at, end - at, words);
      at += words.size();
    }
  }
  // Any other absolute path of two or more parts.
  std::string result;
  for (size_t i = 0; i < out.size();) {
    const bool starts = out[i] == '/' && (i == 0 || ends_path(out[i - 1]) || out[i - 1] == '=');
    if (!starts || is_route(out, i)) {
      result += out[i++];
      continue;
    }
    size_t end = i;
    while (end < out.size() && !ends_path(out[end])) ++end;
    const std::string token = out.substr(i, end - i);
    if (std::count(token.begin(), token.end(), '/') >= 2)
      result += describe(token);
    else
      result += token;
    i = end;
  }
  return result;
}

void scrub_error_messages(nlohmann::json& body, const std::vector<std::string>& roots) {
  auto scrub = [&](nlohmann::json& holder) {
    if (!holder.is_object() || !holder.contains("error") || !holder["error"].is_object()) return;
    auto& error = holder["error"];
    if (error.contains("message") && error["message"].is_string())
      error["message"] = without_server_paths(error["message"].get<std::string>(), roots);
  };
  scrub(body);
  if (body.is_object() && body.contains("jobs") && body["jobs"].is_array())
    for (auto& job : body["jobs"]) scrub(job);
}

}  // namespace faceweave::server
