// The telemetry event schema: the allow-list of event names, the allow-list of typed properties per event,
// their size limits, the consent category of each event, and the fixed-size Event that travels through the
// queue. Nothing outside this allow-list can be recorded: an unknown event or property is rejected, an
// over-long word is truncated, and a word may only hold [a-z0-9_-], so a file path, a file name with its
// extension, a host name, an IP address, an e-mail address or a user agent cannot be stored by construction.
//
// Event is trivially copyable and has no pointers: record() copies it into the queue without allocating.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <type_traits>

#include "faceweave/status.h"

namespace faceweave::telemetry {

// What a consent level lets through (docs/telemetry.md): errors ⊂ usage ⊂ all.
enum class Category : uint8_t { kError, kUsage, kDiagnostic };

enum class EventKind : uint8_t {
  kCommandRun,          // command.run
  kCommandOption,       // command.option
  kStageTiming,         // stage.timing
  kFaceCount,           // face.count
  kUiAction,            // ui.action
  kError,               // error
  kProviderFallback,    // provider.fallback
  kTelemetryDropped,    // telemetry.dropped
  kModelLoad,           // model.load
  kFrameTiming,         // frame.timing
  kUiPage,              // ui.page
  kUiError,             // ui.error
  kExperimentExposure,  // experiment.exposure
  kCount,
};
inline constexpr size_t kEventKindCount = size_t(EventKind::kCount);

enum class PropType : uint8_t { kNone, kInt, kReal, kBool, kEnum, kWord };

inline constexpr size_t kMaxProps = 9;        // properties one event may carry
inline constexpr size_t kMaxWordLength = 24;  // longer words are truncated
inline constexpr size_t kMaxSpecProps = 9;    // properties one event's allow-list may name
inline constexpr size_t kMaxEnumValues = 16;  // values one enum property may take

// One allowed property of one event.
struct PropSpec {
  std::string_view key;
  PropType type = PropType::kNone;
  // kEnum: the allowed values (the stored value is the index). Empty for other types.
  std::array<std::string_view, kMaxEnumValues> values{};
  size_t value_count = 0;
};

struct EventSpec {
  std::string_view name;  // stored as-is: "command.run"
  Category category = Category::kUsage;
  std::array<PropSpec, kMaxSpecProps> props{};
  size_t prop_count = 0;
};

const EventSpec& event_spec(EventKind kind);
// kCount when `name` is not an allowed event.
EventKind event_kind_from_name(std::string_view name);
// Index of `key` in the event's allow-list, or -1.
int prop_index(EventKind kind, std::string_view key);
// Index of `value` among an enum property's values, or -1.
int enum_index(const PropSpec& spec, std::string_view value);
// Index of the `run` property in the event's allow-list (the run id the engine adds), or -1.
int run_prop_index(EventKind kind);

struct Prop {
  uint8_t key = 0;  // index into the event's PropSpec list
  PropType type = PropType::kNone;
  uint8_t length = 0;  // kWord: bytes used in text
  uint8_t pad_[5] = {};
  union {
    int64_t i;  // kInt, kBool, kEnum (index)
    double d;   // kReal
    char text[kMaxWordLength];
  };
  Prop() : i(0) {}
};

// One event as it travels from record() to the writer: 320 bytes, no pointers.
struct Event {
  int64_t ts_ms = 0;                                              // unix time in milliseconds
  double duration_ms = std::numeric_limits<double>::quiet_NaN();  // NaN: none
  double sample_rate = 1.0;  // the probability this event had of being kept
  EventKind kind = EventKind::kCount;
  uint8_t prop_count = 0;
  uint16_t identity = 0;  // the recorder's identity slot (user, session, app version)
  StatusCode outcome = StatusCode::kOk;
  std::array<Prop, kMaxProps> props{};
};
static_assert(std::is_trivially_copyable_v<Event>);
static_assert(sizeof(Event) == 320);
static_assert(sizeof(Prop) == 32);

// Builds an Event and validates every property against the allow-list. The first problem is kept in
// status(); later calls are ignored. Never allocates unless a problem is found (the message).
class EventBuilder {
 public:
  explicit EventBuilder(EventKind kind);

  EventBuilder& set_int(std::string_view key, int64_t value);
  EventBuilder& set_real(std::string_view key, double value);
  EventBuilder& set_bool(std::string_view key, bool value);
  // An enum property takes one of its allowed values; a word property takes [a-z0-9_-] (truncated to
  // kMaxWordLength). Anything else is rejected.
  EventBuilder& set_text(std::string_view key, std::string_view value);
  EventBuilder& duration(double ms);
  EventBuilder& outcome(StatusCode code);

  // Fast paths for the typed helpers, which know their key indices (no name lookup).
  EventBuilder& set_int_at(int key, int64_t value);
  EventBuilder& set_real_at(int key, double value);
  EventBuilder& set_text_at(int key, std::string_view value);

  bool ok() const { return error_.empty(); }
  // Ok, or why the event was rejected ("command.run has no property 'path' (allowed: surface, ...)").
  Status status() const;
  const Event& event() const { return event_; }
  Event& event() { return event_; }

 private:
  Prop* slot(int key, PropType type);
  // The index of `key` in this event's allow-list; -1 (and the builder failed) when unknown or already
  // failed.
  int prop_index(std::string_view key);
  void fail(std::string message);

  Event event_;
  std::string error_;  // empty (no allocation) unless a property was rejected
};

// Whether `word` is a storable word: non-empty, [a-z0-9_-] only. Longer words are truncated, not rejected.
bool is_word(std::string_view word);

// Resolution bucket of a frame, by its shorter side: sd (< 720), 720p, 1080p, 1440p, 4k (>= 2160),
// 8k (>= 4320); "unknown" when a side is 0.
std::string_view resolution_bucket(int width, int height);

// The event's properties as a compact JSON object, exactly as stored: {"stage":"detect","frames":1}.
// Appends to `out` (the writer reuses one buffer).
void append_props_json(const Event& event, std::string& out);

}  // namespace faceweave::telemetry
