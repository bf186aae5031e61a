// Inference on OpenCV DNN behind a small interface. A provider (cpu, cuda, openvino, opencl) is requested;
// if this build or machine cannot serve it, one warning is logged, the fallback is reported through
// ProviderResolution (so the caller can record it), and the model runs on the CPU with results identical to
// a CPU run.
//
// Thread contract: a Model is immutable after create() and may be shared by any number of threads. cv::dnn
// networks keep scratch buffers, so run() borrows a network instance from a small pool (one is made per
// concurrent caller, from the model bytes held in memory) and returns it afterwards; no lock is held while
// a network runs.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <opencv2/core.hpp>
#include <opencv2/dnn.hpp>

#include "faceweave/status.h"

namespace faceweave::infer {

enum class ExecutionProvider { kCpu, kCuda, kOpenVino, kOpenCl };

const char* provider_name(ExecutionProvider p);
Result<ExecutionProvider> parse_provider(const std::string& name);

struct ProviderResolution {
  ExecutionProvider requested = ExecutionProvider::kCpu;
  ExecutionProvider used = ExecutionProvider::kCpu;
  bool fell_back() const { return requested != used; }
  std::string reason;  // why the requested provider was not used; empty when it was
};

// Decides which provider serves a request on this build and machine. Logs one warning per process and
// requested provider when it falls back.
ProviderResolution resolve_provider(ExecutionProvider requested);

struct ModelOptions {
  ExecutionProvider provider = ExecutionProvider::kCpu;
};

// An image model's output [1,3,size,size] (RGB planes) as an 8-bit BGR image: each value v becomes
// v * scale + offset, saturated to 0..255. `model` names it in the error when the shape is wrong.
Result<cv::Mat> rgb_planes_to_bgr(const cv::Mat& output, int size, double scale, double offset,
                                  const std::string& model);

class Model {
 public:
  // `path` must already be verified (ModelRegistry::resolve). Loads the file once; fails with a clear error
  // when OpenCV cannot parse it.
  static Result<std::shared_ptr<Model>> create(const std::string& name, const std::string& path,
                                               const ModelOptions& options);

  // Runs the network on `input` (an NCHW float blob) for the named outputs, in that order. Outputs are
  // owned copies, safe to keep after the call.
  Result<std::vector<cv::Mat>> run(const cv::Mat& input, const std::vector<std::string>& outputs) const;
  // Several named inputs (e.g. inswapper's "target" and "source"). An empty `outputs` means the network's
  // first output, whatever its name.
  Result<std::vector<cv::Mat>> run(const std::vector<std::pair<std::string, cv::Mat>>& inputs,
                                   const std::vector<std::string>& outputs) const;

  const std::string& name() const { return name_; }
  // The graph's outputs as OpenCV names them (for ONNX, the graph's output names), in OpenCV's order.
  const std::vector<std::string>& output_names() const { return output_names_; }
  const ProviderResolution& provider() const { return provider_; }
  double load_ms() const { return load_ms_; }

 private:
  Model() = default;
  Result<cv::dnn::Net> make_net() const;

  std::string name_;
  std::string path_;
  std::vector<uchar> bytes_;
  std::vector<std::string> output_names_;
  ProviderResolution provider_;
  double load_ms_ = 0;
  mutable std::mutex pool_mutex_;
  mutable std::vector<cv::dnn::Net> pool_;
};

}  // namespace faceweave::infer
