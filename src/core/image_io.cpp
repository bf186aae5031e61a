#include "core/image_io.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string_view>
#include <vector>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

namespace faceweave::core {
namespace {

uint32_t be16(const uint8_t* p) {
  return (uint32_t(p[0]) << 8) | p[1];
}
uint32_t be32(const uint8_t* p) {
  return (be16(p) << 16) | be16(p + 2);
}
uint32_t le16(const uint8_t* p) {
  return uint32_t(p[0]) | (uint32_t(p[1]) << 8);
}
uint32_t le24(const uint8_t* p) {
  return le16(p) | (uint32_t(p[2]) << 16);
}
uint32_t le32(const uint8_t* p) {
  return le16(p) | (le16(p + 2) << 16);
}

bool starts_with(std::span<const uint8_t> b, std::string_view magic, size_t offset = 0) {
  if (b.size() < offset + magic.size()) return false;
  return std::memcmp(b.data() + offset, magic.data(), magic.size()) == 0;
}

constexpr const char* kFormatsHint = "supported formats are JPEG, PNG, WebP and BMP";

struct JpegScan {
  int width = 0;
  int height = 0;
  size_t first_scan = 0;  // offset of the first SOS marker; 0 when none was found
};

Result<JpegScan> parse_jpeg(std::span<const uint8_t> b, const std::string& what) {
  JpegScan scan;
  size_t i = 2;
  while (i + 4 <= b.size()) {
    if (b[i] != 0xFF)
      return invalid_input(what + " is a corrupt JPEG (bad marker at byte " + std::to_string(i) + ")");
    uint8_t marker = b[i + 1];
    if (marker == 0xFF) {  // fill byte
      ++i;
      continue;
    }
    if (marker == 0xD8 || marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7)) {
      i += 2;
      continue;
    }
    uint32_t len = be16(&b[i + 2]);
    if (len < 2 || i + 2 + len > b.size()) break;
    bool sof = marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC;
    if (sof && len >= 7) {
      scan.height = int(be16(&b[i + 5]));
      scan.width = int(be16(&b[i + 7]));
    }
    if (marker == 0xDA) {
      scan.first_scan = i;
      break;
    }
    i += 2 + len;
  }
  if (scan.width <= 0 || scan.height <= 0)
    return invalid_input(
        what + " is a JPEG whose header has no usable frame size (the file is truncated or corrupt)");
  if (scan.first_scan == 0)
    return invalid_input(what + " is a truncated JPEG: it ends before the image data");
  return scan;
}

}  // namespace

const char* image_format_name(ImageFormat format) {
  switch (format) {
    case ImageFormat::kJpeg:
      return "jpeg";
    case ImageFormat::kPng:
      return "png";
    case ImageFormat::kBmp:
      return "bmp";
    case ImageFormat::kWebp:
      return "webp";
  }
  return "unknown";
}

std::optional<ImageFormat> sniff_image_format(std::span<const uint8_t> b) {
  if (b.size() >= 3 && b[0] == 0xFF && b[1] == 0xD8 && b[2] == 0xFF) return ImageFormat::kJpeg;
  if (starts_with(b, "\x89PNG\r\n\x1a\n")) return ImageFormat::kPng;
  if (starts_with(b, "BM")) return ImageFormat::kBmp;
  if (starts_with(b, "RIFF") && starts_with(b, "WEBP", 8)) return ImageFormat::kWebp;
  return std::nullopt;
}

Result<ImageInfo> probe_image(std::span<const uint8_t> b, const std::string& what) {
  if (b.empty()) return invalid_input(what + " is empty (0 bytes); give an image file");
  ImageInfo info;
  if (b.size() >= 3 && b[0] == 0xFF && b[1] == 0xD8 && b[2] == 0xFF) {
    FW_ASSIGN_OR_RETURN(JpegScan scan, parse_jpeg(b, what));
    info = {ImageFormat::kJpeg, scan.width, scan.height};
  } else if (starts_with(b, "\x89PNG\r\n\x1a\n")) {
    if (b.size() < 24 || !starts_with(b, "IHDR", 12))
      return invalid_input(what + " is a truncated PNG (no IHDR header)");
    info = {ImageFormat::kPng, int(std::min<uint32_t>(be32(&b[16]), INT32_MAX)),
            int(std::min<uint32_t>(be32(&b[20]), INT32_MAX))};
  } else if (starts_with(b, "BM")) {
    if (b.size() < 26) return invalid_input(what + " is a truncated BMP (header incomplete)");
    int32_t w = int32_t(le32(&b[18]));
    int32_t h = int32_t(le32(&b[22]));
    if (w == INT32_MIN || h == INT32_MIN) return invalid_input(what + " is a corrupt BMP (bad size)");
    info = {ImageFormat::kBmp, std::abs(w), std::abs(h)};
  } else if (starts_with(b, "RIFF") && starts_with(b, "WEBP", 8)) {
    if (b.size() < 30) return invalid_input(what + " is a truncated WebP (header incomplete)");
    info.format = ImageFormat::kWebp;
    if (starts_with(b, "VP8X", 12)) {
      info.width = int(le24(&b[24]) + 1);
      info.height = int(le24(&b[27]) + 1);
    } else if (starts_with(b, "VP8L", 12)) {
      uint32_t bits = le32(&b[21]);
      info.width = int((bits & 0x3FFF) + 1);
      info.height = int(((bits >> 14) & 0x3FFF) + 1);
    } else if (starts_with(b, "VP8 ", 12)) {
      info.width = int(le16(&b[26]) & 0x3FFF);
      info.height = int(le16(&b[28]) & 0x3FFF);
    } else {
      return invalid_input(what + " is a WebP with an unknown chunk layout");
    }
  } else {
    return invalid_input(what + " is not an image: its content is not JPEG, PNG, WebP or BMP (" +
                         kFormatsHint + "; the file name's extension is not trusted)");
  }
  if (info.width <= 0 || info.height <= 0)
    return invalid_input(what + " has an empty frame size in its header (" + std::to_string(info.width) +
                         "x" + std::to_string(info.height) + ")");
  return info;
}

