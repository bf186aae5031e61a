// Helpers for the video tests: decode every frame of a file, and make damaged fixtures with ffmpeg.
#pragma once

#include <cstdlib>
#include <vector>

#include "media/video_reader.h"
#include "swap_support.h"

namespace faceweave::testing {

inline std::string video(const std::string& name) {
  return testdata("video/" + name);
}

inline std::vector<media::VideoFrame> decode_all(const std::string& path) {
  std::vector<media::VideoFrame> frames;
  auto reader = media::VideoReader::open(path);
  EXPECT_TRUE(reader.is_ok()) << reader.status().to_string();
  if (!reader) return frames;
  media::VideoFrame f;
  while (true) {
    auto got = (*reader)->read(f);
    if (!got.is_ok() || !*got) break;
    frames.push_back(f);
  }
  return frames;
}

inline pipeline::VideoSwapReport swap_video(const std::string& source, const std::string& target,
                                            const std::string& out, SwapOptions options = {},
                                            VideoOptions video = {}) {
  auto& h = SwapHarness::get();
  pipeline::VideoSwapRequest req;
  req.sources = {image(source)};
  req.target = target;
  req.output = out;
  req.options = options;
  req.video = video;
  auto r = pipeline::run_video_swap(req, *h.analyser, *h.registry);
  EXPECT_TRUE(r.is_ok()) << r.status().to_string();
  return r ? std::move(r).value() : pipeline::VideoSwapReport{};
}

// Runs a shell command (fixture generation with the ffmpeg tool); true on success.
inline bool sh(const std::string& cmd) {
  return std::system((cmd + " >/dev/null 2>&1").c_str()) == 0;
}

}  // namespace faceweave::testing
