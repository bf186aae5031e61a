// The defaults of one API preview or job (docs/experiments.md): the server's defaults profile, then each
// running experiment's arm for the requester (the browser's `client` id when the body names one, else the
// server's own user), for the options the request leaves out.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "faceweave/experiments.h"
#include "faceweave/telemetry.h"

namespace faceweave::server {

struct RunDefaults {
  nlohmann::json defaults = nlohmann::json::object();  // option -> value, for the options left out
  std::vector<Exposure> exposures;
  std::string client;  // the browser's id (record_client), empty for the server's own user
};

// `options`: the request's options as given; `client`: the browser's id ("" when none). Never fails: an
// unreadable experiments table leaves the profile's defaults alone.
RunDefaults run_defaults(const std::optional<DefaultsProfile>& profile, const std::string& data_dir,
                         Telemetry* telemetry, const nlohmann::json& options, const std::string& client);
// What a run executes with: `defaults`, then the user's own options over them.
nlohmann::json merged_options(const nlohmann::json& defaults, const nlohmann::json& options);
// GET /api/config: the option catalog's defaults replaced by these, and the profile named.
void apply_to_config(nlohmann::json& config, const std::optional<DefaultsProfile>& profile,
                     const RunDefaults& defaults);

}  // namespace faceweave::server
