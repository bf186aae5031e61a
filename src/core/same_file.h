// Whether two paths name the same file: the same path once made canonical (symbolic links followed), or,
// when both exist, the same device and inode (hard links, bind mounts).
#pragma once

#include <string>

namespace faceweave::core {

bool same_file(const std::string& a, const std::string& b);

}  // namespace faceweave::core
