#include "enhance/frame_enhancer.h"

#include <algorithm>
#include <cctype>
#include <filesystem>

#include <opencv2/imgproc.hpp>

namespace faceweave::enhance {

Result<std::unique_ptr<FrameEnhancer>> FrameEnhancer::create(const FrameEnhancerOptions& options,
                                                             const infer::ModelRegistry& models) {
  if (!(options.blend >= 0 && options.blend <= 1))
    return invalid_argument("frame enhancer blend must be between 0 and 100 percent");
  FW_ASSIGN_OR_RETURN(std::string path, models.resolve(options.model));
  // The algorithm and scale come from the file name (FSRCNN_x2.pb, ESPCN_x4.pb, ...), as the files are named.
  std::string stem = std::filesystem::path(path).stem().string();
  std::transform(stem.begin(), stem.end(), stem.begin(),
                 [](unsigned char c) { return char(std::tolower(c)); });
  auto sep = stem.rfind("_x");
  if (sep == std::string::npos || (stem.substr(0, sep) != "fsrcnn" && stem.substr(0, sep) != "espcn"))
    return invalid_argument(
        "frame enhancer model " + path +
        " is not named like FSRCNN_x2.pb or ESPCN_x4.pb; the algorithm and scale come from the name");
  const std::string algo = stem.substr(0, sep);
  const int scale = std::atoi(stem.c_str() + sep + 2);
  if (scale < 2 || scale > 4)
    return invalid_argument("frame enhancer scale must be 2, 3 or 4 (from " + path + ")");
  auto e = std::make_unique<FrameEnhancer>();
  e->options_ = options;
  e->scale_ = scale;
  try {
    e->sr_.readModel(path);
    e->sr_.setModel(algo, scale);
  } catch (const cv::Exception& ex) {
    return model_error("frame enhancer model " + path + " could not be loaded: " + ex.what());
  }
  return e;
}

Result<cv::Mat> FrameEnhancer::enhance(const cv::Mat& frame) const {
  cv::Mat up;
  try {
    std::lock_guard lock(mutex_);
    sr_.upsample(frame, up);
  } catch (const cv::Exception& ex) {
    return model_error(std::string("frame enhancer failed: ") + ex.what());
  }
  if (options_.blend >= 1) return up;
  cv::Mat plain;
  cv::resize(frame, plain, up.size(), 0, 0, cv::INTER_CUBIC);
  cv::Mat out;
  cv::addWeighted(up, options_.blend, plain, 1.0 - options_.blend, 0.0, out);
  return out;
}

}  // namespace faceweave::enhance
