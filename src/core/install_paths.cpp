#include "core/install_paths.h"

#include <dlfcn.h>

#include <filesystem>

namespace faceweave::core {
namespace fs = std::filesystem;

std::string installed_data_path(const std::string& name) {
  // The file holding this function: libfaceweave.so, or the executable it is linked into (for which
  // dladdr gives no usable path: /proc/self/exe does).
  Dl_info info{};
  std::error_code ec;
  fs::path file;
  if (dladdr(reinterpret_cast<void*>(&installed_data_path), &info) != 0 && info.dli_fname != nullptr)
    file = info.dli_fname;
  if (!file.is_absolute()) file = fs::read_symlink("/proc/self/exe", ec);
  if (file.empty()) return "";
  fs::path here = fs::weakly_canonical(file, ec).parent_path();
  // bin/faceweave, lib/libfaceweave.so and lib/<multiarch>/libfaceweave.so: share/ is one or two levels up.
  for (int up = 0; up < 3 && !here.empty(); ++up, here = here.parent_path()) {
    const fs::path candidate = here / "share" / "faceweave" / name;
    if (fs::exists(candidate, ec)) return candidate.string();
    if (here == here.root_path()) break;
  }
  return "";
}

std::string build_or_installed(const std::string& build_path, const std::string& name) {
  std::error_code ec;
  if (!build_path.empty() && fs::exists(build_path, ec)) return build_path;
  std::string installed = installed_data_path(name);
  return installed.empty() ? build_path : installed;
}

}  // namespace faceweave::core
