// Marks a run's outputs as synthetic (docs/provenance.md): the watermark around each swapped face of a frame,
// and the metadata of the written file. One payload (a fresh random run id) per run.
#pragma once

#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <tuple>
#include <vector>

#include "faceweave/options.h"
#include "pipeline/processor.h"
#include "provenance/metadata.h"
#include "provenance/payload.h"
#include "provenance/watermark.h"

namespace faceweave::pipeline {

// The payload of a new run: version, synthetic, a fresh random run id.
provenance::Payload new_run_payload();

// "faceweave <version>" and the processors that ran: what the metadata says about the run.
provenance::ProvenanceInfo provenance_info(const std::vector<std::string>& processors);

// Watermarks the selected faces of `ctx.frame` (face coordinates are in `analysed` pixels; the frame may be
// larger after a frame enhancer). Returns how many faces were marked; 0 when options.watermark is off.
// `boxes`, when given, replaces the selected faces' own boxes (one per selected face, in `analysed` pixels).
int watermark_frame(FrameContext& ctx, cv::Size analysed, const SwapOptions& options,
                    const provenance::Payload& payload, const std::vector<cv::Rect2f>* boxes = nullptr);

// The box a video's watermark follows for one face track: the previous one while the face stays within
// kSteadyShift of its side and kSteadyScale of its size, else the face's new box. A mark that stays put from
// frame to frame costs the video encoder almost nothing (it is predicted from the previous frame); one that
// follows every jitter of the detector is new texture in every frame (about 9 ms of x264 time a 1080p frame
// and a quarter more bits at the same quality, docs/benchmarks.md). `previous` is empty for a new track.
inline constexpr float kSteadyShift = 0.04f;
inline constexpr float kSteadyScale = 0.04f;
cv::Rect2f steady_mark_box(const cv::Rect2f& previous, const cv::Rect2f& face_box);

// A video's watermark: every frame of a face track gets the same stamp while the track's mark box
// (steady_mark_box) holds, made once by the first frame that needs it (provenance::make_watermark_stamp: not
// informed by the frame's content, so the pattern does not change from frame to frame) and added as it is
// to the frames after it. The encoder then predicts it from the previous frame instead of coding new
// texture, and a frame pays one addition instead of a transform. Thread-safe: frames are marked in parallel.
class VideoMarks {
 public:
  explicit VideoMarks(const provenance::Payload& payload) : payload_(payload) {}
  // Marks ctx.frame at `boxes` (one per selected face, in `analysed` pixels; scaled to the frame like
  // watermark_frame), the largest first, skipping a box whose square overlaps one already marked. Returns
  // how many faces were marked; 0 when options.watermark is off.
  int mark(FrameContext& ctx, cv::Size analysed, const SwapOptions& options,
           const std::vector<cv::Rect2f>& boxes);
  const provenance::Payload& payload() const { return payload_; }

 private:
  using Key = std::tuple<int, int, float, float, float, float>;
  std::shared_ptr<const provenance::WatermarkStamp> stamp(cv::Size frame, const cv::Rect2f& box);

  provenance::Payload payload_;
  std::mutex mutex_;
  std::map<Key, std::shared_ptr<const provenance::WatermarkStamp>> stamps_;  // the newest kKept boxes
  std::deque<Key> order_;
  static constexpr size_t kKept = 32;
};

// Writes an output image (atomically, as core::save_image) with the metadata added in memory when
// options.provenance is on. A BMP, which has no metadata block, is written without.
Status save_image_output(const std::string& path, const cv::Mat& image, const SwapOptions& options,
                         const std::vector<std::string>& processors);

}  // namespace faceweave::pipeline
