// Engine::inspect: the provenance metadata and the watermark of a file (docs/provenance.md).
#include <algorithm>

#include "faceweave/engine.h"
#include "media/video_reader.h"
#include "provenance/metadata.h"
#include "provenance/watermark.h"

namespace faceweave {
namespace {

constexpr int kVideoFramesChecked = 8;
constexpr int kVideoFrameStep = 10;  // at most; a short clip is checked more densely, on up to 8 frames

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

  auto check = [&](const cv::Mat& frame) -> Status {
    FW_ASSIGN_OR_RETURN(auto faces, analyse(frame));
    std::vector<cv::Rect2f> boxes;
    for (const auto& f : faces) boxes.push_back(f.box);
    ++out.frames_checked;
    out.faces_checked += int(boxes.size());
    const auto d = provenance::detect_watermark(frame, boxes);
    if (d.confidence > out.watermark_confidence || (d.found && !out.watermark_found)) {
      out.watermark_confidence = d.confidence;
      out.watermark_found = d.found;
      if (d.payload) {
        out.watermark_version = d.payload->version;
        out.watermark_synthetic = d.payload->synthetic;
        out.watermark_run_id = d.payload->run_id;
      }
    }
    return Status::ok();
  };
  if (media.kind == "image") {
    FW_ASSIGN_OR_RETURN(cv::Mat image, load_image(path));
    FW_RETURN_IF_ERROR(check(image));
    return out;
  }
  FW_ASSIGN_OR_RETURN(auto reader, media::VideoReader::open(path));
  media::VideoFrame frame;
  // Each frame is an independent chance to find the mark (it is decided per frame): spread the checks over
  // the clip, every frame of a clip of 8 frames or fewer.
  const int64_t known = reader->info().frame_count;
  const int64_t step =
      known > 0 ? std::clamp<int64_t>(known / kVideoFramesChecked, 1, kVideoFrameStep) : kVideoFrameStep;
  for (int64_t i = 0; out.frames_checked < kVideoFramesChecked && !out.watermark_found; ++i) {
    FW_ASSIGN_OR_RETURN(bool got, reader->read(frame));
    if (!got) break;
    if (i % step == 0) FW_RETURN_IF_ERROR(check(frame.bgr));
  }
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
  out["watermark"] = {{"found", watermark_found},
                      {"confidence", watermark_confidence},
                      {"frames_checked", frames_checked},
                      {"faces_checked", faces_checked},
                      {"payload", nullptr}};
  if (watermark_found)
    out["watermark"]["payload"] = {
        {"version", watermark_version}, {"synthetic", watermark_synthetic}, {"run_id", watermark_run_id}};
  return out;
}

}  // namespace faceweave
