// Uploaded files: stored under generated ids (a client's file name is kept only as a display name),
// checked by decoding their content, described once (kind, size, faces) and deleted after a retention
// window. Layout: <data dir>/uploads/<id>/{media.<ext>, meta.json, faces/<n>.jpg}.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>

#include "faceweave/engine.h"

namespace faceweave::server {

struct UploadLimits {
  int64_t image_bytes = 50ll << 20;
  int64_t video_bytes = 2ll << 30;
  int64_t image_pixels = 50'000'000;  // width x height of an image upload
};

struct Upload {
  std::string id;
  std::string path;     // the stored media file
  nlohmann::json meta;  // kind, name, bytes, width, height, faces, ... (docs/api.md)
  std::string kind() const { return meta.value("kind", ""); }
};

bool is_upload_id(const std::string& s);

// An upload being received: the transport writes the bytes to `path`, then commits or discards it.
struct StagedUpload {
  std::string id;
  std::string path;
  std::string client_name;  // the file name the client gave (display only)
  int64_t bytes = 0;
  bool truncated = false;  // the transport stopped at the size limit
};

class UploadStore {
 public:
  UploadStore(std::string root, UploadLimits limits, double retention_hours);

  const UploadLimits& limits() const { return limits_; }
  // The largest body any upload may have (the video limit): bigger requests are refused unread.
  int64_t max_bytes() const { return std::max(limits_.image_bytes, limits_.video_bytes); }

  // A fresh id and the file to write the upload's bytes to.
  Result<StagedUpload> stage();
  // Checks the staged bytes by decoding them, analyses the image (or a video's first frame) with `engine`
  // and keeps them. Errors: kInvalidInput (415: not media faceweave decodes), too_large() (413), kNoFace is
  // never an error here (an upload may have no face). A failed commit removes the staged file.
  Result<Upload> commit(const StagedUpload& staged, const Engine& engine);
  // The checks of commit() before analysis: size limits, then the content decoded (with the pixel limit).
  // Leaves the staged file alone. `first_frame` receives the decoded image or the video's first frame.
  Result<MediaInfo> check(const StagedUpload& staged, cv::Mat* first_frame) const;
  void discard(const StagedUpload& staged);
  // Convenience for tests and the CLI: stage, write, commit.
  Result<Upload> add(const std::string& bytes, const std::string& client_name, const Engine& engine);
  Result<Upload> get(const std::string& id) const;
  // JPEG of face `n` (of frame `frame` for videos), cut with a margin around its box.
  Result<std::string> face_crop(const Upload& upload, size_t n, int64_t frame, const Engine& engine) const;
  // Removes uploads older than the retention window; returns how many.
  int sweep();

  static bool too_large(const Status& s);

 private:
  std::string root_;
  UploadLimits limits_;
  double retention_hours_;
  mutable std::mutex mutex_;
};

// A client's file name as shown: the last path component, printable ASCII only, at most 80 characters.
std::string upload_display_name(const std::string& client_name);

// Faces as the API shows them (index, box, score, age, gender).
nlohmann::json faces_json(const std::vector<Face>& faces);
// The inverse, for what the description keeps: boxes and scores.
std::vector<Face> faces_from_json(const nlohmann::json& faces);

}  // namespace faceweave::server
