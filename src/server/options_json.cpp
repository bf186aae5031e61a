#include "server/options_json.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "pipeline/swap_settings.h"

namespace faceweave::server {
namespace {

using nlohmann::json;

enum class Type { kNumber, kInteger, kBool, kEnum, kString, kEnumList, kNumberList };

struct Field {
  const char* key;
  Type type;
  std::vector<std::string> values;  // kEnum, kEnumList
  double min = 0, max = 0;          // kNumber, kInteger, kNumberList (documentation; validation is shared)
  std::function<json(const JobOptions&)> get;
  std::function<void(const json&, JobOptions&)> set;  // called with a value of the right JSON type
};

template <typename T, typename M>
Field number(const char* key, double min, double max, M member) {
  Field f{key, std::is_integral_v<T> ? Type::kInteger : Type::kNumber, {}, min, max, nullptr, nullptr};
  f.get = [member](const JobOptions& o) {
    const T v = member(const_cast<JobOptions&>(o));
    // A float default shows as the number it was written as (0.8, not 0.800000011920929).
    if constexpr (std::is_same_v<T, float>) return json(std::round(double(v) * 1e6) / 1e6);
    return json(v);
  };
  f.set = [member](const json& v, JobOptions& o) { member(o) = v.get<T>(); };
  return f;
}

template <typename M>
Field enumeration(const char* key, std::vector<std::string> values, M member) {
  Field f{key, Type::kEnum, std::move(values), 0, 0, nullptr, nullptr};
  f.get = [member](const JobOptions& o) { return json(member(const_cast<JobOptions&>(o))); };
  f.set = [member](const json& v, JobOptions& o) { member(o) = v.get<std::string>(); };
  return f;
}

const std::vector<Field>& fields() {
  static const std::vector<Field> kFields = [] {
    std::vector<Field> f;
    Field processors{
        "processors",
        Type::kEnumList,
        {"face_swapper", "face_enhancer", "frame_enhancer", "face_debugger"},
        0,
        0,
        [](const JobOptions& o) { return json(o.swap.processors); },
        [](const json& v, JobOptions& o) { o.swap.processors = v.get<std::vector<std::string>>(); }};
    f.push_back(processors);
    // Models marked unsupported in the manifest (inswapper_128_fp16, gfpgan_1.4) are not offered.
    f.push_back(enumeration("face_swapper_model", {"classic", "inswapper_128"},
                            [](JobOptions& o) -> std::string& { return o.swap.face_swapper_model; }));
    f.push_back(enumeration("face_swapper_pixel_boost",
                            {"128x128", "256x256", "384x384", "512x512", "768x768", "1024x1024"},
                            [](JobOptions& o) -> std::string& { return o.swap.face_swapper_pixel_boost; }));
    f.push_back(number<float>("face_swapper_weight", 0, 1,
                              [](JobOptions& o) -> float& { return o.swap.face_swapper_weight; }));
    Field mask_types{
        "face_mask_types",
        Type::kEnumList,
        {"box", "area"},
        0,
        0,
        [](const JobOptions& o) { return json(o.swap.face_mask_types); },
        [](const json& v, JobOptions& o) { o.swap.face_mask_types = v.get<std::vector<std::string>>(); }};
    f.push_back(mask_types);
    f.push_back(enumeration("blend", {"auto", "seamless", "affine", "laplacian"},
                            [](JobOptions& o) -> std::string& { return o.swap.blend; }));
    f.push_back(enumeration("color_match", {"none", "reinhard", "histogram"},
                            [](JobOptions& o) -> std::string& { return o.swap.color_match; }));
    f.push_back(number<float>("identity_strength", 0, 1,
                              [](JobOptions& o) -> float& { return o.swap.identity_strength; }));
    f.push_back(
        number<float>("face_mask_blur", 0, 1, [](JobOptions& o) -> float& { return o.swap.face_mask_blur; }));
    Field padding{"face_mask_padding",
                  Type::kNumberList,
                  {},
                  0,
                  100,
                  [](const JobOptions& o) {
                    json out = json::array();
                    for (float p : o.swap.face_mask_padding) out.push_back(std::round(double(p) * 1e6) / 1e6);
                    return out;
                  },
                  [](const json& v, JobOptions& o) {
                    std::vector<float> values;
                    if (v.is_number())
                      values.push_back(v.get<float>());
                    else
                      for (const auto& e : v) values.push_back(e.get<float>());
                    expand_padding(values, o.swap.face_mask_padding);
                  }};
    f.push_back(padding);
    Field mouth{"keep_mouth_interior",
                Type::kBool,
                {},
                0,
                0,
                [](const JobOptions& o) { return json(o.swap.keep_mouth_interior); },
                [](const json& v, JobOptions& o) { o.swap.keep_mouth_interior = v.get<bool>(); }};
    f.push_back(mouth);
    Field skin{"skin_mask",
               Type::kBool,
               {},
               0,
               0,
               [](const JobOptions& o) { return json(o.swap.skin_mask); },
               [](const json& v, JobOptions& o) { o.swap.skin_mask = v.get<bool>(); }};
    f.push_back(skin);
    Field sharpness{"match_sharpness",
                    Type::kBool,
                    {},
                    0,
                    0,
                    [](const JobOptions& o) { return json(o.swap.match_sharpness); },
                    [](const json& v, JobOptions& o) { o.swap.match_sharpness = v.get<bool>(); }};
    f.push_back(sharpness);
    // Provenance (docs/provenance.md): on by default; switching them off is recorded like any changed option.
    Field watermark{"watermark",
                    Type::kBool,
                    {},
                    0,
                    0,
                    [](const JobOptions& o) { return json(o.swap.watermark); },
                    [](const json& v, JobOptions& o) { o.swap.watermark = v.get<bool>(); }};
    f.push_back(watermark);
    Field provenance{"provenance",
                     Type::kBool,
                     {},
                     0,
                     0,
                     [](const JobOptions& o) { return json(o.swap.provenance); },
                     [](const json& v, JobOptions& o) { o.swap.provenance = v.get<bool>(); }};
    f.push_back(provenance);
    f.push_back(number<float>("target_lighting", 0, 1,
                              [](JobOptions& o) -> float& { return o.swap.target_lighting; }));
    f.push_back(enumeration("face_selector_mode", {"many", "one", "reference"},
                            [](JobOptions& o) -> std::string& { return o.swap.face_selector_mode; }));
    f.push_back(enumeration("face_selector_order",
                            {"left-right", "right-left", "top-bottom", "bottom-top", "small-large",
                             "large-small", "best-worst", "worst-best"},
                            [](JobOptions& o) -> std::string& { return o.swap.face_selector_order; }));
    f.push_back(enumeration("face_selector_gender", {"", "female", "male"},
                            [](JobOptions& o) -> std::string& { return o.swap.face_selector_gender; }));
    f.push_back(number<int>("face_selector_age_start", 0, 100,
                            [](JobOptions& o) -> int& { return o.swap.face_selector_age_start; }));
    f.push_back(number<int>("face_selector_age_end", 0, 100,
                            [](JobOptions& o) -> int& { return o.swap.face_selector_age_end; }));
    f.push_back(number<int>("reference_face_position", 0, 1000,
                            [](JobOptions& o) -> int& { return o.swap.reference_face_position; }));
    Field reference{"reference_face_image",
                    Type::kString,
                    {},
                    0,
                    0,
                    [](const JobOptions& o) { return json(o.swap.reference_face_image); },
                    [](const json& v, JobOptions& o) { o.swap.reference_face_image = v.get<std::string>(); }};
    f.push_back(reference);
    f.push_back(number<float>("reference_face_distance", 0, 2,
                              [](JobOptions& o) -> float& { return o.swap.reference_face_distance; }));
    f.push_back(enumeration("face_enhancer", {"none", "detail"},
                            [](JobOptions& o) -> std::string& { return o.swap.face_enhancer; }));
    f.push_back(number<float>("face_enhancer_blend", 0, 100,
                              [](JobOptions& o) -> float& { return o.swap.face_enhancer_blend; }));
    // Over the API the frame enhancer is one of the named models: a model file path is a CLI-only choice.
    f.push_back(enumeration("frame_enhancer", {"none", "fsrcnn_x2", "fsrcnn_x4", "espcn_x2", "espcn_x4"},
                            [](JobOptions& o) -> std::string& { return o.swap.frame_enhancer; }));
    f.push_back(number<float>("frame_enhancer_blend", 0, 100,
                              [](JobOptions& o) -> float& { return o.swap.frame_enhancer_blend; }));
    f.push_back(number<int>("output_image_quality", 0, 100,
                            [](JobOptions& o) -> int& { return o.swap.output_image_quality; }));
    f.push_back(enumeration("output_video_encoder", {"libx264", "libx265", "libvpx-vp9"},
                            [](JobOptions& o) -> std::string& { return o.video.encoder; }));
    f.push_back(enumeration(
        "output_video_preset",
        {"ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow"},
        [](JobOptions& o) -> std::string& { return o.video.preset; }));
    f.push_back(
        number<int>("output_video_quality", 0, 100, [](JobOptions& o) -> int& { return o.video.quality; }));
    f.push_back(
        number<double>("output_video_fps", 0, 240, [](JobOptions& o) -> double& { return o.video.fps; }));
    f.push_back(
        number<double>("output_video_scale", 0.1, 4, [](JobOptions& o) -> double& { return o.video.scale; }));
    f.push_back(number<int>("output_audio_volume", 0, 100,
                            [](JobOptions& o) -> int& { return o.video.audio_volume; }));
    f.push_back(number<int>("trim_frame_start", 0, 1e9,
                            [](JobOptions& o) -> int& { return o.video.trim_frame_start; }));
    f.push_back(
        number<int>("trim_frame_end", -1, 1e9, [](JobOptions& o) -> int& { return o.video.trim_frame_end; }));
    f.push_back(number<int>("face_detector_interval", 1, 8,
                            [](JobOptions& o) -> int& { return o.video.face_detector_interval; }));
    f.push_back(
        number<int>("execution_thread_count", 0, 256, [](JobOptions& o) -> int& { return o.video.threads; }));
    f.push_back(enumeration("output_format",
                            {"", "jpg", "png", "webp", "bmp", "mp4", "mov", "mkv", "webm", "avi"},
                            [](JobOptions& o) -> std::string& { return o.output_format; }));
    return f;
  }();
  return kFields;
}

const char* type_name(Type t) {
  switch (t) {
    case Type::kNumber:
      return "number";
    case Type::kInteger:
      return "integer";
    case Type::kBool:
      return "boolean";
    case Type::kEnum:
      return "enum";
    case Type::kString:
      return "string";
    case Type::kEnumList:
      return "enum_list";
    case Type::kNumberList:
      return "number_list";
  }
  return "string";
}

std::string in_range(const Field& f, double v) {
  if (v >= f.min && v <= f.max) return "";
  auto num = [](double x) {
    std::string s = std::to_string(x);
    s.erase(s.find_last_not_of('0') + 1);
    if (!s.empty() && s.back() == '.') s.pop_back();
    return s;
  };
  return "must be between " + num(f.min) + " and " + num(f.max);
}

// The JSON type check (numbers: also the range the catalog publishes); the expectation when `v` does not fit.
std::string type_problem(const Field& f, const json& v) {
  switch (f.type) {
    case Type::kNumber:
      if (!v.is_number() || !std::isfinite(v.get<double>())) return "must be a number";
      return in_range(f, v.get<double>());
    case Type::kInteger:
      return v.is_number_integer() || (v.is_number() && v.get<double>() == std::floor(v.get<double>()) &&
                                       std::abs(v.get<double>()) < 2e9)
                 ? in_range(f, v.get<double>())
                 : "must be a whole number";
    case Type::kBool:
      return v.is_boolean() ? "" : "must be true or false";
    case Type::kString:
      return v.is_string() ? "" : "must be a string";
    case Type::kEnum: {
      if (!v.is_string()) return "must be a string";
      const auto s = v.get<std::string>();
      if (std::find(f.values.begin(), f.values.end(), s) != f.values.end()) return "";
      std::string list;
      for (const auto& x : f.values)
        if (!x.empty()) list += (list.empty() ? "" : ", ") + x;
      return "must be one of " + list + " (got '" + s.substr(0, 40) + "')";
    }
    case Type::kEnumList: {
      if (!v.is_array() || v.empty()) return "must be a non-empty list";
      for (const auto& e : v) {
        if (!e.is_string() ||
            std::find(f.values.begin(), f.values.end(), e.get<std::string>()) == f.values.end()) {
          std::string list;
          for (const auto& x : f.values) list += (list.empty() ? "" : ", ") + x;
          return "must list only " + list;
        }
      }
      return "";
    }
    case Type::kNumberList: {
      const char* expected =
          "must be a number or a list of 1 to 4 numbers (all sides; vertical horizontal; top horizontal "
          "bottom; top right bottom left)";
      // Each number in range before it becomes a float (1e300 does not fit one: undefined behaviour).
      if (v.is_number()) return in_range(f, v.get<double>());
      if (!v.is_array() || v.empty() || v.size() > 4) return expected;
      for (const auto& e : v)
        if (!e.is_number()) return expected;
      for (const auto& e : v)
        if (auto problem = in_range(f, e.get<double>()); !problem.empty()) return problem;
      return "";
    }
  }
  return "";
}

Status validate_all(const JobOptions& o) {
  FW_RETURN_IF_ERROR(pipeline::validate(o.swap));
  return pipeline::validate_video(o.video);
}

const Field* find_field(const std::string& key) {
  for (const auto& f : fields())
    if (key == f.key) return &f;
  return nullptr;
}

}  // namespace

bool is_image_format(const std::string& ext) {
  return ext == "jpg" || ext == "png" || ext == "webp" || ext == "bmp";
}
bool is_video_format(const std::string& ext) {
  return ext == "mp4" || ext == "mov" || ext == "mkv" || ext == "webm" || ext == "avi";
}

bool parse_job_options(const json& options, JobOptions& out, FieldError& error,
                       const ReferenceResolver& resolve_reference) {
  out = JobOptions{};
  if (options.is_null()) return true;
  if (!options.is_object()) {
    error = {invalid_argument("options must be a JSON object"), "options"};
    return false;
  }
  for (const auto& [key, value] : options.items()) {
    const Field* f = find_field(key);
    if (!f) {
      error = {invalid_argument("unknown option '" + key.substr(0, 40) +
                                "'; GET /api/config lists every option (the CLI's flags without dashes)"),
               key};
      return false;
    }
    if (const std::string p = type_problem(*f, value); !p.empty()) {
      error = {invalid_argument(key + " " + p), key};
      return false;
    }
    // The field alone on the defaults: a validation failure here belongs to this field.
    JobOptions alone;
    f->set(value, alone);
    if (Status s = validate_all(alone); !s.is_ok()) {
      error = {s, key};
      return false;
    }
    f->set(value, out);
  }
  if (Status s = validate_all(out); !s.is_ok()) {  // combinations, e.g. trim end before trim start
    error = {s, ""};
    return false;
  }
  // Options that shape only the classic swapper's face would be silently ignored by an ONNX swapper.
  if (out.swap.face_swapper_model != "classic")
    for (const char* key : {"skin_mask", "target_lighting", "match_sharpness"})
      if (options.contains(key)) {
        error = {invalid_argument(std::string(key) + " applies to the classic swapper only, not to " +
                                  out.swap.face_swapper_model + "; leave it out"),
                 key};
        return false;
      }
  if (!out.swap.reference_face_image.empty()) {
    if (!resolve_reference) {
      error = {invalid_argument("reference_face_image is not accepted here"), "reference_face_image"};
      return false;
    }
    auto path = resolve_reference(out.swap.reference_face_image);
    if (!path) {
      error = {path.status(), "reference_face_image"};
      return false;
    }
    out.swap.reference_face_image = *path;
  }
  return true;
}

json job_options_to_json(const JobOptions& options) {
  const JobOptions defaults;
  json j = json::object();
  for (const auto& f : fields()) {
    json v = f.get(options);
    if (v != f.get(defaults)) j[f.key] = v;
  }
  return j;
}

json option_catalog() {
  const JobOptions defaults;
  json j = json::object();
  for (const auto& f : fields()) {
    json e{{"type", type_name(f.type)}, {"default", f.get(defaults)}};
    if (!f.values.empty()) e["values"] = f.values;
    if (f.type == Type::kNumber || f.type == Type::kInteger || f.type == Type::kNumberList) {
      e["min"] = f.min;
      e["max"] = f.max;
    }
    j[f.key] = e;
  }
  return j;
}

}  // namespace faceweave::server
