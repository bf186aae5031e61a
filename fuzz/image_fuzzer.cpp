// The image probe and decoder (core/image_io.h) on arbitrary bytes: every input is refused with a Status or
// decodes to 8-bit BGR of the size its header claims, never a crash, a leak or undefined behaviour.
#include <cstdint>
#include <cstdlib>

#include "core/image_io.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace faceweave::core;
  const std::span<const uint8_t> bytes(data, size);
  (void)sniff_image_format(bytes);
  auto info = probe_image(bytes, "the input");
  ImageLimits limits;
  limits.max_pixels = 4'000'000;  // stays inside the fuzzer's memory limit; the checks are the same
  auto image = decode_image(bytes, "the input", limits);
  if (image) {
    if (!info || image->type() != CV_8UC3 || image->cols != info->width || image->rows != info->height)
      std::abort();
  }
  return 0;
}
