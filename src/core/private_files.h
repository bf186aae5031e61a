// Owner-only data files: the server's uploads, results and databases hold people's faces, so every folder it
// keeps them in is 0700 and every file 0600, whatever the umask and whatever mode an existing folder had.
#pragma once

#include <string>

#include "faceweave/status.h"

namespace faceweave::core {

constexpr unsigned kPrivateDirMode = 0700;
constexpr unsigned kPrivateFileMode = 0600;

// Creates `dir` (and missing parents) and sets the folder itself to 0700 (parents keep their mode).
Status make_private_dir(const std::string& dir);
// Sets an existing file to 0600; a missing file is not an error (e.g. a database's -wal before first use).
Status make_private_file(const std::string& path);
// Sets the process umask to 077 so that every file and folder it creates from now on is owner-only; returns
// the previous umask.
unsigned restrict_umask();

}  // namespace faceweave::core
