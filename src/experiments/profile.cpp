// The defaults profile: a versioned JSON file of option defaults (docs/experiments.md), and the swap options
// a profile or an experiment may set.
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "experiments/internal.h"
#include "faceweave/experiments.h"
#include "telemetry/event.h"
#include "telemetry/paths.h"

namespace faceweave {

namespace {

using nlohmann::json;

bool is_id(const std::string& s, size_t max) {
  return !s.empty() && s.size() <= max && telemetry::is_word(s);
}

const std::vector<std::string>* option_values(const std::string& option) {
  for (const auto& [name, values] : experiment_options())
    if (name == option) return &values;
  return nullptr;
}

bool is_bool_option(const std::vector<std::string>& values) {
  return values.size() == 2 && values[0] == "true" && values[1] == "false";
}

// Checks one default against its option; `where` prefixes the message.
Status check_default(const std::string& option, const json& value, const std::string& where) {
  const auto* values = option_values(option);
  if (!values) {
    std::string list;
    for (const auto& [name, v] : experiment_options()) list += (list.empty() ? "" : ", ") + name;
    return invalid_argument(where + "unknown option '" + option.substr(0, 40) + "' (options: " + list + ")");
  }
  if (values->empty()) {
    if (!value.is_number() || !std::isfinite(value.get<double>()))
      return invalid_argument(where + option + " must be a number");
    return Status::ok();
  }
  if (is_bool_option(*values)) {
    if (!value.is_boolean()) return invalid_argument(where + option + " must be true or false");
    return Status::ok();
  }
  if (!value.is_string() ||
      std::find(values->begin(), values->end(), value.get<std::string>()) == values->end()) {
    std::string list;
    for (const auto& v : *values) list += (list.empty() ? "" : ", ") + v;
    return invalid_argument(where + option + " must be one of: " + list);
  }
  return Status::ok();
}

}  // namespace

const std::vector<std::pair<std::string, std::vector<std::string>>>& experiment_options() {
  // The watermark and the provenance metadata are not offered: they are not a preference to optimise.
  static const std::vector<std::pair<std::string, std::vector<std::string>>> kOptions = {
      {"face_swapper_model", {"classic", "inswapper_128"}},
      {"face_swapper_pixel_boost", {"128x128", "256x256", "384x384", "512x512", "768x768", "1024x1024"}},
      {"face_swapper_weight", {}},
      {"blend", {"auto", "seamless", "affine", "laplacian"}},
      {"color_match", {"none", "reinhard", "histogram"}},
      {"identity_strength", {}},
      {"face_mask_blur", {}},
      {"keep_mouth_interior", {"true", "false"}},
      {"skin_mask", {"true", "false"}},
      {"target_lighting", {}},
      {"match_sharpness", {"true", "false"}},
      {"face_selector_mode", {"many", "one", "reference"}},
      {"face_selector_order",
       {"left-right", "right-left", "top-bottom", "bottom-top", "small-large", "large-small", "best-worst",
        "worst-best"}},
      {"face_enhancer", {"none", "detail"}},
      {"face_enhancer_blend", {}},
      {"frame_enhancer", {"none", "fsrcnn_x2", "fsrcnn_x4", "espcn_x2", "espcn_x4"}},
      {"frame_enhancer_blend", {}},
      {"output_image_quality", {}},
      {"output_video_encoder", {"libx264", "libx265", "libvpx-vp9"}},
      {"output_video_preset",
       {"ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow"}},
      {"output_video_quality", {}},
      {"face_detector_interval", {}},
  };
  return kOptions;
}

std::string default_value_text(const json& value) {
  if (value.is_string()) return value.get<std::string>();
  if (value.is_boolean()) return value.get<bool>() ? "true" : "false";
  if (value.is_number_integer()) return std::to_string(value.get<int64_t>());
  if (value.is_number()) {
    std::ostringstream out;
    out << value.get<double>();
    return out.str();
  }
  return value.dump();
}

std::string DefaultsProfile::tag() const {
  return id + "-v" + std::to_string(version);
}

Result<DefaultsProfile> load_defaults_profile(const std::string& path) {
  const std::string where = "defaults profile " + path + ": ";
  std::ifstream in(path, std::ios::binary);
  if (!in) return not_found("cannot read the defaults profile " + path);
  std::stringstream text;
  text << in.rdbuf();
  json j = json::parse(text.str(), nullptr, false);
  if (j.is_discarded() || !j.is_object())
    return invalid_argument(where +
                            "not a JSON object like {\"id\": \"team\", \"version\": 1, \"defaults\": "
                            "{\"color_match\": \"none\"}}");
  DefaultsProfile p;
  if (!j.contains("id") || !j["id"].is_string() || !is_id(j["id"].get<std::string>(), 16))
    return invalid_argument(where + "id must be a word of [a-z0-9_-], 1 to 16 characters");
  p.id = j["id"].get<std::string>();
  if (!j.contains("version") || !j["version"].is_number_integer() || j["version"].get<int64_t>() < 1 ||
      j["version"].get<int64_t>() > 999999)
    return invalid_argument(where + "version must be a whole number from 1 to 999999");
  p.version = j["version"].get<int64_t>();
  if (!j.contains("defaults") || !j["defaults"].is_object())
    return invalid_argument(where + "defaults must be an object of option: value");
  for (auto it = j["defaults"].begin(); it != j["defaults"].end(); ++it)
    FW_RETURN_IF_ERROR(check_default(it.key(), it.value(), where));
  for (auto it = j.begin(); it != j.end(); ++it)
    if (it.key() != "id" && it.key() != "version" && it.key() != "defaults" && it.key() != "note")
      return invalid_argument(where + "unknown field '" + it.key().substr(0, 40) +
                              "' (fields: id, version, defaults, note)");
  p.defaults = j["defaults"];
  return p;
}

Status save_defaults_profile(const DefaultsProfile& p, const std::string& path) {
  json j;
  j["id"] = p.id;
  j["version"] = p.version;
  j["defaults"] = p.defaults.is_object() ? p.defaults : json::object();
  return telemetry::write_file_atomic(path, j.dump(2) + "\n", 0644);
}

Result<std::optional<DefaultsProfile>> resolve_defaults_profile(const std::string& flag) {
  std::string path = flag;
  if (path.empty())
    if (const char* env = std::getenv("FACEWEAVE_DEFAULTS"); env && *env) path = env;
  if (path.empty()) return std::optional<DefaultsProfile>();
  FW_ASSIGN_OR_RETURN(DefaultsProfile p, load_defaults_profile(path));
  return std::optional<DefaultsProfile>(std::move(p));
}

namespace experiments {

Status check_option_value(const std::string& option, const std::string& text, const std::string& where) {
  const auto* values = option_values(option);
  json v;
  if (values && values->empty()) {
    char* end = nullptr;
    double d = std::strtod(text.c_str(), &end);
    if (text.empty() || end != text.c_str() + text.size())
      return invalid_argument(where + option + " takes a number, not '" + text.substr(0, 40) + "'");
    v = d;
  } else if (values && is_bool_option(*values)) {
    if (text != "true" && text != "false") return invalid_argument(where + option + " takes true or false");
    v = text == "true";
  } else {
    v = text;
  }
  return check_default(option, v, where);
}

}  // namespace experiments

json experiment_option_value(const std::string& option, const std::string& text) {
  const auto* values = option_values(option);
  if (values && values->empty()) {
    double d = std::strtod(text.c_str(), nullptr);
    if (d == std::floor(d) && std::fabs(d) < 1e15) return json(int64_t(d));
    return json(d);
  }
  if (values && is_bool_option(*values)) return json(text == "true");
  return json(text);
}

}  // namespace faceweave
