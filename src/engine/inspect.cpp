// Engine::inspect: the provenance metadata and the watermark of a file (docs/provenance.md).
#include <algorithm>
#include <set>

#include <opencv2/imgproc.hpp>

#include "faceweave/engine.h"
#include "media/video_reader.h"
#include "provenance/metadata.h"
#include "provenance/watermark.h"

namespace faceweave {
namespace {

// A video is examined in up to kVideoWindows stretches spread over the clip, each kWindowFrames consecutive
// frames: the first frame alone, then the average of the stretch's luma. A video's mark stays put while a
// face holds still (pipeline::steady_mark_box), so it adds up in the average while moving content and coding
// noise do not.
constexpr int kVideoWindows = 4;
constexpr int kWindowFrames = 8;
constexpr int64_t kUnknownLengthStep = 30;  // stretches this far apart when the length is unknown

}  // namespace

Result<InspectReport> Engine::inspect(const std::string& path) const {
  InspectReport out;
  FW_ASSIGN_OR_RETURN(MediaInfo media, probe_media(path));
  out.kind = media.kind;
  FW_ASSIGN_OR_RETURN(auto meta, provenance::read_metadata(path));
  out.metadata_present = meta.present;
  out.metadata_synthetic = meta.synthetic;
  out.digital_source_type = meta.digital_source_type;
  out.software_agent = meta.software_agent;
  out.processors = meta.processors;

  auto take = [&](const provenance::WatermarkDetection& d) {
    out.watermark_found = out.watermark_found || d.found;
    out.watermark_confidence = std::max(out.watermark_confidence, d.confidence);
    out.watermark_presence_found = out.watermark_presence_found || d.presence_found;
    out.watermark_presence_score = std::max(out.watermark_presence_score, d.presence_score);
    if (d.payload && !out.watermark_payload_read) {
      out.watermark_payload_read = true;
      out.watermark_version = d.payload->version;
      out.watermark_synthetic = d.payload->synthetic;
      out.watermark_run_id = d.payload->run_id;
    }
  };
  // The face boxes of `frame` (counted as checked), and the mark around them.
  auto check = [&](const cv::Mat& frame) -> Result<std::vector<cv::Rect2f>> {
    FW_ASSIGN_OR_RETURN(auto faces, analyse(frame));
    std::vector<cv::Rect2f> boxes;
    for (const auto& f : faces) boxes.push_back(f.box);
    ++out.frames_checked;
    out.faces_checked += int(boxes.size());
    take(provenance::detect_watermark(frame, boxes));
    return boxes;
  };
  if (media.kind == "image") {
    FW_ASSIGN_OR_RETURN(cv::Mat image, load_image(path));
    FW_RETURN_IF_ERROR(check(image).status());
    return out;
  }
  FW_ASSIGN_OR_RETURN(auto reader, media::VideoReader::open(path));
  const int64_t known = reader->info().frame_count;
  std::set<int64_t> starts;  // the stretches do not overlap, and a short clip is examined whole
  for (int64_t w = 0, next = 0; w < kVideoWindows; ++w) {
    const int64_t spread = known > 0 ? w * std::max<int64_t>(0, known - kWindowFrames) / (kVideoWindows - 1)
                                     : w * kUnknownLengthStep;
    const int64_t start = std::max(spread, next);
    if (known > 0 && start >= known) break;
    starts.insert(start);
    next = start + kWindowFrames;
  }
  media::VideoFrame frame;
  std::vector<cv::Rect2f> boxes;
  cv::Mat sum, y;
  int averaged = 0;
  auto detect_average = [&] {
    if (averaged > 1 && !boxes.empty()) take(provenance::detect_watermark_luma(sum / averaged, boxes));
    averaged = 0;
  };
  int64_t window_end = -1;
  // A presence mark alone does not end the search: a later stretch may still give the payload.
  for (int64_t i = 0; !out.watermark_payload_read && (i < window_end || !starts.empty()); ++i) {
    FW_ASSIGN_OR_RETURN(bool got, reader->read(frame));
    if (!got) break;
    if (starts.count(i)) {
      detect_average();
      starts.erase(i);
      window_end = i + kWindowFrames;
      FW_ASSIGN_OR_RETURN(boxes, check(frame.bgr));
      sum = cv::Mat::zeros(frame.bgr.size(), CV_32F);
    }
    if (i < window_end && !boxes.empty() && frame.bgr.size() == sum.size()) {
      cv::cvtColor(frame.bgr, y, cv::COLOR_BGR2GRAY);
      cv::accumulate(y, sum);
      ++averaged;
      if (i + 1 == window_end) detect_average();
    }
  }
  if (!out.watermark_payload_read) detect_average();
  return out;
}

nlohmann::json InspectReport::to_json() const {
  nlohmann::json out;
  out["kind"] = kind;
  out["metadata"] = {{"present", metadata_present},
                     {"synthetic", metadata_synthetic},
                     {"digital_source_type", digital_source_type},
                     {"software_agent", software_agent},
                     {"processors", processors}};
  out["watermark"] = {
      {"found", watermark_found},
      {"confidence", watermark_confidence},
      {"presence", {{"found", watermark_presence_found}, {"score", watermark_presence_score}}},
      {"frames_checked", frames_checked},
      {"faces_checked", faces_checked},
      {"payload", nullptr}};
  if (watermark_payload_read)
    out["watermark"]["payload"] = {
        {"version", watermark_version}, {"synthetic", watermark_synthetic}, {"run_id", watermark_run_id}};
  return out;
}

}  // namespace faceweave
