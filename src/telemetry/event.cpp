#include "telemetry/event.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <initializer_list>

namespace faceweave::telemetry {
namespace {

PropSpec word(std::string_view key) {
  return {key, PropType::kWord, {}, 0};
}
PropSpec integer(std::string_view key) {
  return {key, PropType::kInt, {}, 0};
}
PropSpec real(std::string_view key) {
  return {key, PropType::kReal, {}, 0};
}
PropSpec boolean(std::string_view key) {
  return {key, PropType::kBool, {}, 0};
}
PropSpec enumeration(std::string_view key, std::initializer_list<std::string_view> values) {
  PropSpec s{key, PropType::kEnum, {}, 0};
  for (auto v : values) s.values[s.value_count++] = v;
  return s;
}

EventSpec spec(std::string_view name, Category category, std::initializer_list<PropSpec> props) {
  EventSpec e{name, category, {}, 0};
  for (const auto& p : props) e.props[e.prop_count++] = p;
  return e;
}

// The allow-list. docs/telemetry.md documents every entry; keep them in step.
const std::array<EventSpec, kEventKindCount>& specs() {
  // Resolution buckets (resolution_bucket): the output frame's, and for stage times the input's (the
  // target as read), never an exact size.
  static const auto kBuckets = [](std::string_view key) {
    return enumeration(key, {"unknown", "sd", "720p", "1080p", "1440p", "4k", "8k"});
  };
  static const auto kResolution = kBuckets("resolution");
  static const auto kSurface = enumeration("surface", {"cli", "api", "web", "python"});
  static const auto kProvider = [](std::string_view key) {
    return enumeration(key, {"cpu", "cuda", "openvino", "opencl"});
  };
  // `run`: the run id (16 hex digits) the engine adds to every event recorded inside a TelemetryRun.
  static const std::array<EventSpec, kEventKindCount> kSpecs = {
      spec("command.run", Category::kUsage,
           {kSurface, word("command"), integer("exit_code"), integer("changed"), kProvider("provider"),
            kProvider("requested"), boolean("fallback"), word("run"), word("profile")}),
      spec("command.option", Category::kUsage,
           {word("command"), word("option"), word("value"), real("number"), word("run")}),
      spec("stage.timing", Category::kUsage,
           {word("stage"), kResolution, integer("frames"), enumeration("media", {"image", "video"}),
            word("run"), kBuckets("input")}),
      spec("face.count", Category::kUsage,
           {enumeration("role", {"source", "target", "reference"}), integer("detected"), integer("selected"),
            kResolution, word("run")}),
      spec("ui.action", Category::kUsage,
           {word("control"),
            enumeration("action", {"change", "click", "toggle", "open", "drop", "submit", "upload", "preview",
                                   "run", "download"}),
            word("value"), real("number"), word("old_value"), real("old_number")}),
      spec("error", Category::kError,
           {word("where"), kSurface, kProvider("requested"), kProvider("provider"), boolean("fallback"),
            word("run")}),
      spec("provider.fallback", Category::kError,
           {kProvider("requested"), kProvider("used"), word("model"), word("run")}),
      spec("telemetry.dropped", Category::kError, {integer("dropped"), integer("total")}),
      spec("model.load", Category::kDiagnostic,
           {word("model"), kProvider("provider"), boolean("cached"), word("run")}),
      spec("frame.timing", Category::kDiagnostic,
           {word("stage"), kResolution, integer("frame"), word("run")}),
      spec("ui.page", Category::kUsage, {enumeration("page", {"workbench", "insights"})}),
      spec("ui.error", Category::kError, {word("code"), word("where")}),
      // A run used an experiment's arm as a default (explicit: the user set the option, so it did not).
      spec("experiment.exposure", Category::kUsage,
           {word("experiment"), word("arm"), word("value"), boolean("explicit"), word("run")}),
  };
  return kSpecs;
}

std::string allowed_keys(const EventSpec& s) {
  std::string out;
  for (size_t i = 0; i < s.prop_count; ++i) {
    if (i) out += ", ";
    out += s.props[i].key;
  }
  return out;
}

std::string allowed_values(const PropSpec& p) {
  std::string out;
  for (size_t i = 0; i < p.value_count; ++i) {
    if (i) out += ", ";
    out += p.values[i];
  }
  return out;
}

// Rejected values are echoed only in part: the message goes back to the caller, but there is no reason
// to repeat a whole path.
std::string quoted(std::string_view v) {
  // Appended piece by piece: GCC 12 at -O3 reports a false -Wrestrict on the operator+ chain.
  std::string q;
  q.reserve(std::min<size_t>(v.size(), 40) + 5);
  q += '\'';
  q.append(v.substr(0, 40));
  q += v.size() > 40 ? "...'" : "'";
  return q;
}

const char* type_name(PropType t) {
  switch (t) {
    case PropType::kInt:
      return "an integer";
    case PropType::kReal:
      return "a number";
    case PropType::kBool:
      return "a boolean";
    case PropType::kEnum:
      return "one of its listed values";
    case PropType::kWord:
      return "a word of [a-z0-9_-]";
    case PropType::kNone:
      break;
  }
  return "nothing";
}

void append_number(std::string& out, double v) {
  char buf[32];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

void append_number(std::string& out, int64_t v) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

}  // namespace

const EventSpec& event_spec(EventKind kind) {
  return specs()[size_t(kind) < kEventKindCount ? size_t(kind) : 0];
}

int run_prop_index(EventKind kind) {
  static const auto kIndex = [] {
    std::array<int, kEventKindCount> out{};
    for (size_t i = 0; i < kEventKindCount; ++i) out[i] = prop_index(EventKind(i), "run");
    return out;
  }();
  return size_t(kind) < kEventKindCount ? kIndex[size_t(kind)] : -1;
}

EventKind event_kind_from_name(std::string_view name) {
  const auto& s = specs();
  for (size_t i = 0; i < s.size(); ++i)
    if (s[i].name == name) return EventKind(i);
  return EventKind::kCount;
}

int prop_index(EventKind kind, std::string_view key) {
  if (size_t(kind) >= kEventKindCount) return -1;
  const EventSpec& s = event_spec(kind);
  for (size_t i = 0; i < s.prop_count; ++i)
    if (s.props[i].key == key) return int(i);
  return -1;
}

int enum_index(const PropSpec& spec, std::string_view value) {
  for (size_t i = 0; i < spec.value_count; ++i)
    if (spec.values[i] == value) return int(i);
  return -1;
}

bool is_word(std::string_view word) {
  if (word.empty()) return false;
  for (char c : word) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

std::string_view resolution_bucket(int width, int height) {
  int side = std::min(width, height);
  if (side <= 0) return "unknown";
  if (side < 720) return "sd";
  if (side < 1080) return "720p";
  if (side < 1440) return "1080p";
  if (side < 2160) return "1440p";
  if (side < 4320) return "4k";
  return "8k";
}

EventBuilder::EventBuilder(EventKind kind) {
  event_.kind = kind;
  if (size_t(kind) >= kEventKindCount) fail("unknown telemetry event");
}

void EventBuilder::fail(std::string message) {
  if (error_.empty()) error_ = std::move(message);
}

Status EventBuilder::status() const {
  if (error_.empty()) return Status::ok();
  return invalid_argument(error_);
}

Prop* EventBuilder::slot(int key, PropType type) {
  if (!ok()) return nullptr;
  const EventSpec& s = event_spec(event_.kind);
  if (key < 0 || size_t(key) >= s.prop_count) {
    fail(std::string(s.name) + ": no such property index");
    return nullptr;
  }
  if (s.props[size_t(key)].type != type) {
    fail(std::string(s.name) + "." + std::string(s.props[size_t(key)].key) + " takes " +
         type_name(s.props[size_t(key)].type));
    return nullptr;
  }
  for (size_t i = 0; i < event_.prop_count; ++i)
    if (event_.props[i].key == key) return &event_.props[i];
  if (event_.prop_count >= kMaxProps) {
    fail(std::string(s.name) + ": at most " + std::to_string(kMaxProps) + " properties per event");
    return nullptr;
  }
  Prop* p = &event_.props[event_.prop_count++];
  p->key = uint8_t(key);
  p->type = type;
  return p;
}

namespace {
int lookup(EventKind kind, std::string_view key, std::string* error) {
  int i = prop_index(kind, key);
  if (i < 0 && size_t(kind) < kEventKindCount)
    *error = std::string(event_spec(kind).name) + " has no property " + quoted(key) +
             " (allowed: " + allowed_keys(event_spec(kind)) + ")";
  return i;
}
}  // namespace

int EventBuilder::prop_index(std::string_view key) {
  if (!ok()) return -1;
  std::string error;
  const int i = lookup(event_.kind, key, &error);
  if (i < 0) fail(std::move(error));
  return i;
}

EventBuilder& EventBuilder::set_int(std::string_view key, int64_t value) {
  const int i = prop_index(key);
  if (i < 0) return *this;
  // A boolean or a whole-number real given as an integer is accepted: callers need not know the type.
  PropType t = event_spec(event_.kind).props[size_t(i)].type;
  if (t == PropType::kReal) return set_real_at(i, double(value));
  if (t == PropType::kBool) return set_int_at(i, value != 0), *this;
  return set_int_at(i, value);
}

EventBuilder& EventBuilder::set_real(std::string_view key, double value) {
  const int i = prop_index(key);
  if (i < 0) return *this;
  if (event_spec(event_.kind).props[size_t(i)].type == PropType::kInt) {
    if (!std::isfinite(value)) {
      fail(std::string(event_spec(event_.kind).name) + "." + std::string(key) + " must be finite");
      return *this;
    }
    return set_int_at(i, int64_t(std::llround(value)));
  }
  return set_real_at(i, value);
}

EventBuilder& EventBuilder::set_bool(std::string_view key, bool value) {
  const int i = prop_index(key);
  if (i < 0) return *this;
  if (Prop* p = slot(i, PropType::kBool)) p->i = value ? 1 : 0;
  return *this;
}

EventBuilder& EventBuilder::set_text(std::string_view key, std::string_view value) {
  const int i = prop_index(key);
  if (i < 0) return *this;
  return set_text_at(i, value);
}

EventBuilder& EventBuilder::set_int_at(int key, int64_t value) {
  if (!ok()) return *this;
  const EventSpec& s = event_spec(event_.kind);
  PropType t = key >= 0 && size_t(key) < s.prop_count ? s.props[size_t(key)].type : PropType::kInt;
  if (t == PropType::kBool) {
    if (Prop* p = slot(key, PropType::kBool)) p->i = value != 0;
    return *this;
  }
  if (Prop* p = slot(key, PropType::kInt)) p->i = value;
  return *this;
}

EventBuilder& EventBuilder::set_real_at(int key, double value) {
  if (!ok()) return *this;
  if (!std::isfinite(value)) {
    const EventSpec& s = event_spec(event_.kind);
    std::string k = key >= 0 && size_t(key) < s.prop_count ? std::string(s.props[size_t(key)].key) : "?";
    fail(std::string(s.name) + "." + k + " must be a finite number");
    return *this;
  }
  if (Prop* p = slot(key, PropType::kReal)) p->d = value;
  return *this;
}

EventBuilder& EventBuilder::set_text_at(int key, std::string_view value) {
  if (!ok()) return *this;
  const EventSpec& s = event_spec(event_.kind);
  if (key < 0 || size_t(key) >= s.prop_count) return slot(key, PropType::kWord), *this;
  const PropSpec& ps = s.props[size_t(key)];
  if (ps.type == PropType::kEnum) {
    int v = enum_index(ps, value);
    if (v < 0) {
      fail(std::string(s.name) + "." + std::string(ps.key) + " does not allow " + quoted(value) +
           " (allowed: " + allowed_values(ps) + ")");
      return *this;
    }
    if (Prop* p = slot(key, PropType::kEnum)) p->i = v;
    return *this;
  }
  if (ps.type != PropType::kWord) return slot(key, PropType::kWord), *this;
  // The whole value is checked before truncation, so a long path cannot slip in through its first bytes.
  if (!is_word(value)) {
    fail(std::string(s.name) + "." + std::string(ps.key) + " must be a word of [a-z0-9_-], not " +
         quoted(value));
    return *this;
  }
  if (Prop* p = slot(key, PropType::kWord)) {
    size_t n = std::min(value.size(), kMaxWordLength);
    std::memcpy(p->text, value.data(), n);
    p->length = uint8_t(n);
  }
  return *this;
}

EventBuilder& EventBuilder::duration(double ms) {
  if (std::isnan(ms)) return *this;
  event_.duration_ms = std::isfinite(ms) ? std::max(ms, 0.0) : std::numeric_limits<double>::max();
  return *this;
}

EventBuilder& EventBuilder::outcome(StatusCode code) {
  event_.outcome = code;
  return *this;
}

void append_props_json(const Event& event, std::string& out) {
  const EventSpec& s = event_spec(event.kind);
  out += '{';
  for (size_t i = 0; i < event.prop_count && i < kMaxProps; ++i) {
    const Prop& p = event.props[i];
    if (p.key >= s.prop_count) continue;
    const PropSpec& ps = s.props[p.key];
    if (out.back() != '{') out += ',';
    out += '"';
    out += ps.key;
    out += "\":";
    switch (p.type) {
      case PropType::kInt:
        append_number(out, p.i);
        break;
      case PropType::kReal:
        append_number(out, p.d);
        break;
      case PropType::kBool:
        out += p.i ? "true" : "false";
        break;
      case PropType::kEnum:
        out += '"';
        out += size_t(p.i) < ps.value_count ? ps.values[size_t(p.i)] : std::string_view("unknown");
        out += '"';
        break;
      case PropType::kWord:
        // Words were checked against [a-z0-9_-] on the way in: nothing to escape.
        out += '"';
        out.append(p.text, std::min<size_t>(p.length, kMaxWordLength));
        out += '"';
        break;
      case PropType::kNone:
        out += "null";
        break;
    }
  }
  out += '}';
}

}  // namespace faceweave::telemetry
