// The faceweave engine: the one entry point the CLI and the server use. Create it once; it loads and
// verifies the models it needs. analyse() is thread-safe.
#pragma once

#include <memory>
#include <string>
#include <vector>

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
  std::string fix;  // the command that installs or repairs it
};

struct ProviderInfo {
  std::string requested;
  std::string used;
  std::string fallback_reason;  // empty when the requested provider is used
};

struct SwapRequest {
  std::vector<std::string> sources;  // photos of the identity to use (their largest face each)
  std::string target;                // the image to change (never overwritten)
  std::string output;                // jpg, png, webp or bmp, chosen by extension; written atomically
  SwapOptions options;
};

struct SwapReport {
  int faces_found = 0;
  int faces_selected = 0;
  int faces_swapped = 0;
  std::vector<std::string> processors;
  std::vector<std::pair<std::string, double>> stage_ms;  // per stage, milliseconds
  int output_width = 0;
  int output_height = 0;
};

// Resolves EngineOptions' empty paths from the environment and the build's defaults.
EngineOptions resolve_paths(EngineOptions options);

// Every model of the manifest and the state of its file (hashing each present file once).
Result<std::vector<ModelInfo>> list_models(const EngineOptions& options);

// Reads and decodes an image with every safety check (see docs/architecture.md); 8-bit BGR.
Result<cv::Mat> load_image(const std::string& path);
// Writes an image in the format of the path's extension, atomically (no partial file on failure).
Status save_image(const std::string& path, const cv::Mat& bgr, int quality = 95);

class Engine {
 public:
  static Result<std::unique_ptr<Engine>> create(const EngineOptions& options);
  ~Engine();

  Result<std::vector<Face>> analyse(const cv::Mat& bgr) const;
  // Swaps the sources' identity into the target and writes the output. No output is left on failure.
  Result<SwapReport> swap(const SwapRequest& request) const;

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
