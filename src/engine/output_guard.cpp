// faceweave never writes over one of its own inputs (docs/cli.md): an output that is a source, the target
// or the reference photo, by the same path or through a symbolic or hard link, is refused before any work.
#include "core/same_file.h"
#include "faceweave/engine.h"

namespace faceweave {

Status check_output_not_input(const std::string& output,
                              const std::vector<std::pair<std::string, std::string>>& inputs) {
  if (output.empty()) return Status::ok();
  for (const auto& [role, path] : inputs) {
    if (!core::same_file(output, path)) continue;
    return invalid_argument("output " + output + " is the " + role +
                            (path == output ? std::string() : " " + path + " (the same file)") +
                            " itself; faceweave never overwrites its input, choose another path");
  }
  return Status::ok();
}

Status check_output_not_input(const SwapRequest& request) {
  std::vector<std::pair<std::string, std::string>> inputs;
  for (const auto& s : request.sources) inputs.emplace_back("source", s);
  inputs.emplace_back("target", request.target);
  if (!request.options.reference_face_image.empty())
    inputs.emplace_back("reference face image", request.options.reference_face_image);
  return check_output_not_input(request.output, inputs);
}

}  // namespace faceweave
