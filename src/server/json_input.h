// Every piece of JSON that comes from outside the process (request bodies, `jobs submit --options`, rows
// read back from the job store) is parsed here and nowhere else. nlohmann's parser itself is iterative,
// but copying, comparing or dumping a value recurses once per level: a 120 KB body of `[` (60,000 levels)
// overflowed a worker thread's stack. Nesting is therefore capped while parsing (a SAX pass that counts
// depth and stops at the first level too many), so no deep value is ever built.
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "faceweave/status.h"

namespace faceweave::server {

// No request needs more than a handful of levels; 64 leaves room and keeps every recursion shallow.
constexpr int kMaxJsonDepth = 64;

// Parses `text`; `what` names it in the error ("the body", "--options"). Errors are kInvalidArgument:
// "<what> is not valid JSON (...)" or "<what> nests arrays and objects deeper than 64 levels (...)".
Result<nlohmann::json> parse_json_input(std::string_view text, const std::string& what,
                                        int max_depth = kMaxJsonDepth);

// True when `status` is parse_json_input's "nested too deep" error.
bool json_too_deep(const Status& status);

}  // namespace faceweave::server
