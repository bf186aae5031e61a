// Engines shared by the integration tests: created once per process, since loading models is the slow part.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>

#include "faceweave/engine.h"
#include "test_support.h"

namespace faceweave::testing {

inline EngineOptions test_engine_options() {
  EngineOptions o;
  o.manifest_path = manifest_path();
  o.models_dir = models_dir();
  return o;
}

// key: a label for the variant; make: builds the options for it.
inline const Engine& shared_engine(const std::string& key = "default",
                                   const std::function<void(EngineOptions&)>& tweak = {}) {
  static std::mutex m;
  static std::map<std::string, std::unique_ptr<Engine>> engines;
  std::lock_guard lock(m);
  auto& slot = engines[key];
  if (!slot) {
    EngineOptions o = test_engine_options();
    if (tweak) tweak(o);
    auto e = Engine::create(o);
    if (!e) {
      ADD_FAILURE() << "engine '" << key << "' failed: " << e.status().to_string();
      std::abort();
    }
    slot = std::move(e).value();
  }
  return *slot;
}

inline std::vector<Face> analyse_file(const std::string& path, const Engine& engine = shared_engine()) {
  auto img = load_image(path);
  EXPECT_TRUE(img.is_ok()) << img.status().to_string();
  if (!img) return {};
  auto faces = engine.analyse(*img);
  EXPECT_TRUE(faces.is_ok()) << faces.status().to_string();
  return faces ? std::move(faces).value() : std::vector<Face>{};
}

}  // namespace faceweave::testing
