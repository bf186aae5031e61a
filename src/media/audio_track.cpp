#include "media/audio_track.h"

#include <algorithm>
#include <cmath>

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/audio_fifo.h>
#include <libavutil/channel_layout.h>
#include <libavutil/opt.h>
#include <libswresample/swresample.h>
}

#include "media/video_reader.h"

namespace faceweave::media {

struct AudioTrack::Impl {
  AudioTrackOptions options;
  AVFormatContext* input = nullptr;
  AVFormatContext* output = nullptr;
  AVStream* in_stream = nullptr;
  AVStream* out_stream = nullptr;
  AVPacket* packet = nullptr;
  bool copy = true;
  bool input_done = false;
  // re-encoding
  AVCodecContext* decoder = nullptr;
  AVCodecContext* encoder = nullptr;
  SwrContext* swr = nullptr;
  AVAudioFifo* fifo = nullptr;
  AVFrame* frame = nullptr;
  int64_t next_sample = 0;
  bool encoder_flushed = false;

  ~Impl() {
    av_audio_fifo_free(fifo);
    swr_free(&swr);
    av_frame_free(&frame);
    av_packet_free(&packet);
    avcodec_free_context(&decoder);
    avcodec_free_context(&encoder);
    avformat_close_input(&input);
  }

  double start_pts_s() const {
    return in_stream->start_time != AV_NOPTS_VALUE
               ? double(in_stream->start_time) * av_q2d(in_stream->time_base)
               : 0.0;
  }

  Status write_encoded() {
    while (true) {
      int err = avcodec_receive_packet(encoder, packet);
      if (err == AVERROR(EAGAIN) || err == AVERROR_EOF) return Status::ok();
      if (err < 0) return io_error("audio encoding failed (" + av_error_text(err) + ")");
      av_packet_rescale_ts(packet, encoder->time_base, out_stream->time_base);
      packet->stream_index = out_stream->index;
      err = av_interleaved_write_frame(output, packet);
      if (err < 0) return io_error("writing audio failed (" + av_error_text(err) + ")");
    }
  }

  Status encode_fifo(bool final) {
    const int frame_size = encoder->frame_size > 0 ? encoder->frame_size : 1024;
    while (av_audio_fifo_size(fifo) >= frame_size || (final && av_audio_fifo_size(fifo) > 0)) {
      const int n = std::min(frame_size, av_audio_fifo_size(fifo));
      AVFrame* out = av_frame_alloc();
      out->nb_samples = n;
      out->format = encoder->sample_fmt;
      out->sample_rate = encoder->sample_rate;
      av_channel_layout_copy(&out->ch_layout, &encoder->ch_layout);
      av_frame_get_buffer(out, 0);
      av_audio_fifo_read(fifo, reinterpret_cast<void**>(out->data), n);
      out->pts = next_sample;
      next_sample += n;
      int err = avcodec_send_frame(encoder, out);
      av_frame_free(&out);
      if (err < 0) return io_error("audio encoding failed (" + av_error_text(err) + ")");
      FW_RETURN_IF_ERROR(write_encoded());
    }
    if (final && !encoder_flushed) {
      encoder_flushed = true;
      avcodec_send_frame(encoder, nullptr);
      FW_RETURN_IF_ERROR(write_encoded());
    }
    return Status::ok();
  }

  void apply_gain(AVFrame* f) {
    const float gain = float(options.volume) / 100.0f;
    if (gain >= 0.999f) return;
    const int channels = f->ch_layout.nb_channels;
    const bool planar = av_sample_fmt_is_planar(AVSampleFormat(f->format));
    const int planes = planar ? channels : 1;
    const int per_plane = planar ? f->nb_samples : f->nb_samples * channels;
    for (int p = 0; p < planes; ++p) {
      switch (f->format) {
        case AV_SAMPLE_FMT_FLT:
        case AV_SAMPLE_FMT_FLTP: {
          float* s = reinterpret_cast<float*>(f->data[p]);
          for (int i = 0; i < per_plane; ++i) s[i] *= gain;
          break;
        }
        case AV_SAMPLE_FMT_S16:
        case AV_SAMPLE_FMT_S16P: {
          int16_t* s = reinterpret_cast<int16_t*>(f->data[p]);
          for (int i = 0; i < per_plane; ++i) s[i] = int16_t(std::lround(s[i] * gain));
          break;
        }
        default:
          break;
      }
    }
  }

