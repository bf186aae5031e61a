#include "server/run_defaults.h"

namespace faceweave::server {

using nlohmann::json;

RunDefaults run_defaults(const std::optional<DefaultsProfile>& profile, const std::string& data_dir,
                         Telemetry* telemetry, const json& options, const std::string& client) {
  RunDefaults r;
  const bool measured = telemetry && telemetry->enabled() && telemetry->consent() >= TelemetryConsent::kUsage;
  std::string pseudonym;
  if (measured) {
    pseudonym = client.empty() ? telemetry->user() : telemetry->client_pseudonym(client);
    if (!client.empty() && !pseudonym.empty()) r.client = client;
  }
  std::vector<Experiment> running;
  if (!pseudonym.empty())
    if (auto e = running_experiments(data_dir)) running = std::move(*e);
  auto given = [&options](const std::string& option) -> std::optional<std::string> {
    if (!options.is_object() || !options.contains(option)) return std::nullopt;
    return default_value_text(options[option]);
  };
  ResolvedDefaults resolved = resolve_defaults(profile ? &*profile : nullptr, running, pseudonym, given);
  for (auto& [option, value] : resolved.defaults) r.defaults[option] = value;
  r.exposures = std::move(resolved.exposures);
  return r;
}

json merged_options(const json& defaults, const json& options) {
  if (!options.is_null() && !options.is_object()) return options;  // parse_job_options says what is wrong
  json merged = defaults.is_object() ? defaults : json::object();
  if (options.is_object()) merged.update(options);
  return merged;
}

void apply_to_config(json& config, const std::optional<DefaultsProfile>& profile, const RunDefaults& d) {
  json& catalog = config["options"];
  for (auto it = d.defaults.begin(); it != d.defaults.end(); ++it)
    if (catalog.is_object() && catalog.contains(it.key()) && catalog[it.key()].is_object())
      catalog[it.key()]["default"] = it.value();
  config["defaults_profile"] =
      profile ? json{{"id", profile->id}, {"version", profile->version}} : json(nullptr);
  json arms = json::array();
  for (const auto& x : d.exposures) arms.push_back({{"experiment", x.experiment}, {"arm", x.arm}});
  config["experiments"] = arms;
}

}  // namespace faceweave::server
