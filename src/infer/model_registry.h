// The model registry: reads models/manifest.json, finds each model's file (the models directory for pack
// files, an absolute path for system files such as dlib's predictor) and verifies its sha256 before anything
// loads it. Verification results are cached per file (path, size, mtime), so a model is hashed once per
// process. Thread-safe: every method may be called from several threads.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "faceweave/status.h"

namespace faceweave::infer {

struct InputSpec {
  std::vector<int> shape;  // e.g. 1,3,240,320 (empty when the model takes any size)
  std::string layout;      // NCHW
  std::string color;       // rgb | bgr | gray
  std::vector<double> mean;
  std::vector<double> std;
  std::string crop;  // how the input crop is made, in words
  std::string
      warp_template;  // five-point template the crop is aligned to (arcface_112, arcface_128, ffhq_512)
};

struct ModelEntry {
  std::string name;
  std::string role;  // detector | landmarker | recognizer | age | gender | pose | frame_enhancer | ...
  // Which decoder reads the model's outputs (detectors: ultraface | yunet | scrfd; landmarkers: fr_landmark |
  // dlib | 2dfan4); empty for roles with one decoder.
  std::string kind;
  // Why the model cannot run on this build (e.g. an operator pattern OpenCV 4.6's DNN cannot import); empty
  // when it runs. Such a model is listed but never downloaded or loaded.
  std::string unsupported;
  std::string pack;  // default | extra | full
  std::string file;  // a file name inside the models directory, or an absolute path
  std::string sha256;
  std::string licence;
  std::string source;     // where it comes from, in words ("npm faceplugin-...@0.0.1 package/model/x.onnx")
  std::string url;        // direct download URL (url sources only)
  std::string crc32;      // expected CRC32 (8 hex digits) when no sha256 is known
  std::string crc32_url;  // where the publisher's CRC32 (`.hash` file) is, when no sha256 is known
  int64_t size = 0;       // bytes, when known (for messages)
  InputSpec input;
  // The checksum a file is verified against: "sha256", "crc32", or "" when the manifest pins neither (the
  // file is then accepted unverified and listed as such).
  std::string checksum_kind() const { return !sha256.empty() ? "sha256" : (!crc32.empty() ? "crc32" : ""); }
};

struct ModelFileState {
  std::string path;
  bool present = false;
  bool verified = false;      // matches the pinned checksum (false when nothing is pinned)
  bool pinned = true;         // the manifest pins a checksum for it
  std::string actual_sha256;  // empty when missing
};

struct ModelRegistryOptions {
  std::string manifest_path;  // models/manifest.json
  std::string models_dir;     // where pack files live
};

class ModelRegistry {
 public:
  // Fails when the manifest is missing or malformed, or the models directory exists but cannot be read.
  static Result<std::unique_ptr<ModelRegistry>> create(const ModelRegistryOptions& options);

  const std::vector<ModelEntry>& entries() const { return entries_; }
  const ModelEntry* find(const std::string& name) const;
  const std::string& models_dir() const { return models_dir_; }

  // Where the model's file is expected.
  std::string expected_path(const ModelEntry& entry) const;
  // Present? Hash matches? (hashes the file when not cached)
  ModelFileState check(const ModelEntry& entry) const;

  // The verified path of a model given by manifest name, or by a file path. A path whose file name matches a
  // manifest entry is verified against that entry; any other path is accepted as a user's own model.
  // Errors name the file, the expected and actual hash, and the command that fixes it.
  Result<std::string> resolve(const std::string& name_or_path) const;

 private:
  ModelRegistry() = default;
  Result<bool> verify_cached(const std::string& path, const ModelEntry& entry, std::string* actual) const;

  std::vector<ModelEntry> entries_;
  std::string models_dir_;
  mutable std::mutex cache_mutex_;
  mutable std::map<std::string, std::pair<std::string, std::string>> hash_cache_;  // path -> (stamp, sha256)
};

// The command that installs or repairs a model of the given pack, for error messages.
std::string fix_command_for(const ModelEntry& entry);

}  // namespace faceweave::infer
