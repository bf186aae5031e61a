// The media probe (probe_media: image or video, decided by content) on arbitrary bytes written to a file, as
// an upload is: a Status or a description with a first frame, never a crash.
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <string>

#include "faceweave/engine.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // An in-memory file, reached by path as the probe expects.
  static const int fd = ::memfd_create("faceweave-fuzz-media", 0);
  if (fd < 0) std::abort();
  if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, data, size, 0) != ssize_t(size)) std::abort();
  const std::string path = "/proc/self/fd/" + std::to_string(fd);
  cv::Mat first;
  auto info = faceweave::probe_media(path, &first, 4'000'000);
  if (info && (first.empty() || info->width <= 0 || info->height <= 0)) std::abort();
  return 0;
}
