// Carries a source file's audio into an output being muxed: stream copy when the output container accepts
// the codec and the volume is unchanged, otherwise decode -> resample -> gain -> encode (AAC for mp4/mov/mkv,
// Opus for webm). A trim window [start, end) in seconds is applied either way. Packets are pumped up to a
// given time, so audio interleaves with the video as it is written.
#pragma once

#include <memory>
#include <string>

#include "faceweave/status.h"

struct AVFormatContext;
struct AVStream;

namespace faceweave::media {

struct AudioTrackOptions {
  std::string source_path;
  int source_stream = -1;  // audio stream index in the source
  double start_s = 0;      // trim: first second kept
  double end_s = -1;       // trim: first second dropped (-1: to the end)
  int volume = 100;        // 0..100 (0 never gets here: the writer drops the track)
};

class AudioTrack {
 public:
  // Adds the output stream to `output` (before its header is written).
  static Result<std::unique_ptr<AudioTrack>> create(const AudioTrackOptions& options,
                                                    AVFormatContext* output);
  ~AudioTrack();
  // Muxes audio up to `time_s` (output timeline, seconds). `final` drains everything left in the window.
  Status pump(double time_s, bool final);
  bool reencoding() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace faceweave::media
