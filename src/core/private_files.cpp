#include "core/private_files.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <system_error>

namespace faceweave::core {
namespace fs = std::filesystem;

Status make_private_dir(const std::string& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec)
    return io_error("cannot create the folder " + dir + " (" + ec.message() +
                    "); choose another data dir with --data-dir or FACEWEAVE_DATA_DIR");
  if (::chmod(dir.c_str(), kPrivateDirMode) != 0)
    return io_error("cannot make the folder " + dir + " private (" + std::strerror(errno) +
                    "); check who owns it");
  return Status::ok();
}

Status make_private_file(const std::string& path) {
  if (::chmod(path.c_str(), kPrivateFileMode) == 0 || errno == ENOENT) return Status::ok();
  return io_error("cannot make " + path + " private (" + std::strerror(errno) + "); check who owns it");
}

unsigned restrict_umask() {
  return unsigned(::umask(077));
}

}  // namespace faceweave::core
