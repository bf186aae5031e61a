// Video decoding on FFmpeg's libraries (libavformat + libavcodec + libswscale): whatever FFmpeg reads (mp4,
// mov, mkv, webm, avi, ...). Frames come out as 8-bit BGR in the stream's stored orientation, with their
// presentation timestamps, so the writer can keep the input's timing (variable frame rate included).
// Not thread-safe: one reader per decode thread.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include <opencv2/core.hpp>

#include "faceweave/status.h"

struct AVFormatContext;
struct AVCodecContext;
struct AVFrame;
struct AVPacket;
struct SwsContext;

namespace faceweave::media {

struct Rational {
  int num = 0;
  int den = 1;
  double value() const { return den ? double(num) / den : 0.0; }
};

struct VideoInfo {
  int width = 0;
  int height = 0;
  std::string codec;        // decoder name, e.g. "h264"
  Rational time_base;       // of the video stream
  Rational frame_rate;      // average frame rate (r_frame_rate when unknown)
  int64_t frame_count = 0;  // from the container, or estimated from duration x rate; 0 when unknown
  double duration_s = 0;
  int rotation = 0;         // degrees the player rotates the stored picture (0, 90, 180, 270)
  int color_primaries = 2;  // AVColorPrimaries (2 = unspecified)
  int color_trc = 2;        // AVColorTransferCharacteristic
  int color_space = 2;      // AVColorSpace
  int color_range = 0;      // AVColorRange (0 = unspecified)
  bool has_audio = false;
  std::string audio_codec;
  double audio_duration_s = 0;  // from the container; 0 when unknown
  int audio_stream = -1;        // index in the container
  int video_stream = -1;
};

struct VideoFrame {
  cv::Mat bgr;
  int64_t pts = 0;    // in the stream's time base
  double time_s = 0;  // pts in seconds from the stream's start
  int64_t index = 0;  // decode order of output frames, from 0
};

class VideoReader {
 public:
  // Fails with a clear message for a missing, empty, audio-only, unreadable or undecodable file.
  static Result<std::unique_ptr<VideoReader>> open(const std::string& path);
  ~VideoReader();

  const VideoInfo& info() const { return info_; }
  // The next frame; false at the end of the stream. A damaged stream ends early: damaged() then says so and
  // damage() tells what happened.
  Result<bool> read(VideoFrame& frame);
  bool damaged() const { return !damage_.empty(); }
  // The extension that fits the container (from its content): mp4, mov, webm, mkv or avi; mkv for
  // anything else FFmpeg reads, as Matroska holds every codec.
  std::string container_extension() const;
  const std::string& damage() const { return damage_; }

 private:
  VideoReader() = default;
  Result<bool> receive(VideoFrame& frame);

  std::string path_;
  VideoInfo info_;
  AVFormatContext* format_ = nullptr;
  AVCodecContext* codec_ = nullptr;
  AVFrame* decoded_ = nullptr;
  AVPacket* packet_ = nullptr;
  SwsContext* sws_ = nullptr;
  int64_t start_pts_ = 0;
  int64_t next_index_ = 0;
  int64_t last_pts_ = INT64_MIN;
  bool flushing_ = false;
  bool finished_ = false;
  std::string damage_;
};

// FFmpeg's error text for an error code.
std::string av_error_text(int err);

}  // namespace faceweave::media
