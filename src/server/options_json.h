// The swap options as JSON (REST API and stored jobs): the CLI's flag names without dashes, `_` for `-`.
// Parsing checks each field's JSON type, then runs the same validation as the CLI (pipeline/swap_settings),
// one field at a time first so a bad value is reported with the field that holds it.
#pragma once

#include <functional>
#include <string>

#include <nlohmann/json.hpp>

#include "faceweave/options.h"
#include "faceweave/status.h"

namespace faceweave::server {

struct JobOptions {
  SwapOptions swap;
  VideoOptions video;
  std::string output_format;  // jpg png webp bmp | mp4 mov mkv webm avi; empty: follow the target
};

// A field-level error: the Status plus the JSON field it concerns ("" when none).
struct FieldError {
  Status status;
  std::string field;
};

// Turns an upload id given as reference_face_image into a file path (the API), or checks a path (the CLI).
using ReferenceResolver = std::function<Result<std::string>(const std::string&)>;

// Parses `options` (an object; null means all defaults). On failure returns false and fills `error`.
bool parse_job_options(const nlohmann::json& options, JobOptions& out, FieldError& error,
                       const ReferenceResolver& resolve_reference = nullptr);

// The options that differ from the defaults, as JSON (what a job stores and shows).
nlohmann::json job_options_to_json(const JobOptions& options);

// Every option with its type, default and allowed values or range: GET /api/config.
nlohmann::json option_catalog();

// Output formats by media kind.
bool is_image_format(const std::string& ext);
bool is_video_format(const std::string& ext);

}  // namespace faceweave::server