  // Decodes one packet's audio, resamples it into the encoder's format and queues it.
  Status decode_packet(AVPacket* pkt) {
    int err = avcodec_send_packet(decoder, pkt);
    if (err < 0 && err != AVERROR(EAGAIN) && err != AVERROR_EOF && err != AVERROR_INVALIDDATA)
      return io_error("audio decoding failed (" + av_error_text(err) + ")");
    while (true) {
      err = avcodec_receive_frame(decoder, frame);
      if (err == AVERROR(EAGAIN) || err == AVERROR_EOF) return Status::ok();
      if (err < 0) return Status::ok();  // a damaged audio frame is skipped
      AVFrame* converted = av_frame_alloc();
      converted->format = encoder->sample_fmt;
      converted->sample_rate = encoder->sample_rate;
      av_channel_layout_copy(&converted->ch_layout, &encoder->ch_layout);
      err = swr_convert_frame(swr, converted, frame);
      if (err >= 0 && converted->nb_samples > 0) {
        apply_gain(converted);
        av_audio_fifo_write(fifo, reinterpret_cast<void**>(converted->data), converted->nb_samples);
      }
      av_frame_free(&converted);
      av_frame_unref(frame);
    }
  }

  Status setup_reencode() {
    copy = false;
    const AVCodecID in_id = in_stream->codecpar->codec_id;
    const AVCodec* dec = avcodec_find_decoder(in_id);
    if (!dec)
      return unsupported("the audio codec " + std::string(avcodec_get_name(in_id)) + " cannot be decoded");
    decoder = avcodec_alloc_context3(dec);
    avcodec_parameters_to_context(decoder, in_stream->codecpar);
    if (avcodec_open2(decoder, dec, nullptr) < 0) return unsupported("the audio decoder failed to open");
    const bool webm = std::string(output->oformat->name).find("webm") != std::string::npos;
    const AVCodec* enc =
        webm ? avcodec_find_encoder_by_name("libopus") : avcodec_find_encoder(AV_CODEC_ID_AAC);
    if (!enc && webm) enc = avcodec_find_encoder(AV_CODEC_ID_OPUS);
    if (!enc)
      return unsupported(std::string("no ") + (webm ? "Opus" : "AAC") + " encoder in this FFmpeg build");
    encoder = avcodec_alloc_context3(enc);
    const int channels = std::min(2, std::max(1, decoder->ch_layout.nb_channels));
    av_channel_layout_default(&encoder->ch_layout, channels);
    encoder->sample_rate = webm ? 48000 : (decoder->sample_rate > 0 ? decoder->sample_rate : 48000);
    encoder->sample_fmt = enc->sample_fmts ? enc->sample_fmts[0] : AV_SAMPLE_FMT_FLTP;
    encoder->bit_rate = 160000;
    encoder->time_base = {1, encoder->sample_rate};
    encoder->strict_std_compliance = FF_COMPLIANCE_EXPERIMENTAL;
    if (output->oformat->flags & AVFMT_GLOBALHEADER) encoder->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
    int err = avcodec_open2(encoder, enc, nullptr);
    if (err < 0)
      return unsupported("the audio encoder " + std::string(enc->name) + " failed to open (" +
                         av_error_text(err) + ")");
    avcodec_parameters_from_context(out_stream->codecpar, encoder);
    out_stream->time_base = encoder->time_base;
    err = swr_alloc_set_opts2(&swr, &encoder->ch_layout, encoder->sample_fmt, encoder->sample_rate,
                              &decoder->ch_layout, decoder->sample_fmt, decoder->sample_rate, 0, nullptr);
    if (err < 0 || swr_init(swr) < 0) return unsupported("audio resampling could not be set up");
    fifo = av_audio_fifo_alloc(encoder->sample_fmt, encoder->ch_layout.nb_channels, 4096);
    return Status::ok();
  }
};

AudioTrack::~AudioTrack() = default;
bool AudioTrack::reencoding() const {
  return !impl_->copy;
}

Result<std::unique_ptr<AudioTrack>> AudioTrack::create(const AudioTrackOptions& options,
                                                       AVFormatContext* output) {
  std::unique_ptr<AudioTrack> track(new AudioTrack());
  track->impl_ = std::make_unique<Impl>();
  Impl& m = *track->impl_;
  m.options = options;
  m.output = output;
  int err = avformat_open_input(&m.input, options.source_path.c_str(), nullptr, nullptr);
  if (err < 0 || avformat_find_stream_info(m.input, nullptr) < 0)
    return io_error("cannot reopen " + options.source_path + " to copy its audio");
  if (options.source_stream < 0 || options.source_stream >= int(m.input->nb_streams))
    return internal_error("audio stream index out of range");
  for (unsigned i = 0; i < m.input->nb_streams; ++i)
    if (int(i) != options.source_stream) m.input->streams[i]->discard = AVDISCARD_ALL;
  m.in_stream = m.input->streams[options.source_stream];
  m.out_stream = avformat_new_stream(output, nullptr);
  m.packet = av_packet_alloc();
  m.frame = av_frame_alloc();
  const bool accepts =
      avformat_query_codec(output->oformat, m.in_stream->codecpar->codec_id, FF_COMPLIANCE_NORMAL) == 1;
  if (accepts && options.volume >= 100) {
    avcodec_parameters_copy(m.out_stream->codecpar, m.in_stream->codecpar);
    m.out_stream->codecpar->codec_tag = 0;
    m.out_stream->time_base = m.in_stream->time_base;
  } else {
    FW_RETURN_IF_ERROR(m.setup_reencode());
  }
  return track;
}

Status AudioTrack::pump(double time_s, bool final) {
  Impl& m = *impl_;
  const double origin = m.start_pts_s();
  const double end = m.options.end_s;
  while (!m.input_done) {
    int err = av_read_frame(m.input, m.packet);
    if (err < 0) {
      m.input_done = true;
      break;
    }
    if (m.packet->stream_index != m.options.source_stream || m.packet->pts == AV_NOPTS_VALUE) {
      av_packet_unref(m.packet);
      continue;
    }
    const double t = double(m.packet->pts) * av_q2d(m.in_stream->time_base) - origin;
    if (t < m.options.start_s) {
      av_packet_unref(m.packet);
      continue;
    }
    if (end >= 0 && t >= end) {
      av_packet_unref(m.packet);
      m.input_done = true;
      break;
    }
    if (m.copy) {
      const int64_t shift = av_rescale_q(int64_t((origin + m.options.start_s) * AV_TIME_BASE), AV_TIME_BASE_Q,
                                         m.in_stream->time_base);
      m.packet->pts -= shift;
      if (m.packet->dts != AV_NOPTS_VALUE) m.packet->dts -= shift;
      av_packet_rescale_ts(m.packet, m.in_stream->time_base, m.out_stream->time_base);
      m.packet->stream_index = m.out_stream->index;
      m.packet->pos = -1;
      err = av_interleaved_write_frame(m.output, m.packet);
      if (err < 0) return io_error("writing audio failed (" + av_error_text(err) + ")");
    } else {
      Status s = m.decode_packet(m.packet);
      av_packet_unref(m.packet);
      FW_RETURN_IF_ERROR(s);
      FW_RETURN_IF_ERROR(m.encode_fifo(false));
    }
    av_packet_unref(m.packet);
    if (!final && t - m.options.start_s > time_s) break;
  }
  if (final && !m.copy) {
    if (m.input_done && m.decoder) {
      FW_RETURN_IF_ERROR(m.decode_packet(nullptr));
    }
    FW_RETURN_IF_ERROR(m.encode_fifo(true));
  }
  return Status::ok();
}

}  // namespace faceweave::media
