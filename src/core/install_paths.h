// Where an installed faceweave keeps its read-only data (the model manifest, the web UI): <prefix>/share/
// faceweave, found from the file this code was loaded from (the faceweave binary or libfaceweave.so), so an
// install works under any prefix (`cmake --install --prefix DIR`, the .deb's /usr).
#pragma once

#include <string>

namespace faceweave::core {

// <prefix>/share/faceweave/<name> when it exists, else "" (a build tree, or nothing installed).
std::string installed_data_path(const std::string& name);

// `build_path` when it exists (running from the build tree), else the installed copy of `name`, else
// `build_path` (so the error names the path that was expected).
std::string build_or_installed(const std::string& build_path, const std::string& name);

}  // namespace faceweave::core
