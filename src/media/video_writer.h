// Video encoding and muxing on FFmpeg's libraries: libx264, libx265 or libvpx-vp9 with a preset and a CRF
// derived from a 0..100 quality, the input's timestamps (variable frame rate included), rotation and colour
// metadata, and the source's audio (see AudioTrack). Written to a temporary file next to the output and
// renamed by finish(); abort() or destruction without finish() deletes it, so a failed run leaves nothing.
// Not thread-safe: one writer per encode thread.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <opencv2/core.hpp>

#include "faceweave/status.h"
#include "media/video_reader.h"

namespace faceweave::media {

struct VideoWriterOptions {
  std::string path;                 // final output path; the container follows the extension
  std::string encoder = "libx264";  // libx264 | libx265 | libvpx-vp9
  std::string preset = "veryfast";  // ultrafast .. veryslow (x264/x265); mapped to cpu-used for vp9
  int quality = 64;                 // 0..100, see crf_for_quality()
  int width = 0;
  int height = 0;
  Rational time_base;   // of the timestamps passed to write()
  Rational frame_rate;  // nominal rate (metadata and encoder rate control)
  int rotation = 0;     // display rotation to record (degrees)
  int color_primaries = 2, color_trc = 2, color_space = 2, color_range = 0;
  // Audio from the source (none when source_path is empty, the source has none, or volume is 0).
  std::string audio_source;
  int audio_stream = -1;
  int audio_volume = 100;   // 0..100
  double trim_start_s = 0;  // audio window, aligned with the video frames kept
  double trim_end_s = -1;
  int threads = 0;  // encoder threads (0: FFmpeg decides)
  // Container tags (e.g. provenance); MP4/MOV keep arbitrary keys through movflags use_metadata_tags.
  std::vector<std::pair<std::string, std::string>> tags;
};

// The CRF for a 0..100 quality: x264/x265 crf = round((100 - q) * 0.51) (0..51, 64 -> 18),
// vp9 crf = round((100 - q) * 0.63) (0..63).
int crf_for_quality(const std::string& encoder, int quality);

class VideoWriter {
 public:
  static Result<std::unique_ptr<VideoWriter>> create(const VideoWriterOptions& options);
  ~VideoWriter();
  // `pts` is in options.time_base and must increase.
  Status write(const cv::Mat& bgr, int64_t pts);
  // Flushes the encoder and the audio, writes the trailer and renames the file into place.
  Status finish();
  // Deletes the partial output.
  void abort();
  const std::string& temp_path() const { return temp_path_; }

 private:
  VideoWriter() = default;
  Status drain(bool final);
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::string temp_path_;
  bool finished_ = false;
};

}  // namespace faceweave::media
