// Random identifiers for uploads (u_…), jobs (j_…) and browser clients (c_…): a prefix and 24 hex digits.
#pragma once

#include <string>

namespace faceweave::server {

std::string new_id(char prefix);
// Whether `s` is `prefix` + '_' + 24 lower-case hex digits (nothing else can reach a file path).
bool is_id(const std::string& s, char prefix);

}  // namespace faceweave::server
