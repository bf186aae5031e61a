// Safe image loading. Every check that can be made before decoding is made before decoding: the file
// exists and is readable, is not empty, its bytes are a known image format, its header dimensions are
// within limits (a header that claims 30000x30000 is refused without allocating), and the compressed
// stream is complete (a JPEG without its end marker is refused instead of decoding to grey).
// Output: 8-bit BGR (alpha dropped, grey expanded, 16-bit scaled). Thread-safe: no shared state.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <opencv2/core.hpp>

#include "core/pixel_budget.h"
#include "faceweave/status.h"

namespace faceweave::core {

enum class ImageFormat { kJpeg, kPng, kBmp, kWebp };
const char* image_format_name(ImageFormat format);

struct ImageInfo {
  ImageFormat format = ImageFormat::kJpeg;
  int width = 0;
  int height = 0;
};

struct ImageLimits {
  int max_side = 16384;                // longest side accepted, in pixels
  int64_t max_pixels = 100'000'000;    // width x height accepted
  int64_t max_file_bytes = 256 << 20;  // compressed size accepted
  // The pixels of a decode are reserved here for its duration (nullptr: PixelBudget::global()).
  PixelBudget* budget = nullptr;
};

// The image format by signature alone (the first 12 bytes suffice); nullopt when none matches.
std::optional<ImageFormat> sniff_image_format(std::span<const uint8_t> bytes);

// Reads only the header of an in-memory image. `what` names the input in error messages.
Result<ImageInfo> probe_image(std::span<const uint8_t> bytes, const std::string& what);

// Decodes an in-memory image after all checks above.
Result<cv::Mat> decode_image(std::span<const uint8_t> bytes, const std::string& what,
                             const ImageLimits& limits = {});

// Reads and decodes a file after all checks above.
Result<cv::Mat> load_image(const std::string& path, const ImageLimits& limits = {});

// Reads a whole file (with the same existence/permission/size errors as load_image).
Result<std::string> read_file(const std::string& path, int64_t max_bytes);

// Encodes to the format implied by the extension of `path` (jpg, jpeg, png, webp, bmp) and writes it
// through a temporary file that is renamed into place, so a failed write leaves no partial output.
Status save_image(const std::string& path, const cv::Mat& bgr, int quality = 95);
// The same, with `edit` applied to the encoded bytes before they are written (e.g. to add metadata), so the
// file is written once.
Status save_image(const std::string& path, const cv::Mat& bgr, int quality,
                  const std::function<Status(std::vector<uint8_t>& encoded)>& edit);

}  // namespace faceweave::core
