// SHA-256 of files and buffers (OpenSSL EVP), as lower-case hex.
#pragma once

#include <string>
#include <string_view>

#include "faceweave/status.h"

namespace faceweave::infer {

std::string sha256_hex(std::string_view data);
// Streams the file in 1 MiB blocks; memory use does not depend on the file size.
Result<std::string> sha256_file(const std::string& path);

}  // namespace faceweave::infer
