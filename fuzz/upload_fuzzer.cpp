// The upload path after the transport: the client's file name made a display name, the bytes staged in
// the upload store and checked (size limits, content decoded with the pixel limit), then discarded.
// Input: the client's file name, a 0 byte, the file's bytes.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>

#include "server/uploads.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace faceweave::server;
  static const std::string root = [] {
    std::string tmpl = (std::filesystem::temp_directory_path() / "faceweave-fuzz-XXXXXX").string();
    if (!::mkdtemp(tmpl.data())) std::abort();
    return tmpl;
  }();
  static UploadStore store(root, UploadLimits{1 << 20, 4 << 20, 4'000'000}, 1);
  const char* text = reinterpret_cast<const char*>(data);
  const void* nul = std::memchr(data, 0, size);
  const size_t name_len = nul ? size_t(static_cast<const uint8_t*>(nul) - data) : 0;
  const std::string name(text, name_len);
  const std::string shown = upload_display_name(name);
  if (shown.size() > 80 || shown.find('/') != std::string::npos) std::abort();
  for (char c : shown)
    if (c < 32 || c > 126) std::abort();
  auto staged = store.stage();
  if (!staged) std::abort();
  staged->client_name = name;
  const size_t skip = nul ? name_len + 1 : 0;
  {
    std::ofstream out(staged->path, std::ios::binary);
    out.write(text + skip, std::streamsize(size - skip));
  }
  staged->bytes = int64_t(size - skip);
  cv::Mat first;
  auto info = store.check(*staged, &first);
  if (info && first.empty()) std::abort();
  store.discard(*staged);
  return 0;
}
