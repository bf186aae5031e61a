#include "face/landmarker.h"

#include <filesystem>

#include "face/dlib_landmarker.h"
#include "face/fan_landmarker.h"
#include "face/onnx_landmarker.h"

namespace faceweave::face {

const std::array<int, 68>& mirror_index_68() {
  static const std::array<int, 68> kMirror = [] {
    std::array<int, 68> m{};
    auto pair = [&m](int a, int b) {
      m[size_t(a)] = b;
      m[size_t(b)] = a;
    };
    for (int i = 0; i <= 16; ++i) pair(i, 16 - i);   // jaw
    for (int i = 17; i <= 21; ++i) pair(i, 43 - i);  // brows 17..21 <-> 26..22
    for (int i = 27; i <= 30; ++i) pair(i, i);       // nose bridge
    for (int i = 31; i <= 35; ++i) pair(i, 66 - i);  // nostrils 31..35 <-> 35..31
    for (int i = 36; i <= 39; ++i) pair(i, 81 - i);  // upper eyelids 36..39 <-> 45..42
    pair(40, 47);                                    // lower eyelids
    pair(41, 46);
    for (int i = 48; i <= 51; ++i) pair(i, 102 - i);  // outer upper lip 48..51 <-> 54..51
    for (int i = 55; i <= 57; ++i) pair(i, 114 - i);  // outer lower lip 55..57 <-> 59..57
    for (int i = 60; i <= 62; ++i) pair(i, 124 - i);  // inner upper lip 60..62 <-> 64..62
    for (int i = 65; i <= 66; ++i) pair(i, 132 - i);  // inner lower lip 65..66 <-> 67..66
    return m;
  }();
  return kMirror;
}

Result<std::unique_ptr<Landmarker>> Landmarker::create(const LandmarkerOptions& options,
                                                       const infer::ModelRegistry& models) {
  FW_ASSIGN_OR_RETURN(std::string path, models.resolve(options.model));
  // The decoder the manifest declares (by name, or by the file name of a manifest model given as a path);
  // a user's own file: dlib's .dat predictor, or the default pack's 64x64 ONNX scheme.
  const infer::ModelEntry* entry = models.find(options.model);
  if (!entry) {
    const std::string file = std::filesystem::path(path).filename().string();
    for (const auto& e : models.entries())
      if (e.role == "landmarker" && std::filesystem::path(e.file).filename().string() == file) entry = &e;
  }
  if (entry && entry->role != "landmarker")
    return invalid_argument("model " + entry->name + " is a " + entry->role +
                            ", not a landmarker; `faceweave models list` shows the landmarkers");
  std::string kind = entry ? entry->kind : "";
  if (kind.empty()) kind = std::filesystem::path(path).extension() == ".dat" ? "dlib" : "fr_landmark";
  if (kind == "dlib") return DlibLandmarker::create(path);
  if (kind == "2dfan4") return FanLandmarker::create(options, path);
  if (kind == "fr_landmark") return OnnxLandmarker::create(options, path);
  return invalid_argument("model " + options.model + " declares landmarker kind '" + kind +
                          "', which this build has no decoder for (fr_landmark, dlib, 2dfan4)");
}

}  // namespace faceweave::face
