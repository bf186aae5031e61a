// The browser-event validator of /api/events: a body parsed with its nesting cap, each event checked against
// the UI's vocabulary. Whatever is accepted carries only listed words and finite numbers.
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "server/json_input.h"
#include "server/ui_events.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace faceweave::server;
  auto body = parse_json_input(std::string_view(reinterpret_cast<const char*>(data), size), "the body");
  if (!body || !body->is_object() || !body->contains("events") || !(*body)["events"].is_array()) return 0;
  const auto& vocabulary = UiEventVocabulary::standard();
  for (const auto& e : (*body)["events"]) {
    if (!e.is_object() || !e.contains("event") || !e["event"].is_string()) continue;
    const nlohmann::json props = e.contains("props") ? e["props"] : nlohmann::json::object();
    if (!vocabulary.check(e["event"].get<std::string>(), props).empty()) continue;
    for (const auto& [key, value] : props.items()) {
      if (value.is_number() && !std::isfinite(value.get<double>())) std::abort();
      if (value.is_string() && value.get<std::string>().find_first_of(" /.@:") != std::string::npos)
        std::abort();
      if (!value.is_number() && !value.is_string()) std::abort();
    }
  }
  return 0;
}
