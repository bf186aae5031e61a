// faceweave inspect FILE [--json]: is the file marked as synthetic (metadata, watermark, or neither)?
#include <cstdio>
#include <iostream>

#include <nlohmann/json.hpp>

#include "cli.h"
#include "faceweave/engine.h"

namespace faceweave::cli {
namespace {

struct InspectArgs {
  std::string file;
  bool json = false;
};

int run(const GlobalOptions& global, const InspectArgs& args) {
  auto engine = Engine::create(global.engine);
  if (!engine) return report(engine.status());
  global.provider_used = (*engine)->provider().used;
  auto r = (*engine)->inspect(args.file);
  if (!r) return report(r.status());
  if (args.json) {
    std::cout << r->to_json().dump(2) << "\n";
    return 0;
  }
  std::printf("%s (%s)\n", args.file.c_str(), r->kind.c_str());
  if (r->metadata_present)
    std::printf("  metadata: %s (%s; %s)\n", r->metadata_synthetic ? "synthetic" : "not synthetic",
                r->digital_source_type.c_str(), r->software_agent.c_str());
  else
    std::printf("  metadata: none\n");
  if (r->watermark_payload_read)
    std::printf("  watermark: found (confidence %.2f), version %d, %s, run %08x\n", r->watermark_confidence,
                r->watermark_version, r->watermark_synthetic ? "synthetic" : "not synthetic",
                r->watermark_run_id);
  else if (r->watermark_found)
    std::printf("  watermark: found (presence mark, score %.1f, confidence %.2f); payload not readable\n",
                r->watermark_presence_score, r->watermark_confidence);
  else
    std::printf("  watermark: not found (%d face(s) in %d frame(s) checked)\n", r->faces_checked,
                r->frames_checked);
  return 0;
}

}  // namespace

void add_inspect_command(CLI::App& app, GlobalOptions& global, int& exit_code) {
  static InspectArgs args;
  auto* cmd = app.add_subcommand("inspect", "Is a file marked as synthetic? Its metadata and its watermark");
  cmd->add_option("file", args.file, "Image or video")->required();
  cmd->add_flag("--json", args.json, "Print JSON");
  cmd->callback([&global, &exit_code] { exit_code = run(global, args); });
}

}  // namespace faceweave::cli
