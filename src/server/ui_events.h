// The browser events /api/events keeps: only those the web UI's own enumerated controls send. The list is
// web/src/shared/ui_events.json (the UI reads the same file; the build embeds it here), widened with what
// the server itself enumerates: the swap option names (controls), their choices and the A/B metric names
// (values), and release versions. Any other event name, property or word is refused, so a page cannot
// smuggle free text (a name, an address) into the telemetry database.
#pragma once

#include <map>
#include <set>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "faceweave/status.h"

namespace faceweave::server {

class UiEventVocabulary {
 public:
  // From the JSON list's text alone (the fuzz target and tests use this).
  static Result<UiEventVocabulary> parse(std::string_view list_json);
  // The embedded list plus the option catalog, its choices, the A/B metrics and version words.
  static const UiEventVocabulary& standard();

  void add_control(const std::string& word) { sets_["controls"].insert(word); }
  void add_value(const std::string& word) { sets_["values"].insert(word); }

  // Empty when `event` with `props` may be kept; otherwise why not (for the client, never echoing more
  // than a short prefix of what it sent).
  std::string check(const std::string& event, const nlohmann::json& props) const;

 private:
  nlohmann::json events_;                              // event -> {property -> set name | "number"}
  std::map<std::string, std::set<std::string>> sets_;  // set name -> its words
};

// The word the UI makes of a value before sending it (web/src/shared/telemetry.js, toWord): lower case,
// anything but [a-z0-9_-] becomes '_', at most 24 characters.
std::string ui_word(std::string_view value);

// The text of web/src/shared/ui_events.json, embedded at build time.
std::string_view embedded_ui_events_json();

}  // namespace faceweave::server
