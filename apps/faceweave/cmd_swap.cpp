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

namespace faceweave::cli {
namespace {

struct SwapArgs {
  SwapRequest request;
  bool json = false;
  std::string progress = "auto";  // auto | terminal | json | none
  std::vector<float> padding;     // --face-mask-padding as given (1 to 4 values)
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
    // Stage times per resolution: what analytics uses to show where the time goes.
    t->record_stages(r.stage_ms, r.output_width, r.output_height, r.video ? int(r.frames) : 1,
                     r.video ? "video" : "image");
    if (!r.video) t->record_faces("target", r.faces_found, r.faces_selected, r.output_width, r.output_height);
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
  cmd->add_option("--processors", o.processors, "face_swapper face_enhancer frame_enhancer face_debugger")
      ->capture_default_str();
  cmd->add_option(
         "--face-swapper-model", o.face_swapper_model,
         "classic (no download) | inswapper_128 | inswapper_128_fp16 (`faceweave models download NAME`)")
      ->capture_default_str();
  cmd->add_option("--face-swapper-pixel-boost", o.face_swapper_pixel_boost,
                  "ONNX swappers: 128x128 | 256x256 | 384x384 | 512x512 | 768x768 | 1024x1024")
      ->capture_default_str();
  cmd->add_option("--face-swapper-weight", o.face_swapper_weight,
                  "ONNX swappers: 0..1, more of the source identity above 0.5, more of the target below")
      ->capture_default_str();
  cmd->add_option("--face-mask-types", o.face_mask_types, "ONNX swappers: box, and optionally area")
      ->capture_default_str();
  cmd->add_option("--blend", o.blend, "seamless | affine | laplacian")->capture_default_str();
  cmd->add_option("--color-match", o.color_match, "none | reinhard | histogram")->capture_default_str();
  cmd->add_option("--identity-strength", o.identity_strength,
                  "0..1: share of the source's feature geometry; the face is fully opaque from 0.5 on")
      ->capture_default_str();
  cmd->add_option("--face-mask-blur", o.face_mask_blur, "0..1: feather of the mask edge")
      ->capture_default_str();
  cmd->add_option("--face-mask-padding", args.padding,
                  "percent of the face cut away: 1 value (every side), 2 (vertical horizontal), 3 (top "
                  "horizontal bottom) or 4 (top right bottom left), like CSS margins")
      ->expected(1, 4)
      ->check(CLI::Range(0.0f, 100.0f));
  cmd->add_option("--keep-mouth-interior", o.keep_mouth_interior,
                  "true: the target's open mouth and teeth stay (its expression); false: swap them too")
      ->capture_default_str();
  cmd->add_flag("--watermark,!--no-watermark", o.watermark,
                "Invisible watermark around each swapped face (default on; docs/provenance.md)");
  cmd->add_flag("--provenance,!--no-provenance", o.provenance,
                "Synthetic-media metadata in the output file (default on; docs/provenance.md)");
  cmd->add_option("--skin-mask", o.skin_mask,
                  "true: keep the target wherever either face is not skin (bangs, glasses frames, beard)")
      ->capture_default_str();
  cmd->add_option("--target-lighting", o.target_lighting,
                  "0..1: share of the target's light, shading and skin colour kept on the new face")
      ->check(CLI::Range(0.0f, 1.0f))
      ->capture_default_str();
  cmd->add_option("--face-selector-mode", o.face_selector_mode, "many | one | reference")
      ->capture_default_str();
  cmd->add_option("--face-selector-order", o.face_selector_order,
                  "left-right | right-left | top-bottom | bottom-top | small-large | large-small | "
                  "best-worst | worst-best")
      ->capture_default_str();
  cmd->add_option("--face-selector-gender", o.face_selector_gender,
                  "female | male. Unreliable with the default pack: its gender model called 2 of the 3 women "
                  "in the test photos male; prefer --reference-face-image");
  cmd->add_option("--face-selector-age-start", o.face_selector_age_start, "Youngest age to swap")
      ->capture_default_str();
  cmd->add_option("--face-selector-age-end", o.face_selector_age_end, "Oldest age to swap")
      ->capture_default_str();
  cmd->add_option("--reference-face-position", o.reference_face_position,
                  "Which target face (in the selector order) is the reference")
      ->capture_default_str();
  cmd->add_option("--reference-face-image", o.reference_face_image, "A photo of the person to replace");
  cmd->add_option("--reference-face-distance", o.reference_face_distance,
                  "Cosine distance under which a face counts as the reference person")
      ->capture_default_str();
  cmd->add_option("--face-enhancer", o.face_enhancer, "none | detail | gfpgan_1.4 (downloaded)")
      ->capture_default_str();
  cmd->add_option("--face-enhancer-blend", o.face_enhancer_blend, "0..100")->capture_default_str();
  cmd->add_option("--frame-enhancer", o.frame_enhancer, "none | fsrcnn_x2 | fsrcnn_x4 | espcn_x2 | espcn_x4")
      ->capture_default_str();
  cmd->add_option("--frame-enhancer-blend", o.frame_enhancer_blend, "0..100")->capture_default_str();
  VideoOptions& v = args.request.video;
  cmd->add_option("--output-video-encoder", v.encoder, "libx264 | libx265 | libvpx-vp9")
      ->capture_default_str();
  cmd->add_option("--output-video-preset", v.preset, "ultrafast .. veryslow")->capture_default_str();
  cmd->add_option("--output-video-quality", v.quality, "0..100, mapped to CRF (docs/cli.md)")
      ->capture_default_str();
  cmd->add_option("--output-video-fps", v.fps, "Output frame rate (default: keep the target's timing)");
  cmd->add_option("--output-video-scale", v.scale, "Output size relative to the target")
      ->capture_default_str();
  cmd->add_option("--output-audio-volume", v.audio_volume, "0..100; 0 drops the audio")
      ->capture_default_str();
  cmd->add_option("--trim-frame-start", v.trim_frame_start, "First frame kept")->capture_default_str();
  cmd->add_option("--trim-frame-end", v.trim_frame_end, "First frame dropped (default: to the end)");
  cmd->add_option("--face-detector-interval", v.face_detector_interval,
                  "Videos: run the detector on every Nth frame (1..8); frames between follow the faces")
      ->capture_default_str();
  cmd->add_option("--execution-thread-count", v.threads, "Worker threads (default: the number of cores)");
  cmd->add_option("--progress", args.progress, "auto | terminal | json | none (videos)")
      ->check(CLI::IsMember({"auto", "terminal", "json", "none"}))
      ->capture_default_str();
  cmd->add_option("--output-image-quality", o.output_image_quality, "0..100 (jpg, webp)")
      ->capture_default_str();
  cmd->callback([&global, &exit_code] { exit_code = run(global, args); });
}

}  // namespace faceweave::cli
