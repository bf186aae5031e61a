// The faceweave engine: the one entry point the CLI and the server use. Create it once; it loads and
// verifies the models it needs. analyse() is thread-safe.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>

#include "faceweave/face.h"
#include "faceweave/options.h"
#include "faceweave/status.h"

namespace faceweave {

struct ModelInfo {
  std::string name;
  std::string role;
  std::string pack;
  std::string path;
  std::string source;
  std::string licence;
  bool present = false;
  bool verified = false;
  std::string expected_sha256;
  std::string actual_sha256;
  std::string fix;            // the command that installs or repairs it
  bool pinned = true;         // the manifest pins a checksum (sha256, or CRC32) for it
  bool downloadable = false;  // `faceweave models download NAME` can fetch it
  std::string unsupported =
      "";  // why it cannot run on this build (then it is not downloadable); "" if it runs
};

struct ModelDownloadOptions {
  std::vector<std::string> names;  // manifest names; empty with `pack` set: every downloadable model of it
  std::string pack;                // e.g. "full"
  int attempts = 4;                // tries per file, with exponential backoff from 1 s
  int stall_timeout_s = 30;        // a transfer slower than 1 byte/s for this long is a failed try
  std::function<void(const std::string& name, int64_t done, int64_t total)> on_progress;
};

struct ModelDownloadInfo {
  std::string name;
  std::string path;
  int64_t bytes = 0;
  bool already_present = false;  // present and verified before: nothing was fetched
  bool resumed = false;          // continued an interrupted earlier download
  int attempts = 0;
  std::string checksum;  // what was verified ("sha256:<hex>" or "crc32:<hex>")
};

struct ProviderInfo {
  std::string requested;
  std::string used;
  std::string fallback_reason;  // empty when the requested provider is used
};

struct VideoProgressInfo {
  int64_t frames_done = 0;
  int64_t frames_total = 0;  // estimate; 0 when unknown
  double fps = 0;
  double eta_s = 0;
};

struct SwapRequest {
  std::vector<std::string> sources;  // photos of the identity to use (their largest face each)
  std::string target;                // the image or video to change (never overwritten)
  std::string output;  // image: jpg/png/webp/bmp; video: mp4/mov/mkv/webm/avi; written atomically
  SwapOptions options;
  VideoOptions video;                                         // used when the target is a video
  std::function<void(const VideoProgressInfo&)> on_progress;  // videos: called after each written frame
  const std::atomic<bool>* cancel = nullptr;                  // videos: set to stop (exit status kCancelled)
};

struct SwapReport {
  int faces_found = 0;
  int faces_selected = 0;
  int faces_swapped = 0;
  int faces_turned_away = 0;  // images: selected faces left alone, turned too far from the camera
  std::vector<std::string> processors;
  std::vector<std::pair<std::string, double>> stage_ms;  // per stage, milliseconds
  int output_width = 0;
  int output_height = 0;
  int input_width = 0;  // the target's frame as read (a video's as displayed), before scaling or enhancing
  int input_height = 0;
  // videos
  bool video = false;
  int64_t frames = 0;
  int64_t frames_without_face = 0;  // passed through unchanged
  bool audio = false;
  double seconds = 0;
  std::string warning;
};

// Resolves EngineOptions' empty paths from the environment and the build's defaults.
EngineOptions resolve_paths(EngineOptions options);

// Every model of the manifest and the state of its file (hashing each present file once).
Result<std::vector<ModelInfo>> list_models(const EngineOptions& options);

// Downloads models into the models folder (resumable, retried, checksum-verified, renamed into place only
// when verified). Stops at the first failure; models fetched before it stay.
Result<std::vector<ModelDownloadInfo>> download_models(const EngineOptions& options,
                                                       const ModelDownloadOptions& request);

// Reads and decodes an image with every safety check (see docs/architecture.md); 8-bit BGR.
Result<cv::Mat> load_image(const std::string& path);
// Writes an image in the format of the path's extension, atomically (no partial file on failure).
Status save_image(const std::string& path, const cv::Mat& bgr, int quality = 95);

// Refuses an output that is one of the inputs: the same path, or the same file through a symbolic or
// hard link. `inputs` pairs each input's role ("source", "target"...) with its path. kInvalidArgument.
Status check_output_not_input(const std::string& output,
                              const std::vector<std::pair<std::string, std::string>>& inputs);
// The same for a swap: its sources, target and reference face image.
Status check_output_not_input(const SwapRequest& request);

// What a file holds, found from its content (never its name): an image faceweave decodes, or a video.
struct MediaInfo {
  std::string kind;    // image | video
  std::string format;  // the extension that fits the content: jpg png webp bmp | mp4 mov mkv webm avi
  int width = 0;
  int height = 0;
  int64_t frames = 1;  // videos: from the container (an estimate when it has no count)
  double fps = 0;
  double duration_s = 0;
  bool has_audio = false;
};
// `first_frame`, when given, receives the decoded image (or the video's first frame) the probe had to
// decode anyway. `max_image_pixels` (0: the decoder's own limit) refuses an image declaring more pixels
// before it is decoded.
Result<MediaInfo> probe_media(const std::string& path, cv::Mat* first_frame = nullptr,
                              int64_t max_image_pixels = 0);
// The image itself, or frame `index` of a video (decoded in order; an index past the end is an error).
Result<cv::Mat> load_frame(const std::string& path, int64_t index = 0);

// What `faceweave inspect` finds in a file (docs/provenance.md).
struct InspectReport {
  std::string kind;  // image | video
  // metadata
  bool metadata_present = false;
  bool metadata_synthetic = false;
  std::string digital_source_type;
  std::string software_agent;
  std::vector<std::string> processors;
  // watermark
  // found: the payload was read, or only the presence mark was found (a video re-encoded too coarsely for
  // the payload: the file is marked as synthetic, but which run made it is not readable).
  bool watermark_found = false;
  double watermark_confidence = 0;      // 0..1, found at >= 0.70 (docs/provenance.md)
  double watermark_presence_score = 0;  // the presence mark's score, standard deviations
  bool watermark_presence_found = false;
  bool watermark_payload_read = false;
  int watermark_version = 0;  // the payload, when read
  bool watermark_synthetic = false;
  uint32_t watermark_run_id = 0;
  int frames_checked = 0;
  int faces_checked = 0;