Result<cv::Mat> decode_image(std::span<const uint8_t> b, const std::string& what, const ImageLimits& limits) {
  if (int64_t(b.size()) > limits.max_file_bytes)
    return invalid_input(what + " is " + std::to_string(b.size()) + " bytes, over the limit of " +
                         std::to_string(limits.max_file_bytes) + " bytes");
  FW_ASSIGN_OR_RETURN(ImageInfo info, probe_image(b, what));
  const std::string dims = std::to_string(info.width) + "x" + std::to_string(info.height);
  if (info.width > limits.max_side || info.height > limits.max_side ||
      int64_t(info.width) * info.height > limits.max_pixels)
    return invalid_input(what + " claims to be " + dims + " pixels, over the limit of " +
                         std::to_string(limits.max_side) + " per side and " +
                         std::to_string(limits.max_pixels) + " pixels; scale it down first");
  if (info.format == ImageFormat::kJpeg) {
    // Entropy-coded data never contains 0xFFD9, so an end marker after the first scan means the file is
    // complete.
    auto scan = parse_jpeg(b, what);
    bool has_eoi = false;
    for (size_t i = b.size() - 1; i > scan->first_scan + 1; --i) {
      if (b[i] == 0xD9 && b[i - 1] == 0xFF) {
        has_eoi = true;
        break;
      }
    }
    if (!has_eoi)
      return invalid_input(what +
                           " is a truncated JPEG (no end-of-image marker); re-export or re-download it");
  } else if (info.format == ImageFormat::kPng) {
    size_t tail = std::min<size_t>(b.size(), 64);
    std::string_view end(reinterpret_cast<const char*>(b.data() + b.size() - tail), tail);
    if (end.find("IEND") == std::string_view::npos)
      return invalid_input(what + " is a truncated PNG (no IEND chunk); re-export or re-download it");
  }

  // OpenCV chooses its decoder by content, not by the sniff above: a file that starts like a WebP (but fails
  // libwebp's stricter check) and carries DICOM's "DICM" at byte 128 went to the DICOM reader, whose failed
  // assertion aborted the whole process (found by fuzz/image_fuzzer.cpp). Such a polyglot is refused.
  if (b.size() >= 132 && std::memcmp(b.data() + 128, "DICM", 4) == 0)
    return invalid_input(what + " also carries a DICOM signature; it is not a plain " +
                         image_format_name(info.format) + " (re-export it)");
  // Waits while other decodes hold the process's pixel budget; released when this decode returns.
  PixelBudget& budget = limits.budget ? *limits.budget : PixelBudget::global();
  const PixelBudget::Lease lease = budget.acquire(int64_t(info.width) * info.height);
  cv::Mat decoded;
  try {
    cv::Mat raw(1, int(b.size()), CV_8UC1, const_cast<uint8_t*>(b.data()));
    decoded = cv::imdecode(raw, cv::IMREAD_UNCHANGED | cv::IMREAD_IGNORE_ORIENTATION);
  } catch (const cv::Exception& e) {
    return invalid_input(what + " could not be decoded as " + image_format_name(info.format) + ": " +
                         e.what());
  }
  if (decoded.empty())
    return invalid_input(what + " could not be decoded as " + std::string(image_format_name(info.format)) +
                         " (corrupt data)");
  if (decoded.cols != info.width || decoded.rows != info.height)
    return invalid_input(what + " decoded to a different size than its header says (corrupt file)");
  if (decoded.depth() == CV_16U) decoded.convertTo(decoded, CV_8U, 1.0 / 257.0);
  if (decoded.depth() != CV_8U)
    return unsupported(what + " has an unsupported pixel depth; use 8-bit images");
  cv::Mat bgr;
  switch (decoded.channels()) {
    case 1:
      cv::cvtColor(decoded, bgr, cv::COLOR_GRAY2BGR);
      break;
    case 3:
      bgr = decoded;
      break;
    case 4:
      cv::cvtColor(decoded, bgr, cv::COLOR_BGRA2BGR);
      break;
    default:
      return unsupported(what + " has " + std::to_string(decoded.channels()) + " channels; use RGB images");
  }
  return bgr;
}

