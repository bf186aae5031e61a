// Which option values of GET /api/config need a model file this server does not have installed, so the UI
// can show them as unavailable instead of failing a run. Models the manifest marks unsupported are never
// offered and so never listed.
#pragma once

#include <nlohmann/json.hpp>

#include "faceweave/engine.h"

namespace faceweave::server {

// {"face_swapper_model": {"inswapper_128": "not installed on this server (...)"}, ...}: per
// option, each value that cannot run and why, in words for the user. Options whose values all run are
// left out. Looks at the model files at most once a minute.
nlohmann::json unavailable_option_values(const EngineOptions& options);

}  // namespace faceweave::server
