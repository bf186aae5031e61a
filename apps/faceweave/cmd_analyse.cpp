// faceweave analyse IMAGE [--json] [--debug-out annotated.png]
#include <cstdio>
#include <iostream>

#include <nlohmann/json.hpp>

#include "cli.h"
#include "faceweave/engine.h"

namespace faceweave::cli {
namespace {

struct AnalyseArgs {
  std::string image;
  bool json = false;
  bool with_embedding = false;
  std::string debug_out;
};

nlohmann::json face_json(const Face& f, size_t index, bool with_embedding) {
  nlohmann::json j;
  j["index"] = index;
  j["box"] = {{"x", f.box.x}, {"y", f.box.y}, {"width", f.box.width}, {"height", f.box.height}};
  j["score"] = f.score;
  if (f.has_landmarks) {
    auto& l68 = j["landmarks68"] = nlohmann::json::array();
    for (const auto& p : f.landmarks68) l68.push_back({p.x, p.y});
    auto& l5 = j["landmarks5"] = nlohmann::json::array();
    for (const auto& p : f.landmarks5) l5.push_back({p.x, p.y});
  }
  if (f.age) j["age"] = *f.age;
  if (f.gender) {
    j["gender"] = *f.gender == Gender::kMale ? "male" : "female";
    j["gender_score"] = f.gender_score;
  }
  if (f.pose) j["pose"] = {{"yaw", f.pose->yaw}, {"pitch", f.pose->pitch}, {"roll", f.pose->roll}};
  if (with_embedding && !f.normed_embedding.empty()) j["embedding"] = f.normed_embedding;
  return j;
}

int run(const GlobalOptions& global, const AnalyseArgs& args) {
  // --debug-out must not replace the image analysed (before the models load).
  if (Status s = check_output_not_input(args.debug_out, {{"image", args.image}}); !s.is_ok())
    return report(s);
  auto image = load_image(args.image);
  if (!image) return report(image.status());
  auto engine = Engine::create(global.engine);
  if (!engine) return report(engine.status());
  note_provider(global, (*engine)->provider());
  auto faces = (*engine)->analyse(*image);
  if (!faces) return report(faces.status());
  if (Telemetry* t = global.telemetry.get()) {
    t->record_faces("target", int(faces->size()), 0, image->cols, image->rows);
  }

  if (!args.debug_out.empty()) {
    Status s = save_image(args.debug_out, (*engine)->draw(*image, *faces));
    if (!s.is_ok()) return report(s);
  }
  if (args.json) {
    nlohmann::json out;
    out["image"] = {{"width", image->cols}, {"height", image->rows}};
    const auto& p = (*engine)->provider();
    out["execution_provider"] = {{"requested", p.requested}, {"used", p.used}};
    if (!p.fallback_reason.empty()) out["execution_provider"]["fallback_reason"] = p.fallback_reason;
    out["faces"] = nlohmann::json::array();
    for (size_t i = 0; i < faces->size(); ++i)
      out["faces"].push_back(face_json((*faces)[i], i, args.with_embedding));
    std::cout << out.dump(2) << "\n";
    return 0;
  }
  std::printf("%s: %dx%d, %zu face(s)\n", args.image.c_str(), image->cols, image->rows, faces->size());
  for (size_t i = 0; i < faces->size(); ++i) {
    const Face& f = (*faces)[i];
    std::printf("  #%zu box %.0f,%.0f %.0fx%.0f score %.3f", i, double(f.box.x), double(f.box.y),
                double(f.box.width), double(f.box.height), double(f.score));
    if (f.age) std::printf(" age %.0f", double(*f.age));
    if (f.gender)
      std::printf(" %s (%.2f)", *f.gender == Gender::kMale ? "male" : "female", double(f.gender_score));
    if (f.pose)
      std::printf(" yaw %.0f pitch %.0f roll %.0f", double(f.pose->yaw), double(f.pose->pitch),
                  double(f.pose->roll));
    std::printf("\n");
  }
  if (!args.debug_out.empty()) std::printf("annotated image: %s\n", args.debug_out.c_str());
  return 0;
}

}  // namespace

void add_analyse_command(CLI::App& app, GlobalOptions& global, int& exit_code) {
  static AnalyseArgs args;
  auto* cmd = app.add_subcommand("analyse", "Find every face: box, score, 68 points, age, gender, head pose");
  cmd->alias("analyze");
  cmd->add_option("image", args.image, "Image file (jpg, png, webp, bmp)")->required();
  cmd->add_flag("--json", args.json, "Print JSON");
  cmd->add_flag("--embedding", args.with_embedding, "Include each face's normalised embedding in the JSON");
  cmd->add_option("--debug-out", args.debug_out, "Write an annotated copy of the image here");
  auto& a = global.engine.analysis;
  cmd->add_option("--face-detector-model", a.detector_model,
                  "fr_detect, yunet_2022mar, scrfd_2.5g, or a model file")
      ->capture_default_str();
  cmd->add_option("--face-detector-score", a.detector_score, "Detector score threshold")
      ->check(CLI::Range(0.01f, 0.99f))
      ->capture_default_str();
  cmd->add_option("--face-landmarker-model", a.landmarker_model, "fr_landmark, dlib_68 or 2dfan4")
      ->capture_default_str();
  cmd->callback([&global, &exit_code] { exit_code = run(global, args); });
}

}  // namespace faceweave::cli
