// Shared pieces of the experiments module.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "faceweave/experiments.h"

namespace faceweave::experiments {

// Checks an option value given as text (an arm) against the option; `where` prefixes the message.
Status check_option_value(const std::string& option, const std::string& text, const std::string& where);
// Reads a stored experiment row's spec.
Result<Experiment> experiment_from_json(const nlohmann::json& spec);

}  // namespace faceweave::experiments
