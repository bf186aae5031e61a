#include "media/video_reader.h"

#include <filesystem>

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/display.h>
#include <libavutil/imgutils.h>
#include <libswscale/swscale.h>
}

namespace faceweave::media {

std::string av_error_text(int err) {
  char buf[AV_ERROR_MAX_STRING_SIZE] = {0};
  av_strerror(err, buf, sizeof(buf));
  return buf;
}

VideoReader::~VideoReader() {
  sws_freeContext(sws_);
  av_packet_free(&packet_);
  av_frame_free(&decoded_);
  avcodec_free_context(&codec_);
  avformat_close_input(&format_);
}

Result<std::unique_ptr<VideoReader>> VideoReader::open(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::exists(path, ec)) return not_found(path + " does not exist; check the path");
  if (fs::is_directory(path, ec)) return invalid_input(path + " is a folder, not a video file");
  if (fs::file_size(path, ec) == 0) return invalid_input(path + " is empty (0 bytes); give a video file");

  std::unique_ptr<VideoReader> r(new VideoReader());
  r->path_ = path;
  av_log_set_level(AV_LOG_ERROR);
  int err = avformat_open_input(&r->format_, path.c_str(), nullptr, nullptr);
  if (err < 0) return invalid_input(path + " is not a video FFmpeg can read (" + av_error_text(err) + ")");
  err = avformat_find_stream_info(r->format_, nullptr);
  if (err < 0)
    return invalid_input(path + ": cannot read its stream information (" + av_error_text(err) + ")");

  const AVCodec* decoder = nullptr;
  int vs = av_find_best_stream(r->format_, AVMEDIA_TYPE_VIDEO, -1, -1, &decoder, 0);
  if (vs == AVERROR_STREAM_NOT_FOUND)
    return invalid_input(path + " has no video stream (audio-only or data file); give a video");
  if (vs == AVERROR_DECODER_NOT_FOUND || !decoder)
    return unsupported(path + ": its video codec cannot be decoded by this FFmpeg build");
  if (vs < 0) return invalid_input(path + ": no usable video stream (" + av_error_text(vs) + ")");
  AVStream* stream = r->format_->streams[vs];
  r->codec_ = avcodec_alloc_context3(decoder);
  avcodec_parameters_to_context(r->codec_, stream->codecpar);
  r->codec_->thread_count = 0;  // let FFmpeg pick (frame and slice threads)
  err = avcodec_open2(r->codec_, decoder, nullptr);
  if (err < 0)
    return unsupported(path + ": the " + decoder->name + " decoder failed to open (" + av_error_text(err) +
                       ")");
  if (r->codec_->width <= 0 || r->codec_->height <= 0)
    return invalid_input(path + ": the video has no frame size");

  VideoInfo& info = r->info_;
  info.video_stream = vs;
  info.width = r->codec_->width;
  info.height = r->codec_->height;
  info.codec = decoder->name;
  info.time_base = {stream->time_base.num, stream->time_base.den};
  AVRational fr = stream->avg_frame_rate.num > 0 ? stream->avg_frame_rate : stream->r_frame_rate;
  info.frame_rate = {fr.num, fr.den > 0 ? fr.den : 1};
  if (stream->duration > 0)
    info.duration_s = double(stream->duration) * av_q2d(stream->time_base);
  else if (r->format_->duration > 0)
    info.duration_s = double(r->format_->duration) / AV_TIME_BASE;
  info.frame_count =
      stream->nb_frames > 0 ? stream->nb_frames : int64_t(info.duration_s * info.frame_rate.value() + 0.5);
  const uint8_t* matrix = av_stream_get_side_data(stream, AV_PKT_DATA_DISPLAYMATRIX, nullptr);
  if (matrix) {
    double angle = -av_display_rotation_get(reinterpret_cast<const int32_t*>(matrix));
    int deg = int(std::lround(angle));
    info.rotation = ((deg % 360) + 360) % 360;
  }
  info.color_primaries = stream->codecpar->color_primaries;
  info.color_trc = stream->codecpar->color_trc;
  info.color_space = stream->codecpar->color_space;
  info.color_range = stream->codecpar->color_range;
  int as = av_find_best_stream(r->format_, AVMEDIA_TYPE_AUDIO, -1, vs, nullptr, 0);
  if (as >= 0) {
    info.has_audio = true;
    info.audio_stream = as;
    const AVStream* audio = r->format_->streams[as];
    info.audio_codec = avcodec_get_name(audio->codecpar->codec_id);
    if (audio->duration > 0) info.audio_duration_s = double(audio->duration) * av_q2d(audio->time_base);
  }
  for (unsigned i = 0; i < r->format_->nb_streams; ++i)
    if (int(i) != vs) r->format_->streams[i]->discard = AVDISCARD_ALL;
  r->start_pts_ = stream->start_time != AV_NOPTS_VALUE ? stream->start_time : 0;
  r->decoded_ = av_frame_alloc();
  r->packet_ = av_packet_alloc();
  return r;
}

