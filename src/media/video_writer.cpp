#include "media/video_writer.h"

#include <algorithm>
#include <cmath>
#include <filesystem>

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/display.h>
#include <libavutil/opt.h>
#include <libswscale/swscale.h>
}

#include "core/log.h"
#include "media/audio_track.h"

namespace faceweave::media {
namespace fs = std::filesystem;

int crf_for_quality(const std::string& encoder, int quality) {
  quality = std::clamp(quality, 0, 100);
  const double range = encoder == "libvpx-vp9" ? 63.0 : 51.0;
  return int(std::lround((100 - quality) * range / 100.0));
}

struct VideoWriter::Impl {
  VideoWriterOptions options;
  AVFormatContext* format = nullptr;
  AVCodecContext* codec = nullptr;
  AVStream* stream = nullptr;
  AVFrame* frame = nullptr;
  AVPacket* packet = nullptr;
  SwsContext* sws = nullptr;
  std::unique_ptr<AudioTrack> audio;
  bool header_written = false;
  int64_t first_pts = AV_NOPTS_VALUE;

  ~Impl() {
    audio.reset();
    sws_freeContext(sws);
    av_packet_free(&packet);
    av_frame_free(&frame);
    avcodec_free_context(&codec);
    if (format) {
      if (format->pb) avio_closep(&format->pb);
      avformat_free_context(format);
    }
  }
};

VideoWriter::~VideoWriter() {
  if (!finished_) abort();
}

void VideoWriter::abort() {
  impl_.reset();
  std::error_code ec;
  if (!temp_path_.empty()) fs::remove(temp_path_, ec);
  finished_ = true;
}

Result<std::unique_ptr<VideoWriter>> VideoWriter::create(const VideoWriterOptions& o) {
  if (o.width <= 0 || o.height <= 0 || o.width % 2 || o.height % 2)
    return invalid_argument("output video size must be positive and even (got " + std::to_string(o.width) +
                            "x" + std::to_string(o.height) + ")");
  if (o.time_base.num <= 0 || o.time_base.den <= 0) return invalid_argument("output video needs a time base");
  if (o.encoder != "libx264" && o.encoder != "libx265" && o.encoder != "libvpx-vp9")
    return invalid_argument("unknown video encoder '" + o.encoder + "'; use libx264, libx265 or libvpx-vp9");
  static const char* kPresets[] = {"ultrafast", "superfast", "veryfast", "faster",  "fast",
                                   "medium",    "slow",      "slower",   "veryslow"};
  auto preset_it = std::find(std::begin(kPresets), std::end(kPresets), o.preset);
  if (preset_it == std::end(kPresets))
    return invalid_argument(
        "unknown video preset '" + o.preset +
        "'; use ultrafast, superfast, veryfast, faster, fast, medium, slow, slower or veryslow");
  if (o.quality < 0 || o.quality > 100)
    return invalid_argument("output video quality must be between 0 and 100");

  std::unique_ptr<VideoWriter> w(new VideoWriter());
  w->impl_ = std::make_unique<Impl>();
  Impl& m = *w->impl_;
  m.options = o;
  fs::path final_path(o.path);
  w->temp_path_ = (final_path.parent_path() / ("." + final_path.filename().string() + ".partial")).string();
  if (final_path.parent_path().empty()) w->temp_path_ = "." + final_path.filename().string() + ".partial";

  const AVOutputFormat* ofmt = av_guess_format(nullptr, o.path.c_str(), nullptr);
  if (!ofmt)
    return invalid_argument(
        "output " + o.path +
        ": the extension names no container FFmpeg can write; use .mp4, .mov, .mkv, .webm or .avi");
  int err = avformat_alloc_output_context2(&m.format, ofmt, nullptr, w->temp_path_.c_str());
  if (err < 0) return io_error("cannot set up the output " + o.path + " (" + av_error_text(err) + ")");
  // libx264, the default, cannot go into every container (WebM takes VP8/VP9/AV1 only): with it, the
  // first encoder the container holds is used instead, and said. Another encoder chosen that the
  // container cannot hold is an error.
  std::string encoder = o.encoder;
  if (encoder == "libx264") {
    const AVCodec* x264 = avcodec_find_encoder_by_name("libx264");
    if (x264 && avformat_query_codec(ofmt, x264->id, FF_COMPLIANCE_NORMAL) != 1) {
      for (const char* other : {"libvpx-vp9", "libx265"}) {
        const AVCodec* c = avcodec_find_encoder_by_name(other);
        if (c && avformat_query_codec(ofmt, c->id, FF_COMPLIANCE_NORMAL) == 1) {
          core::log_warning("the " + std::string(ofmt->name) +
                            " container cannot hold H.264 video; encoding " + other + " instead");
          encoder = other;
          break;
        }
      }
    }
  }
  const AVCodec* enc = avcodec_find_encoder_by_name(encoder.c_str());
  if (!enc) return unsupported("this FFmpeg build has no " + encoder + " encoder");
  if (avformat_query_codec(ofmt, enc->id, FF_COMPLIANCE_NORMAL) != 1)
    return invalid_argument(
        "the " + std::string(ofmt->name) + " container cannot hold " + encoder +
        " video; pick another extension, or leave the encoder out to get one the container holds");
  m.stream = avformat_new_stream(m.format, nullptr);
  m.codec = avcodec_alloc_context3(enc);
  m.codec->width = o.width;
  m.codec->height = o.height;
  m.codec->pix_fmt = AV_PIX_FMT_YUV420P;
  m.codec->time_base = {o.time_base.num, o.time_base.den};
  if (o.frame_rate.num > 0) m.codec->framerate = {o.frame_rate.num, o.frame_rate.den};
  m.codec->color_primaries = AVColorPrimaries(o.color_primaries);
  m.codec->color_trc = AVColorTransferCharacteristic(o.color_trc);
  m.codec->colorspace = AVColorSpace(o.color_space);
  m.codec->color_range = o.color_range ? AVColorRange(o.color_range) : AVCOL_RANGE_MPEG;
  m.codec->thread_count = o.threads;
  if (m.format->oformat->flags & AVFMT_GLOBALHEADER) m.codec->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
  const int crf = crf_for_quality(encoder, o.quality);
  if (encoder == "libvpx-vp9") {
    av_opt_set_int(m.codec->priv_data, "crf", crf, 0);
    m.codec->bit_rate = 0;
    const int cpu_used =
        std::clamp(int(std::end(kPresets) - preset_it) - 4, 0, 5);  // ultrafast -> 5, veryslow -> 0
    av_opt_set_int(m.codec->priv_data, "cpu-used", cpu_used, 0);
    av_opt_set(m.codec->priv_data, "deadline", cpu_used >= 4 ? "realtime" : "good", 0);
    av_opt_set_int(m.codec->priv_data, "row-mt", 1, 0);
  } else {
    av_opt_set(m.codec->priv_data, "preset", o.preset.c_str(), 0);
    av_opt_set(m.codec->priv_data, "crf", std::to_string(crf).c_str(), 0);
    if (encoder == "libx265") av_opt_set(m.codec->priv_data, "x265-params", "log-level=error", 0);
  }
  err = avcodec_open2(m.codec, enc, nullptr);
  if (err < 0) return unsupported("the " + encoder + " encoder failed to open (" + av_error_text(err) + ")");
  avcodec_parameters_from_context(m.stream->codecpar, m.codec);
  m.stream->time_base = m.codec->time_base;
  if (o.frame_rate.num > 0) m.stream->avg_frame_rate = {o.frame_rate.num, o.frame_rate.den};
  if (o.rotation % 360) {
    auto* matrix = reinterpret_cast<int32_t*>(
        av_stream_new_side_data(m.stream, AV_PKT_DATA_DISPLAYMATRIX, 9 * sizeof(int32_t)));
    if (matrix) av_display_rotation_set(matrix, -double(o.rotation));
  }
  if (!o.audio_source.empty() && o.audio_stream >= 0 && o.audio_volume > 0) {
    FW_ASSIGN_OR_RETURN(m.audio, AudioTrack::create({o.audio_source, o.audio_stream, o.trim_start_s,
                                                     o.trim_end_s, o.audio_volume},
                                                    m.format));
  }
  err = avio_open(&m.format->pb, w->temp_path_.c_str(), AVIO_FLAG_WRITE);
  if (err < 0)
    return io_error("cannot write " + w->temp_path_ + " (" + av_error_text(err) +
                    "); check the output folder exists and is writable");
  for (const auto& [key, value] : o.tags) av_dict_set(&m.format->metadata, key.c_str(), value.c_str(), 0);
  AVDictionary* mux_options = nullptr;
  if (!o.tags.empty()) av_dict_set(&mux_options, "movflags", "use_metadata_tags", 0);  // ignored by others
  err = avformat_write_header(m.format, &mux_options);
  av_dict_free(&mux_options);
  if (err < 0) {
    w->abort();
    return io_error("cannot start the output " + o.path + " (" + av_error_text(err) + ")");
  }
  m.header_written = true;
  m.frame = av_frame_alloc();
  m.frame->format = m.codec->pix_fmt;
  m.frame->width = o.width;
  m.frame->height = o.height;
  av_frame_get_buffer(m.frame, 0);
  m.packet = av_packet_alloc();
  return w;
}

Status VideoWriter::drain(bool final) {
  Impl& m = *impl_;
  while (true) {
    int err = avcodec_receive_packet(m.codec, m.packet);
    if (err == AVERROR(EAGAIN) || err == AVERROR_EOF) break;
    if (err < 0) return io_error("video encoding failed (" + av_error_text(err) + ")");
    av_packet_rescale_ts(m.packet, m.codec->time_base, m.stream->time_base);
    m.packet->stream_index = m.stream->index;
    const double t = double(m.packet->dts) * av_q2d(m.stream->time_base);
    err = av_interleaved_write_frame(m.format, m.packet);
    if (err < 0) return io_error("writing video failed (" + av_error_text(err) + "); is the disk full?");
    if (m.audio) FW_RETURN_IF_ERROR(m.audio->pump(t, false));
  }
  if (final && m.audio) FW_RETURN_IF_ERROR(m.audio->pump(0, true));
  return Status::ok();
}

Status VideoWriter::write(const cv::Mat& bgr, int64_t pts) {
  if (!impl_) return internal_error("the video writer was already finished or aborted");
  Impl& m = *impl_;
  if (bgr.cols != m.options.width || bgr.rows != m.options.height || bgr.type() != CV_8UC3)
    return invalid_argument("frame size " + std::to_string(bgr.cols) + "x" + std::to_string(bgr.rows) +
                            " does not match the output's " + std::to_string(m.options.width) + "x" +
                            std::to_string(m.options.height));
  if (m.first_pts == AV_NOPTS_VALUE) m.first_pts = pts;
  m.sws = sws_getCachedContext(m.sws, bgr.cols, bgr.rows, AV_PIX_FMT_BGR24, bgr.cols, bgr.rows,
                               AV_PIX_FMT_YUV420P, SWS_BILINEAR, nullptr, nullptr, nullptr);
  av_frame_make_writable(m.frame);
  const uint8_t* src[4] = {bgr.data, nullptr, nullptr, nullptr};
  int src_stride[4] = {int(bgr.step[0]), 0, 0, 0};
  sws_scale(m.sws, src, src_stride, 0, bgr.rows, m.frame->data, m.frame->linesize);
  m.frame->pts = pts - m.first_pts;  // the output starts at 0, like the audio window
  int err = avcodec_send_frame(m.codec, m.frame);
  if (err < 0) return io_error("video encoding failed (" + av_error_text(err) + ")");
  return drain(false);
}

Status VideoWriter::finish() {
  if (!impl_) return internal_error("the video writer was already finished or aborted");
  Impl& m = *impl_;
  avcodec_send_frame(m.codec, nullptr);
  Status s = drain(true);
  if (s.is_ok()) {
    int err = av_write_trailer(m.format);
    if (err < 0) s = io_error("finishing the output failed (" + av_error_text(err) + ")");
  }
  if (!s.is_ok()) {
    abort();
    return s;
  }
  const std::string path = m.options.path;
  impl_.reset();  // closes the file
  std::error_code ec;
  fs::rename(temp_path_, path, ec);
  if (ec) {
    fs::remove(temp_path_, ec);
    finished_ = true;
    return io_error("cannot move the output into place at " + path + ": " + ec.message());
  }
  finished_ = true;
  return Status::ok();
}

}  // namespace faceweave::media
