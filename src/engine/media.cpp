// probe_media and load_frame: what an uploaded or named file holds, decided by its content.
#include <algorithm>
#include <array>
#include <filesystem>

#include "core/image_io.h"
#include "faceweave/engine.h"
#include "media/video_reader.h"

namespace faceweave {
namespace {

const char* image_extension(core::ImageFormat f) {
  switch (f) {
    case core::ImageFormat::kJpeg:
      return "jpg";
    case core::ImageFormat::kPng:
      return "png";
    case core::ImageFormat::kWebp:
      return "webp";
    case core::ImageFormat::kBmp:
      return "bmp";
  }
  return "jpg";
}

// The first bytes of a file: enough for every image signature.
Result<std::string> head(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return not_found(path + " does not exist");
  FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return permission_denied("cannot read " + path + "; check its permissions");
  std::string bytes(64, '\0');
  bytes.resize(std::fread(bytes.data(), 1, bytes.size(), f));
  std::fclose(f);
  if (bytes.empty()) return invalid_input(path + " is empty");
  return bytes;
}

}  // namespace

Result<MediaInfo> probe_media(const std::string& path, cv::Mat* first_frame, int64_t max_image_pixels) {
  FW_ASSIGN_OR_RETURN(auto bytes, head(path));
  const auto* data = reinterpret_cast<const uint8_t*>(bytes.data());
  if (auto format = core::sniff_image_format({data, bytes.size()})) {
    // An image signature: decode it in full, so a damaged or oversized image is refused here.
    core::ImageLimits limits;
    if (max_image_pixels > 0) limits.max_pixels = max_image_pixels;
    FW_ASSIGN_OR_RETURN(cv::Mat image, core::load_image(path, limits));
    MediaInfo m;
    m.kind = "image";
    m.format = image_extension(*format);
    m.width = image.cols;
    m.height = image.rows;
    if (first_frame) *first_frame = std::move(image);
    return m;
  }
  auto reader = media::VideoReader::open(path);
  if (!reader)
    return invalid_input(path + " is neither an image faceweave decodes (jpg, png, webp, bmp) nor a video (" +
                         reader.status().message() + ")");
  const media::VideoInfo& v = (*reader)->info();
  MediaInfo m;
  m.kind = "video";
  m.format = (*reader)->container_extension();
  m.width = v.width;
  m.height = v.height;
  m.frames = v.frame_count;
  m.fps = v.frame_rate.value();
  m.duration_s = v.duration_s;
  m.has_audio = v.has_audio;
  // A video must yield a first frame to count as one.
  media::VideoFrame frame;
  FW_ASSIGN_OR_RETURN(bool got, (*reader)->read(frame));
  if (!got) return invalid_input(path + " holds a video stream with no decodable frame");
  if (first_frame) *first_frame = std::move(frame.bgr);
  return m;
}

Result<cv::Mat> load_frame(const std::string& path, int64_t index) {
  if (index < 0) return invalid_argument("frame index must be 0 or more (got " + std::to_string(index) + ")");
  FW_ASSIGN_OR_RETURN(auto bytes, head(path));
  const auto* data = reinterpret_cast<const uint8_t*>(bytes.data());
  if (core::sniff_image_format({data, bytes.size()})) {
    if (index != 0) return invalid_argument(path + " is an image: only frame 0 exists");
    return core::load_image(path);
  }
  FW_ASSIGN_OR_RETURN(auto reader, media::VideoReader::open(path));
  media::VideoFrame frame;
  for (int64_t i = 0; i <= index; ++i) {
    FW_ASSIGN_OR_RETURN(bool got, reader->read(frame));
    if (!got)
      return invalid_argument("frame " + std::to_string(index) + " is past the end of " + path + " (" +
                              std::to_string(i) + " frames)");
  }
  return frame.bgr;
}

}  // namespace faceweave
