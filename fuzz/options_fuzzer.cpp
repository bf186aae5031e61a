// The JSON options reader of /api/jobs and /api/preview: the body parsed with its nesting cap, then the
// options checked field by field. Accepted options must survive their own round trip.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "server/json_input.h"
#include "server/options_json.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace faceweave::server;
  auto body = parse_json_input(std::string_view(reinterpret_cast<const char*>(data), size), "the body");
  if (!body) return 0;
  const nlohmann::json options = body->is_object() && body->contains("options") ? (*body)["options"] : *body;
  JobOptions parsed;
  FieldError error;
  auto resolve = [](const std::string& ref) -> faceweave::Result<std::string> {
    if (ref.rfind("u_", 0) == 0) return "/nonexistent/" + ref;
    return faceweave::not_found("no upload " + ref);
  };
  if (!parse_job_options(options, parsed, error, resolve)) return 0;
  // What was accepted, written back, reads again to the same options.
  parsed.swap.reference_face_image.clear();
  const nlohmann::json again = job_options_to_json(parsed);
  JobOptions reparsed;
  if (!parse_job_options(again, reparsed, error, resolve)) std::abort();
  if (job_options_to_json(reparsed) != again) std::abort();
  return 0;
}