  // {"kind", "metadata": {...}, "watermark": {"found", "confidence", "presence": {"found", "score"}, ...,
  // "payload": null | {...}}}: what `inspect --json` prints
  // and POST /api/inspect answers (docs/provenance.md).
  nlohmann::json to_json() const;
};

struct PreviewResult {
  cv::Mat image;  // the swapped image or video frame
  SwapReport report;
};

class Engine {
 public:
  static Result<std::unique_ptr<Engine>> create(const EngineOptions& options);
  ~Engine();

  Result<std::vector<Face>> analyse(const cv::Mat& bgr) const;
  // Swaps the sources' identity into the target (an image, or a video by its extension) and writes the
  // output. No output is left on failure.
  Result<SwapReport> swap(const SwapRequest& request) const;
  // One image, or one frame of a video target, through the same chain as swap(), in memory.
  Result<PreviewResult> preview(const SwapRequest& request, int64_t frame = 0) const;

  // Looks for the provenance metadata and the watermark (around every face found; in a video, in up to
  // eight frames of its first seconds).
  Result<InspectReport> inspect(const std::string& path) const;

  // Draws boxes, 68 points, five points and attributes onto a copy of `bgr`.
  cv::Mat draw(const cv::Mat& bgr, const std::vector<Face>& faces) const;

  const ProviderInfo& provider() const;
  const EngineOptions& options() const;

 private:
  struct Impl;
  explicit Engine(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace faceweave
