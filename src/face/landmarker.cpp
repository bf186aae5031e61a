#include "face/landmarker.h"

#include <filesystem>

#include "face/dlib_landmarker.h"
#include "face/onnx_landmarker.h"

namespace faceweave::face {

Result<std::unique_ptr<Landmarker>> Landmarker::create(const LandmarkerOptions& options,
                                                       const infer::ModelRegistry& models) {
  FW_ASSIGN_OR_RETURN(std::string path, models.resolve(options.model));
  if (std::filesystem::path(path).extension() == ".dat") return DlibLandmarker::create(path);
  return OnnxLandmarker::create(options, path);
}

}  // namespace faceweave::face
