#include "server/ui_events.h"

#include <cmath>
#include <regex>

#include "faceweave/analytics.h"
#include "server/json_input.h"
#include "server/options_json.h"

namespace faceweave::server {
using nlohmann::json;

namespace {

// Release versions as the UI sends them (0.1.0 becomes 0_1_0): the A/B arms and the version filter.
bool is_version_word(const std::string& w) {
  static const std::regex kVersion("^[0-9]{1,4}(_[0-9]{1,4}){1,3}$");
  return std::regex_match(w, kVersion);
}

std::string shown(const std::string& s) {
  return s.substr(0, 24);
}

}  // namespace

std::string ui_word(std::string_view value) {
  std::string w;
  for (char c : value.substr(0, 24)) {
    const char l = char(std::tolower(static_cast<unsigned char>(c)));
    w += (l >= 'a' && l <= 'z') || (l >= '0' && l <= '9') || l == '_' || l == '-' ? l : '_';
  }
  return w;
}

Result<UiEventVocabulary> UiEventVocabulary::parse(std::string_view list_json) {
  FW_ASSIGN_OR_RETURN(json list, parse_json_input(std::string(list_json), "the UI event list"));
  if (!list.is_object() || !list.contains("events") || !list["events"].is_object())
    return invalid_argument("the UI event list needs an 'events' object");
  UiEventVocabulary v;
  for (const auto& [event, props] : list["events"].items()) {
    if (!props.is_object()) return invalid_argument("UI event " + event + " must map properties to lists");
    for (const auto& [key, set] : props.items()) {
      if (!set.is_string()) return invalid_argument("property " + key + " of " + event + " must name a list");
      const std::string name = set.get<std::string>();
      if (name == "number") continue;
      if (!list.contains(name) || !list[name].is_array())
        return invalid_argument("the UI event list has no list '" + name + "'");
      for (const auto& w : list[name]) {
        if (!w.is_string()) return invalid_argument("list " + name + " must hold words");
        v.sets_[name].insert(w.get<std::string>());
      }
    }
  }
  v.events_ = list["events"];
  return v;
}

const UiEventVocabulary& UiEventVocabulary::standard() {
  static const UiEventVocabulary kStandard = [] {
    auto parsed = parse(embedded_ui_events_json());
    UiEventVocabulary v = parsed ? std::move(parsed).value() : UiEventVocabulary();
    const json catalog = option_catalog();
    for (const auto& [key, option] : catalog.items()) {
      v.add_control(ui_word(key));
      for (const auto& choice : option.value("values", json::array()))
        if (choice.is_string() && !choice.get<std::string>().empty())
          v.add_value(ui_word(choice.get<std::string>()));
    }
    for (const auto& metric : Analytics::ab_metrics()) v.add_value(ui_word(metric));
    return v;
  }();
  return kStandard;
}

std::string UiEventVocabulary::check(const std::string& event, const json& props) const {
  if (!events_.is_object() || !events_.contains(event))
    return "the browser sends no event " + shown(event) + " (web/src/shared/ui_events.json lists them)";
  if (!props.is_object()) return "props must be an object";
  const json& allowed = events_[event];
  for (const auto& [key, value] : props.items()) {
    if (!allowed.contains(key)) return event + " has no property " + shown(key);
    const std::string set = allowed[key].get<std::string>();
    if (set == "number") {
      if (!value.is_number() || !std::isfinite(value.get<double>()))
        return "property " + key + " must be a number";
      continue;
    }
    if (!value.is_string()) return "property " + key + " must be one of the UI's words";
    const std::string word = value.get<std::string>();
    auto it = sets_.find(set);
    const bool known =
        (it != sets_.end() && it->second.count(word)) || (set == "values" && is_version_word(word));
    if (!known) return "property " + key + " is not a word the UI sends (got '" + shown(word) + "')";
  }
  return "";
}

}  // namespace faceweave::server
