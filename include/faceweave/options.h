// Options shared by the CLI, config files, environment variables and (later) HTTP JSON. Defaults live here.
#pragma once

#include <string>

namespace faceweave {

struct AnalysisOptions {
  std::string detector_model = "fr_detect";  // or yunet_2022mar, or a model file path
  float detector_score = 0.7f;               // candidates below are dropped
  float detector_nms = 0.3f;                 // overlap above which the weaker box is dropped
  int max_faces = 64;
  std::string landmarker_model = "fr_landmark";  // or dlib_68
  std::string recognizer_model = "fr_feature";
  bool embeddings = true;
  bool attributes = true;  // age, gender, head pose
};

struct EngineOptions {
  std::string models_dir;     // empty: FACEWEAVE_MODELS_DIR, else the folder the setup script fills
  std::string manifest_path;  // empty: FACEWEAVE_MANIFEST, else the build's models/manifest.json
  std::string execution_provider = "cpu";  // cpu | cuda | openvino | opencl (falls back to cpu, logged)
  AnalysisOptions analysis;
};

}  // namespace faceweave