Result<bool> VideoReader::receive(VideoFrame& frame) {
  int err = avcodec_receive_frame(codec_, decoded_);
  if (err == AVERROR(EAGAIN)) return false;
  if (err == AVERROR_EOF) {
    finished_ = true;
    return false;
  }
  if (err < 0) {
    damage_ = "decoding failed at frame " + std::to_string(next_index_) + " (" + av_error_text(err) + ")";
    finished_ = true;
    return false;
  }
  const int w = decoded_->width, h = decoded_->height;
  sws_ = sws_getCachedContext(sws_, w, h, AVPixelFormat(decoded_->format), w, h, AV_PIX_FMT_BGR24,
                              SWS_BILINEAR, nullptr, nullptr, nullptr);
  if (!sws_) return unsupported(path_ + ": cannot convert its pixel format to BGR");
  // A fresh buffer per frame: earlier frames may still be in flight in other threads. swscale's vector code
  // writes whole blocks of pixels, past the end of a row whose width is not a multiple of its block (168 px,
  // 1366 px, ...): inside the picture that lands on the next row before it is written, after the last row
  // it would land on the heap. One spare row takes it; the frame stays a continuous matrix.
  cv::Mat storage(h + 1, w, CV_8UC3);
  frame.bgr = storage.rowRange(0, h);
  uint8_t* dst[4] = {frame.bgr.data, nullptr, nullptr, nullptr};
  int dst_stride[4] = {int(frame.bgr.step[0]), 0, 0, 0};
  sws_scale(sws_, decoded_->data, decoded_->linesize, 0, h, dst, dst_stride);
  int64_t pts = decoded_->best_effort_timestamp;
  if (pts == AV_NOPTS_VALUE) pts = last_pts_ == INT64_MIN ? start_pts_ : last_pts_ + 1;
  if (last_pts_ != INT64_MIN && pts <= last_pts_) pts = last_pts_ + 1;  // keep timestamps strictly increasing
  last_pts_ = pts;
  frame.pts = pts;
  frame.time_s = double(pts - start_pts_) * info_.time_base.value();
  frame.index = next_index_++;
  av_frame_unref(decoded_);
  return true;
}

Result<bool> VideoReader::read(VideoFrame& frame) {
  while (!finished_) {
    FW_ASSIGN_OR_RETURN(bool got, receive(frame));
    if (got) return true;
    if (finished_) break;
    if (flushing_) {
      // Drained after flushing without EOF: nothing more will come.
      finished_ = true;
      break;
    }
    int err = av_read_frame(format_, packet_);
    if (err == AVERROR_EOF || err == AVERROR(EIO)) {
      if (err == AVERROR(EIO))
        damage_ = "the file ends early (truncated?) after frame " + std::to_string(next_index_);
      avcodec_send_packet(codec_, nullptr);
      flushing_ = true;
      continue;
    }
    if (err < 0) {
      damage_ =
          "reading stopped after frame " + std::to_string(next_index_) + " (" + av_error_text(err) + ")";
      avcodec_send_packet(codec_, nullptr);
      flushing_ = true;
      continue;
    }
    if (packet_->stream_index == info_.video_stream) {
      err = avcodec_send_packet(codec_, packet_);
      if (err < 0 && err != AVERROR(EAGAIN) && err != AVERROR_INVALIDDATA)
        damage_ = "a packet could not be decoded after frame " + std::to_string(next_index_) + " (" +
                  av_error_text(err) + ")";
    }
    av_packet_unref(packet_);
  }
  return false;
}

std::string VideoReader::container_extension() const {
  const std::string name = format_ && format_->iformat ? format_->iformat->name : "";
  if (name.find("mp4") != std::string::npos) {
    // QuickTime files share the demuxer; their major brand says which they are.
    const AVDictionaryEntry* brand = av_dict_get(format_->metadata, "major_brand", nullptr, 0);
    return brand && std::string(brand->value).rfind("qt", 0) == 0 ? "mov" : "mp4";
  }
  if (name.find("matroska") != std::string::npos) {
    const AVCodecID id = codec_ ? codec_->codec_id : AV_CODEC_ID_NONE;
    const bool webm_video = id == AV_CODEC_ID_VP8 || id == AV_CODEC_ID_VP9 || id == AV_CODEC_ID_AV1;
    return webm_video ? "webm" : "mkv";
  }
  if (name == "avi") return "avi";
  return "mkv";
}

}  // namespace faceweave::media
