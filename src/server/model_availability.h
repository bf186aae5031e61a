// Which option values of GET /api/config need a model this server cannot use (its file is not installed,
// or this build cannot load it), so the UI can show them as unavailable instead of failing a run.
#pragma once

#include <nlohmann/json.hpp>

#include "faceweave/engine.h"

namespace faceweave::server {

// {"face_enhancer": {"gfpgan_1.4": "not installed: faceweave models download gfpgan_1.4"}, ...}: per
// option, each value that cannot run and why, in words for the user. Options whose values all run are
// left out. Looks at the model files at most once a minute.
nlohmann::json unavailable_option_values(const EngineOptions& options);

}  // namespace faceweave::server
