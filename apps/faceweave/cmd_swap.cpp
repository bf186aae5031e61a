// faceweave swap -s SOURCE [-s SOURCE2 ...] -t TARGET -o OUTPUT [options]
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <iostream>

#include <nlohmann/json.hpp>

#include "cli.h"
#include "faceweave/engine.h"
#include "swap_flags.h"

namespace faceweave::cli {
namespace {

struct SwapArgs {
  SwapRequest request;
  bool json = false;
  std::string progress = "auto";          // auto | terminal | json | none
  std::vector<float> padding;             // --face-mask-padding as given (1 to 4 values)
  std::vector<std::string> classic_only;  // classic-swapper flags given on the command line
};

std::atomic<bool> g_cancel{false};
extern "C" void on_interrupt(int) {
  g_cancel.store(true);
}

// Progress for videos: a live line on a terminal, or one JSON line per second for programs.
std::function<void(const VideoProgressInfo&)> progress_printer(const std::string& mode) {
  const bool tty = ::isatty(STDERR_FILENO);
  if (mode == "none" || (mode == "auto" && !tty)) return nullptr;
  auto last = std::make_shared<std::chrono::steady_clock::time_point>();
  const bool json = mode == "json";
  return [json, last](const VideoProgressInfo& p) {
    const auto now = std::chrono::steady_clock::now();
    const bool done = p.frames_total > 0 && p.frames_done >= p.frames_total;
    if (now - *last < std::chrono::seconds(json ? 1 : 0) + std::chrono::milliseconds(json ? 0 : 200) && !done)
      return;
    *last = now;
    if (json) {
      std::fprintf(stderr, "{\"frames\": %lld, \"total\": %lld, \"fps\": %.2f, \"eta_s\": %.1f}\n",
                   static_cast<long long>(p.frames_done), static_cast<long long>(p.frames_total), p.fps,
                   p.eta_s);
    } else {
      std::fprintf(stderr, "\rframes %lld/%lld  %.1f fps  ETA %.0f s   ",
                   static_cast<long long>(p.frames_done), static_cast<long long>(p.frames_total), p.fps,
                   p.eta_s);
      if (done) std::fprintf(stderr, "\n");
    }
    std::fflush(stderr);
  };
}

int run(const GlobalOptions& global, const SwapArgs& args) {
  // Before the models load (Engine::swap checks again, for every other caller).
  if (Status s = check_output_not_input(args.request); !s.is_ok()) return report(s);
  // Flags that shape only the classic swapper's face would be silently ignored by an ONNX swapper.
  if (args.request.options.face_swapper_model != "classic" && !args.classic_only.empty())
    return report(invalid_argument(args.classic_only.front() +
                                   " applies to the classic swapper only, not to " +
                                   args.request.options.face_swapper_model + "; leave it out"));
  EngineOptions engine_options = global.engine;
  auto engine = Engine::create(engine_options);
  if (!engine) return report(engine.status());
  note_provider(global, (*engine)->provider());
  SwapRequest request = args.request;
  if (!args.padding.empty()) expand_padding(args.padding, request.options.face_mask_padding);
  request.on_progress = progress_printer(args.progress);
  request.cancel = &g_cancel;
  g_cancel.store(false);
  auto previous = std::signal(SIGINT, on_interrupt);
  auto result = (*engine)->swap(request);
  std::signal(SIGINT, previous);
  if (!result) return report(result.status());
  const SwapReport& r = *result;
  if (Telemetry* t = global.telemetry.get()) {
    // Stage times per output and input resolution: what analytics uses to show where the time goes.
    t->record_stages(r.stage_ms, r.output_width, r.output_height, r.video ? int(r.frames) : 1,
                     r.video ? "video" : "image", r.input_width, r.input_height);
    // The faces were found in the target as read.
    if (!r.video) t->record_faces("target", r.faces_found, r.faces_selected, r.input_width, r.input_height);
  }
  if (!r.warning.empty()) std::cerr << "faceweave: warning: " << r.warning << "\n";
  if (args.json) {
    nlohmann::json j;
    j["output"] = args.request.output;
    j["faces_found"] = r.faces_found;
    j["faces_selected"] = r.faces_selected;
    j["faces_swapped"] = r.faces_swapped;
    if (!r.video) j["faces_turned_away"] = r.faces_turned_away;
    j["processors"] = r.processors;
    if (r.video) {
      j["frames"] = r.frames;
      j["frames_without_face"] = r.frames_without_face;
      j["audio"] = r.audio;
      j["seconds"] = r.seconds;
    }
    for (const auto& [stage, ms] : r.stage_ms) j["stage_ms"][stage] = ms;
    std::cout << j.dump(2) << "\n";
    return 0;
  }
  if (r.video) {
    std::printf(
        "swapped %d face(s) over %lld frame(s) into %s in %.1f s (%lld frame(s) without a selected face, "
        "passed through; audio %s)\n",
        r.faces_swapped, static_cast<long long>(r.frames), args.request.output.c_str(), r.seconds,
        static_cast<long long>(r.frames_without_face), r.audio ? "kept" : "none");
    return 0;
  }
  std::printf("swapped %d of %d face(s) into %s (%dx%d)\n", r.faces_swapped, r.faces_found,
              args.request.output.c_str(), r.output_width, r.output_height);
  return 0;
}

}  // namespace

void add_swap_command(CLI::App& app, GlobalOptions& global, int& exit_code) {
  static SwapArgs args;
  SwapOptions& o = args.request.options;
  auto* cmd = app.add_subcommand("swap", "Swap the source face(s) into a target image or video");
  cmd->footer(
      "Examples:\n"
      "  faceweave swap -s me.jpg -t photo.jpg -o photo-swapped.jpg\n"
      "  faceweave swap -s me.jpg -s me2.jpg -t clip.mp4 -o clip-swapped.mp4 --trim-frame-end 300\n"
      "  faceweave swap -s me.jpg -t group.jpg -o out.png --face-selector-mode many --face-enhancer detail");
  cmd->add_option("-s,--source", args.request.sources,
                  "Photo of the identity to use (repeat to average several)")
      ->required();
  cmd->add_option("-t,--target", args.request.target,
                  "Image (jpg, png, webp, bmp) or video (mp4, mov, mkv, webm, avi) to change")
      ->required();
  cmd->add_option("-o,--output", args.request.output,
                  "Output image or video; the format follows the extension")
      ->required();
  cmd->add_flag("--json", args.json, "Print a JSON report");
  add_swap_flags(cmd, o, args.request.video, args.padding);
  cmd->add_option("--progress", args.progress, "auto | terminal | json | none (videos)")
      ->check(CLI::IsMember({"auto", "terminal", "json", "none"}))
      ->capture_default_str();
  cmd->callback([cmd, &global, &exit_code] {
    // A flag that cannot apply to this target is said, not silently ignored.
    if (auto info = probe_media(args.request.target))
      for (const auto& flag : flags_not_for(*cmd, info->kind))
        std::fprintf(stderr,
                     "faceweave: warning: %s applies to %s only; the target is %s, so it is ignored\n",
                     flag.c_str(), info->kind == "image" ? "videos" : "images",
                     info->kind == "image" ? "an image" : "a video");
    // The defaults profile and the running experiments give the flags left out their defaults.
    if (Status s = apply_run_defaults(cmd, global); !s.is_ok()) return void(exit_code = report(s));
    args.classic_only.clear();
    for (const char* flag : {"--skin-mask", "--target-lighting", "--match-sharpness"})
      if (cmd->count(flag) > 0) args.classic_only.push_back(flag);
    exit_code = run(global, args);
  });
}

}  // namespace faceweave::cli
