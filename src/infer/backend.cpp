#include "infer/backend.h"

#include <algorithm>
#include <chrono>
#include <fstream>
#include <set>

#include <opencv2/core/ocl.hpp>

#include "core/log.h"

namespace faceweave::infer {
namespace {

bool backend_has_target(cv::dnn::Backend backend, cv::dnn::Target target) {
  try {
    auto targets = cv::dnn::getAvailableTargets(backend);
    return std::find(targets.begin(), targets.end(), target) != targets.end();
  } catch (const cv::Exception&) {
    return false;
  }
}

void backend_and_target(ExecutionProvider p, cv::dnn::Backend* backend, cv::dnn::Target* target) {
  switch (p) {
    case ExecutionProvider::kCuda:
      *backend = cv::dnn::DNN_BACKEND_CUDA;
      *target = cv::dnn::DNN_TARGET_CUDA;
      return;
    case ExecutionProvider::kOpenVino:
      *backend = cv::dnn::DNN_BACKEND_INFERENCE_ENGINE;
      *target = cv::dnn::DNN_TARGET_CPU;
      return;
    case ExecutionProvider::kOpenCl:
      *backend = cv::dnn::DNN_BACKEND_OPENCV;
      *target = cv::dnn::DNN_TARGET_OPENCL;
      return;
    case ExecutionProvider::kCpu:
      break;
  }
  *backend = cv::dnn::DNN_BACKEND_OPENCV;
  *target = cv::dnn::DNN_TARGET_CPU;
}

}  // namespace

const char* provider_name(ExecutionProvider p) {
  switch (p) {
    case ExecutionProvider::kCpu:
      return "cpu";
    case ExecutionProvider::kCuda:
      return "cuda";
    case ExecutionProvider::kOpenVino:
      return "openvino";
    case ExecutionProvider::kOpenCl:
      return "opencl";
  }
  return "cpu";
}

Result<ExecutionProvider> parse_provider(const std::string& name) {
  for (auto p : {ExecutionProvider::kCpu, ExecutionProvider::kCuda, ExecutionProvider::kOpenVino,
                 ExecutionProvider::kOpenCl})
    if (name == provider_name(p)) return p;
  return invalid_argument("unknown execution provider '" + name +
                          "'; use one of cpu, cuda, openvino, opencl");
}

ProviderResolution resolve_provider(ExecutionProvider requested) {
  ProviderResolution r;
  r.requested = requested;
  r.used = requested;
  switch (requested) {
    case ExecutionProvider::kCpu:
      return r;
    case ExecutionProvider::kCuda:
      if (!backend_has_target(cv::dnn::DNN_BACKEND_CUDA, cv::dnn::DNN_TARGET_CUDA))
        r.reason = "this OpenCV build has no CUDA backend for its DNN module";
      break;
    case ExecutionProvider::kOpenVino:
      if (!backend_has_target(cv::dnn::DNN_BACKEND_INFERENCE_ENGINE, cv::dnn::DNN_TARGET_CPU))
        r.reason = "this OpenCV build has no OpenVINO (Inference Engine) backend";
      break;
    case ExecutionProvider::kOpenCl:
      if (!cv::ocl::haveOpenCL() ||
          !backend_has_target(cv::dnn::DNN_BACKEND_OPENCV, cv::dnn::DNN_TARGET_OPENCL))
        r.reason = "no usable OpenCL device was found";
      break;
  }
  if (!r.reason.empty()) {
    r.used = ExecutionProvider::kCpu;
    static std::mutex warned_mutex;
    static std::set<ExecutionProvider> warned;
    std::lock_guard lock(warned_mutex);
    if (warned.insert(requested).second)
      core::log_warning(std::string("execution provider '") + provider_name(requested) +
                        "' is not available (" + r.reason + "); running on cpu instead");
  }
  return r;
}

Result<std::shared_ptr<Model>> Model::create(const std::string& name, const std::string& path,
                                             const ModelOptions& options) {
  auto start = std::chrono::steady_clock::now();
  std::shared_ptr<Model> model(new Model());
  model->name_ = name;
  model->path_ = path;
  std::ifstream in(path, std::ios::binary);
  if (!in) return model_error("model " + name + " at " + path + " cannot be opened");
  model->bytes_.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  if (model->bytes_.empty()) return model_error("model " + name + " at " + path + " is empty");
  model->provider_ = resolve_provider(options.provider);
  FW_ASSIGN_OR_RETURN(cv::dnn::Net first, model->make_net());
  try {
    for (const auto& n : first.getUnconnectedOutLayersNames()) model->output_names_.push_back(n);
  } catch (const cv::Exception& e) {
    return model_error("model " + name + " at " + path + " could not be set up by OpenCV DNN: " + e.what());
  }
  model->pool_.push_back(std::move(first));
  model->load_ms_ =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  return model;
}

Result<cv::dnn::Net> Model::make_net() const {
  cv::dnn::Net net;
  try {
    net = cv::dnn::readNetFromONNX(bytes_);
  } catch (const cv::Exception& e) {
    return model_error("model " + name_ + " at " + path_ + " could not be loaded by OpenCV DNN: " + e.what());
  }
  if (net.empty()) return model_error("model " + name_ + " at " + path_ + " loaded as an empty network");
  cv::dnn::Backend backend;
  cv::dnn::Target target;
  backend_and_target(provider_.used, &backend, &target);
  net.setPreferableBackend(backend);
  net.setPreferableTarget(target);
  return net;
}

Result<std::vector<cv::Mat>> Model::run(const cv::Mat& input, const std::vector<std::string>& outputs) const {
  return run(std::vector<std::pair<std::string, cv::Mat>>{{"", input}}, outputs);
}

Result<std::vector<cv::Mat>> Model::run(const std::vector<std::pair<std::string, cv::Mat>>& inputs,
                                        const std::vector<std::string>& outputs) const {
  cv::dnn::Net net;
  {
    std::lock_guard lock(pool_mutex_);
    if (!pool_.empty()) {
      net = std::move(pool_.back());
      pool_.pop_back();
    }
  }
  if (net.empty()) {
    FW_ASSIGN_OR_RETURN(net, make_net());
  }
  std::vector<cv::Mat> result;
  try {
    for (const auto& [name, blob] : inputs) net.setInput(blob, name);
    std::vector<cv::Mat> raw;
    std::vector<cv::String> names(outputs.begin(), outputs.end());
    if (names.empty()) names.push_back(net.getUnconnectedOutLayersNames().at(0));
    net.forward(raw, names);
    result.reserve(raw.size());
    for (auto& m : raw) result.push_back(m.clone());
  } catch (const cv::Exception& e) {
    return model_error("model " + name_ + " failed to run: " + e.what());
  }
  std::lock_guard lock(pool_mutex_);
  pool_.push_back(std::move(net));
  return result;
}

Result<cv::Mat> rgb_planes_to_bgr(const cv::Mat& output, int size, double scale, double offset,
                                  const std::string& model) {
  if (output.dims != 4 || output.size[0] != 1 || output.size[1] != 3 || output.size[2] != size ||
      output.size[3] != size)
    return model_error("model " + model + " returned an output of the wrong shape; expected [1,3," +
                       std::to_string(size) + "," + std::to_string(size) + "]");
  std::vector<cv::Mat> planes;
  for (int c = 2; c >= 0; --c)
    planes.emplace_back(size, size, CV_32F, const_cast<float*>(output.ptr<float>(0, c)));
  cv::Mat merged, bgr;
  cv::merge(planes, merged);
  merged.convertTo(bgr, CV_8UC3, scale, offset);
  return bgr;
}

}  // namespace faceweave::infer