Result<std::string> read_file(const std::string& path, int64_t max_bytes) {
  namespace fs = std::filesystem;
  std::error_code ec;
  auto status = fs::status(path, ec);
  if (ec && ec != std::errc::no_such_file_or_directory) {
    if (ec == std::errc::permission_denied)
      return permission_denied(path + " cannot be reached (permission denied on a folder in its path)");
    return io_error("cannot look up " + path + ": " + ec.message());
  }
  if (!fs::exists(status)) return not_found(path + " does not exist; check the path");
  if (fs::is_directory(status)) return invalid_input(path + " is a folder, not a file");
  auto size = fs::file_size(path, ec);
  if (ec) return io_error("cannot read the size of " + path + ": " + ec.message());
  if (int64_t(size) > max_bytes)
    return invalid_input(path + " is " + std::to_string(size) + " bytes, over the limit of " +
                         std::to_string(max_bytes) + " bytes");
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    int err = errno;
    if (err == EACCES)
      return permission_denied(path + " cannot be read (permission denied); check its permissions");
    return io_error("cannot open " + path + ": " + std::strerror(err));
  }
  std::string data(size, '\0');
  in.read(data.data(), std::streamsize(size));
  if (!in) return io_error("reading " + path + " stopped early; is it being written to?");
  return data;
}

Result<cv::Mat> load_image(const std::string& path, const ImageLimits& limits) {
  FW_ASSIGN_OR_RETURN(std::string data, read_file(path, limits.max_file_bytes));
  return decode_image({reinterpret_cast<const uint8_t*>(data.data()), data.size()}, path, limits);
}

Status save_image(const std::string& path, const cv::Mat& bgr, int quality) {
  return save_image(path, bgr, quality, {});
}

Status save_image(const std::string& path, const cv::Mat& bgr, int quality,
                  const std::function<Status(std::vector<uint8_t>& encoded)>& edit) {
  namespace fs = std::filesystem;
  std::string ext = fs::path(path).extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return char(std::tolower(c)); });
  std::vector<int> params;
  quality = std::clamp(quality, 0, 100);
  if (ext == ".jpg" || ext == ".jpeg") {
    params = {cv::IMWRITE_JPEG_QUALITY, quality};
  } else if (ext == ".webp") {
    params = {cv::IMWRITE_WEBP_QUALITY, std::max(1, quality)};
  } else if (ext == ".png") {
    params = {cv::IMWRITE_PNG_COMPRESSION, 3};
  } else if (ext != ".bmp") {
    return invalid_argument("cannot write " + path + ": the extension '" + ext +
                            "' is not one of .jpg, .jpeg, .png, .webp, .bmp");
  }
  if (bgr.empty()) return invalid_argument("cannot write " + path + ": the image is empty");
  std::vector<uint8_t> encoded;
  try {
    if (!cv::imencode(ext, bgr, encoded, params)) return io_error("encoding " + path + " failed");
  } catch (const cv::Exception& e) {
    return io_error("encoding " + path + " failed: " + e.what());
  }
  if (edit) FW_RETURN_IF_ERROR(edit(encoded));
  fs::path target(path);
  fs::path tmp = target;
  tmp += ".partial";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    const int err = errno;
    // A folder the user may not write to is a permission problem (exit 7, as for swap), not an I/O error.
    if (!out && (err == EACCES || err == EPERM || err == EROFS))
      return permission_denied("cannot write " + path + ": " + std::strerror(err) +
                               "; the folder is not writable, choose another path");
    if (!out)
      return io_error("cannot write " + tmp.string() + ": " + std::strerror(err) +
                      "; check the folder exists and is writable");
    out.write(reinterpret_cast<const char*>(encoded.data()), std::streamsize(encoded.size()));
    out.close();
    if (!out) {
      std::error_code ignored;
      fs::remove(tmp, ignored);
      return io_error("writing " + path + " failed (disk full?)");
    }
  }
  std::error_code ec;
  fs::rename(tmp, target, ec);
  if (ec) {
    fs::remove(tmp, ec);
    return io_error("cannot move the output into place at " + path + ": " + ec.message());
  }
  return Status::ok();
}

}  // namespace faceweave::core
