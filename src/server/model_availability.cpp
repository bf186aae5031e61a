#include "server/model_availability.h"

#include "infer/model_registry.h"

#include <chrono>
#include <filesystem>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace faceweave::server {
namespace {

using nlohmann::json;

struct ModelValue {
  const char* option;
  const char* value;
  std::vector<const char*> models;  // manifest names the value needs
};

// The option values that load a model file; every other value runs with what the engine always has.
const std::vector<ModelValue>& model_values() {
  static const std::vector<ModelValue> kValues = {
      {"face_swapper_model", "inswapper_128", {"inswapper_128"}},
      {"face_swapper_model", "inswapper_128_fp16", {"inswapper_128_fp16"}},
      {"face_enhancer", "gfpgan_1.4", {"gfpgan_1.4"}},
      {"frame_enhancer", "fsrcnn_x2", {"fsrcnn_x2"}},
      {"frame_enhancer", "fsrcnn_x4", {"fsrcnn_x4"}},
      {"frame_enhancer", "espcn_x2", {"espcn_x2"}},
      {"frame_enhancer", "espcn_x4", {"espcn_x4"}},
  };
  return kValues;
}

// Presence only (no checksum: hashing every model file would make the first page load wait); a damaged
// file still fails its run with model_error.
json compute(const EngineOptions& raw) {
  json out = json::object();
  const EngineOptions options = resolve_paths(raw);
  auto models = infer::ModelRegistry::create({options.manifest_path, options.models_dir});
  if (!models) return out;
  for (const ModelValue& v : model_values()) {
    // A model the manifest marks unsupported on this build (float16 weights, StyleGAN2's modulated
    // convolution) is never offered (/api/config leaves it out), so it is not listed as merely unavailable.
    bool offered = true;
    std::string why;
    for (const char* name : v.models) {
      const infer::ModelEntry* m = (*models)->find(name);
      if (!m) continue;
      if (!m->unsupported.empty()) {
        offered = false;
        break;
      }
      std::error_code ec;
      if (why.empty() && !std::filesystem::exists((*models)->expected_path(*m), ec)) {
        why = !m->url.empty()
                  ? "not installed on this server (its administrator can run `faceweave models download " +
                        m->name + "`)"
                  : "not installed on this server";
      }
    }
    if (!offered) continue;
    if (!why.empty()) out[v.option][v.value] = why;
  }
  return out;
}

}  // namespace

json unavailable_option_values(const EngineOptions& options) {
  static std::mutex mutex;
  static json cached;
  static std::chrono::steady_clock::time_point when;
  std::lock_guard lock(mutex);
  const auto now = std::chrono::steady_clock::now();
  if (cached.is_null() || now - when > std::chrono::minutes(1)) {
    cached = compute(options);
    when = now;
  }
  return cached;
}

}  // namespace faceweave::server
