// Swaps every pair of the hard evaluation set (bench/quality/quality_set.h) and writes
//   OUT/contact_sheet.png  one row per swapped face: source | target | output | target face | output face
//   OUT/report.json        every metric per face and pair, and the summary
//   OUT/report.md          the summary table (docs/benchmarks.md "Swap quality")
//   OUT/clips_sheet.png    per clip: source | three target frames | the same output frames, then one face
//                          over eight consecutive frames (clip above, output below)
// Usage: quality_eval [--out DIR] [--images DIR] [--second-recognizer SCRIPT|none] [--pairs NAME,...]
//                     [--no-clips] [--clip-stride N] [--set key=value ...] [--set-file PAIRS.json]
// --pairs names pairs and clips of the set; --no-clips skips the clips.
// --set-file swaps pairs of your own photos instead of the built-in set (the clips are skipped): a JSON array
// of {"name", "source", "target", "source_face" (index, largest first; default the largest), "many" (swap
// every face of the target), "tags"}, image paths relative to the file. Faces the set was never tuned on
// say more about a change than the set itself.
// --set takes the swap options by their API names (blend, color_match, identity_strength, face_mask_blur,
// keep_mouth_interior, target_lighting, skin_mask, match_sharpness, watermark), so two settings can be
// compared on the same set.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "face/face_analyser.h"
#include "infer/model_registry.h"
#include "quality_clips.h"
#include "quality_set.h"

namespace fs = std::filesystem;
using namespace faceweave;

namespace {

cv::Mat fit(const cv::Mat& img, int side) {
  cv::Mat cell(side, side, CV_8UC3, cv::Scalar(32, 32, 32));
  if (img.empty()) return cell;
  const double s = double(side) / std::max(img.cols, img.rows);
  cv::Mat small;
  cv::resize(img, small, cv::Size(std::max(1, int(img.cols * s)), std::max(1, int(img.rows * s))), 0, 0,
             s < 1 ? cv::INTER_AREA : cv::INTER_CUBIC);
  small.copyTo(cell(cv::Rect((side - small.cols) / 2, (side - small.rows) / 2, small.cols, small.rows)));
  return cell;
}

cv::Mat crop_around(const cv::Mat& img, const cv::Rect& box, double grow) {
  const int cx = box.x + box.width / 2, cy = box.y + box.height / 2;
  const int half = int(std::max(box.width, box.height) * grow / 2);
  cv::Rect r(cx - half, cy - half, 2 * half, 2 * half);
  r &= cv::Rect(0, 0, img.cols, img.rows);
  return r.empty() ? cv::Mat() : img(r);
}

// The pairs of a --set-file (see the usage above); an empty vector and a message on stderr when it is wrong.
std::vector<quality::QualityPair> load_set_file(const std::string& path) {
  std::vector<quality::QualityPair> pairs;
  try {
    std::ifstream in(path);
    if (!in) throw std::runtime_error("cannot open it");
    const auto j = nlohmann::json::parse(in);
    for (const auto& e : j) {
      quality::QualityPair p;
      p.name = e.at("name").get<std::string>();
      p.source.file = e.at("source").get<std::string>();
      p.target.file = e.at("target").get<std::string>();
      p.source.face = e.value("source_face", -1);
      p.many = e.value("many", false);
      p.tags = e.value("tags", std::vector<std::string>{});
      pairs.push_back(std::move(p));
    }
    if (pairs.empty()) throw std::runtime_error("no pairs in it");
  } catch (const std::exception& e) {
    std::cerr << "--set-file " << path << ": " << e.what()
              << " (expected a JSON array of {\"name\", \"source\", \"target\", ...})\n";
    pairs.clear();
  }
  return pairs;
}

bool set_option(SwapOptions& o, const std::string& kv) {
  const auto eq = kv.find('=');
  if (eq == std::string::npos) return false;
  const std::string k = kv.substr(0, eq), v = kv.substr(eq + 1);
  if (k == "blend")
    o.blend = v;
  else if (k == "color_match")
    o.color_match = v;
  else if (k == "identity_strength")
    o.identity_strength = std::stof(v);
  else if (k == "face_mask_blur")
    o.face_mask_blur = std::stof(v);
  else if (k == "target_lighting")
    o.target_lighting = std::stof(v);
  else if (k == "skin_mask")
    o.skin_mask = v == "true";
  else if (k == "match_sharpness")
    o.match_sharpness = v == "true";
  else if (k == "watermark")
    o.watermark = v == "true";
  else if (k == "keep_mouth_interior")
    o.keep_mouth_interior = v == "true";
  else
    return false;
  return true;
}

cv::Mat to_height(const cv::Mat& img, int h) {
  if (img.empty()) return cv::Mat(h, h, CV_8UC3, cv::Scalar(32, 32, 32));
  cv::Mat out;
  const double s = double(h) / img.rows;
  cv::resize(img, out, cv::Size(std::max(1, int(img.cols * s)), h), 0, 0,
             s < 1 ? cv::INTER_AREA : cv::INTER_CUBIC);
  return out;
}

cv::Mat pad_to_width(const cv::Mat& img, int w) {
  if (img.cols >= w) return img;
  cv::Mat out(img.rows, w, img.type(), cv::Scalar(32, 32, 32));
  img.copyTo(out(cv::Rect(0, 0, img.cols, img.rows)));
  return out;
}

// Swaps and measures the set's clips (lossless output, so the measures see the swap and not the codec),
// adds their table to `md`, writes clips_sheet.png, and returns their JSON.
Result<nlohmann::json> evaluate_clips(const std::string& out_dir, const std::string& only,
                                      const SwapOptions& options, int stride, const std::string& second,
                                      const face::FaceAnalyser& analyser, const infer::ModelRegistry& models,
                                      std::ostringstream& md) {
  nlohmann::json all = nlohmann::json::array();
  md << "\n| clip | frames | faces measured | swapped | moved (ours) | moved (2nd) | margin ours | margin "
        "2nd | "
        "flicker clip / output | ratio | shading flicker ratio "
        "|\n|---|---|---|---|---|---|---|---|---|---|---|\n";
  std::vector<cv::Mat> rows;
  for (const auto& clip : quality::hard_clips()) {
    if (!only.empty() && only.find("," + clip.name + ",") == std::string::npos) continue;
    VideoOptions video;
    video.quality = 100;
    const std::string work = (fs::path(out_dir) / "clips").string();
    FW_ASSIGN_OR_RETURN(auto r, quality::run_clip(FACEWEAVE_TESTDATA_DIR, clip, options, video, stride,
                                                  analyser, models, work));
    std::cerr << clip.name << ": " << r.frames << " frames, " << r.faces.size() << " faces measured, "
              << r.seconds << " s\n";
    std::vector<quality::SecondDistances> dist;
    if (second != "none") {
      auto d = quality::second_distances(second, r, work);
      if (!d)
        std::cerr << "second recognizer skipped: " << d.status().to_string() << "\n";
      else
        dist = std::move(d).value();
    }
    nlohmann::json cj{{"clip", clip.name},
                      {"tags", clip.tags},
                      {"frames", r.frames},
                      {"seconds", r.seconds},
                      {"flicker_target", r.flicker_target},
                      {"flicker_output", r.flicker_output},
                      {"shading_flicker_target", r.shading_flicker_target},
                      {"shading_flicker_output", r.shading_flicker_output},
                      {"flicker_samples", r.flicker_samples}};
    int swapped = 0, moved = 0, moved2 = 0, n2 = 0;
    double margin = 0, margin2 = 0;
    for (size_t k = 0; k < r.faces.size(); ++k) {
      const auto& f = r.faces[k];
      nlohmann::json fj{{"frame", f.frame},           {"height", f.height},         {"swapped", f.swapped},
                        {"sim_source", f.sim_source}, {"sim_target", f.sim_target}, {"moved", f.moved}};
      swapped += f.swapped, moved += f.moved, margin += f.sim_source - f.sim_target;
      if (!dist.empty()) {
        const double to_s = dist[k].to_source, to_t = dist[k].to_target;
        fj["second_dist_source"] = to_s;
        fj["second_dist_target"] = to_t;
        fj["second_moved"] = to_s < to_t;
        moved2 += to_s < to_t, ++n2, margin2 += to_t - to_s;
      }
      cj["faces"].push_back(fj);
    }
    const double n = std::max<size_t>(1, r.faces.size());
    cj["swapped"] = swapped, cj["moved_ours"] = moved, cj["margin_ours"] = margin / n;
    if (n2) cj["moved_second"] = moved2, cj["margin_second"] = margin2 / n2;
    const double ratio = r.flicker_output / std::max(1e-6, r.flicker_target);
    cj["flicker_ratio"] = ratio;
    const double shading_ratio = r.shading_flicker_output / std::max(1e-6, r.shading_flicker_target);
    cj["shading_flicker_ratio"] = shading_ratio;
    char line[512];
    std::snprintf(line, sizeof line,
                  "| %s | %d | %zu | %d | %d | %s | %.3f | %s | %.2f / %.2f | %.2f | %.2f |\n",
                  clip.name.c_str(), r.frames, r.faces.size(), swapped, moved,
                  n2 ? std::to_string(moved2).c_str() : "-", margin / n,
                  n2 ? std::to_string(margin2 / n2).substr(0, 5).c_str() : "-", r.flicker_target,
                  r.flicker_output, ratio, shading_ratio);
    md << line;
    all.push_back(cj);

    // Sheet rows: source | frames of the clip | the same frames swapped; then the face strips.
    const int h = 200;
    std::vector<cv::Mat> cells = {to_height(r.source, h)};
    for (const auto& m : r.sheet_targets) cells.push_back(to_height(m, h));
    for (const auto& m : r.sheet_outputs) cells.push_back(to_height(m, h));
    cv::Mat row;
    cv::hconcat(cells, row);
    char label[256];
    std::snprintf(label, sizeof label, "%s  moved %d/%zu ours, %d/%d 2nd  flicker %.2f -> %.2f",
                  clip.name.c_str(), moved, r.faces.size(), moved2, n2, r.flicker_target, r.flicker_output);
    cv::rectangle(row, cv::Rect(0, 0, row.cols, 18), cv::Scalar(0, 0, 0), cv::FILLED);
    cv::putText(row, label, cv::Point(4, 13), cv::FONT_HERSHEY_SIMPLEX, 0.42, cv::Scalar(255, 255, 255), 1,
                cv::LINE_AA);
    rows.push_back(row);
    if (!r.strip_target.empty()) {
      rows.push_back(to_height(r.strip_target, 120));
      rows.push_back(to_height(r.strip_output, 120));
    }
  }
  if (!rows.empty()) {
    int w = 0;
    for (const auto& m : rows) w = std::max(w, m.cols);
    for (auto& m : rows) m = pad_to_width(m, w);
    cv::Mat sheet;
    cv::vconcat(rows, sheet);
    cv::imwrite((fs::path(out_dir) / "clips_sheet.png").string(), sheet);
  }
  return all;
}

}  // namespace

int main(int argc, char** argv) {
  std::string out_dir = "build/quality";
  std::string images = fs::path(FACEWEAVE_TESTDATA_DIR) / "images";
  std::string second = fs::path(FACEWEAVE_SOURCE_DIR) / "bench/quality/node/descriptors.sh";
  SwapOptions options;
  std::string only;  // comma-separated pair names; empty: every pair
  bool clips = true;
  int clip_stride = 3;
  std::vector<quality::QualityPair> own_set;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::cerr << a << " needs a value\n";
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--out")
      out_dir = next();
    else if (a == "--images")
      images = next();
    else if (a == "--second-recognizer")
      second = next();
    else if (a == "--pairs")
      only = "," + next() + ",";
    else if (a == "--no-clips")
      clips = false;
    else if (a == "--clip-stride")
      clip_stride = std::max(1, std::atoi(next().c_str()));
    else if (a == "--set-file") {
      const std::string file = next();
      own_set = load_set_file(file);
      if (own_set.empty()) return 2;
      images = fs::absolute(file).parent_path().string();
      clips = false;
    } else if (a == "--set") {
      const std::string kv = next();
      if (!set_option(options, kv)) {
        std::cerr << "unknown or malformed option " << kv << "\n";
        return 2;
      }
    } else {
      std::cerr << "usage: quality_eval [--out DIR] [--images DIR] [--second-recognizer SCRIPT|none] "
                   "[--pairs NAME,...] [--no-clips] [--clip-stride N] [--set key=value ...] "
                   "[--set-file PAIRS.json]\n";
      return 2;
    }
  }
  fs::create_directories(fs::path(out_dir) / "chips");
  const char* env_models = std::getenv("FACEWEAVE_MODELS_DIR");
  auto registry = infer::ModelRegistry::create(
      {FACEWEAVE_MANIFEST_PATH, env_models && *env_models ? env_models : FACEWEAVE_MODELS_DIR_DEFAULT});
  if (!registry) {
    std::cerr << registry.status().to_string() << "\n";
    return 1;
  }
  auto analyser = face::FaceAnalyser::create({}, **registry);
  if (!analyser) {
    std::cerr << analyser.status().to_string() << "\n";
    return 1;
  }

  std::vector<quality::PairResult> results;
  std::vector<std::string> chips;
  for (const auto& pair : own_set.empty() ? quality::hard_set() : own_set) {
    if (!only.empty() && only.find("," + pair.name + ",") == std::string::npos) continue;
    auto r = quality::run_pair(images, pair, options, **analyser, **registry);
    if (!r) {
      std::cerr << r.status().to_string() << "\n";
      return 1;
    }
    for (size_t k = 0; k < r->faces.size(); ++k) {
      auto& f = r->faces[k];
      if (f.chip_output.empty()) continue;
      for (auto [role, chip] :
           {std::pair{"source", &f.chip_source}, {"target", &f.chip_target}, {"output", &f.chip_output}}) {
        const std::string path =
            (fs::path(out_dir) / "chips" / (pair.name + "_" + std::to_string(k) + "_" + role + ".png"))
                .string();
        cv::imwrite(path, *chip);
        chips.push_back(path);
      }
    }
    std::cerr << pair.name << ": " << r->faces.size() << " faces, " << r->seconds << " s\n";
    results.push_back(std::move(r).value());
  }

  std::vector<std::vector<float>> desc;
  if (second != "none" && !chips.empty()) {
    auto d = quality::second_descriptors(second, chips, fs::absolute(out_dir).string());
    if (!d)
      std::cerr << "second recognizer skipped: " << d.status().to_string() << "\n";
    else
      desc = std::move(d).value();
  }

  nlohmann::json report = nlohmann::json::array();
  std::ostringstream md;
  md << "| pair | faces | moved (ours) | moved (2nd) | sim src/tgt (ours) | dist src/tgt (2nd) | NME | mouth "
        "NME | "
        "seam | dE | shading | outside |\n|---|---|---|---|---|---|---|---|---|---|---|---|\n";
  int faces_total = 0, moved_ours = 0, moved_second = 0, second_total = 0;
  double nme_sum = 0, mouth_sum = 0, seam_sum = 0, de_sum = 0, shade_sum = 0;
  std::vector<cv::Mat> rows;
  size_t chip_index = 0;
  const int side = 200;
  for (auto& r : results) {
    nlohmann::json pj{{"pair", r.name}, {"changed_outside", r.changed_outside}, {"seconds", r.seconds}};
    int p_moved = 0, p_moved2 = 0, p_second = 0;
    double p_ss = 0, p_st = 0, p_ds = 0, p_dt = 0, p_nme = 0, p_mouth = 0, p_seam = 0, p_de = 0, p_sh = 0;
    for (auto& f : r.faces) {
      nlohmann::json fj{{"sim_source", f.sim_source}, {"sim_target", f.sim_target},
                        {"moved", f.moved},           {"nme", f.nme},
                        {"mouth_nme", f.mouth_nme},   {"seam_ratio", f.seam_ratio},
                        {"delta_e", f.delta_e},       {"shading", f.shading}};
      if (!f.chip_output.empty() && !desc.empty()) {
        const auto &ds = desc[chip_index], &dt = desc[chip_index + 1], &dout = desc[chip_index + 2];
        chip_index += 3;
        const double to_s = quality::descriptor_distance(dout, ds),
                     to_t = quality::descriptor_distance(dout, dt);
        fj["second_dist_source"] = to_s;
        fj["second_dist_target"] = to_t;
        fj["second_moved"] = to_s < to_t;
        p_moved2 += to_s < to_t, p_second++, p_ds += to_s, p_dt += to_t;
      }
      pj["faces"].push_back(fj);
      p_moved += f.moved, p_ss += f.sim_source, p_st += f.sim_target, p_nme += f.nme, p_mouth += f.mouth_nme;
      p_seam += f.seam_ratio, p_de += f.delta_e, p_sh += f.shading;
      // Contact sheet row.
      std::vector<cv::Mat> cells = {fit(r.source, side), fit(r.target, side), fit(r.output, side),
                                    fit(crop_around(r.target, f.face_box, 1.6), side),
                                    fit(crop_around(r.output, f.face_box, 1.6), side)};
      cv::Mat row;
      cv::hconcat(cells, row);
      char label[256];
      std::snprintf(label, sizeof label,
                    "%s  ours %.2f/%.2f%s  nme %.3f mouth %.3f seam %.2f dE %.1f shade %.1f", r.name.c_str(),
                    f.sim_source, f.sim_target, f.moved ? " moved" : " NOT MOVED", f.nme, f.mouth_nme,
                    f.seam_ratio, f.delta_e, f.shading);
      cv::rectangle(row, cv::Rect(0, 0, row.cols, 18), cv::Scalar(0, 0, 0), cv::FILLED);
      cv::putText(row, label, cv::Point(4, 13), cv::FONT_HERSHEY_SIMPLEX, 0.42, cv::Scalar(255, 255, 255), 1,
                  cv::LINE_AA);
      rows.push_back(row);
    }
    const double n = std::max<size_t>(1, r.faces.size());
    faces_total += int(r.faces.size()), moved_ours += p_moved, moved_second += p_moved2,
        second_total += p_second;
    nme_sum += p_nme, mouth_sum += p_mouth, seam_sum += p_seam, de_sum += p_de, shade_sum += p_sh;
    char line[512];
    std::snprintf(line, sizeof line,
                  "| %s | %zu | %d | %s | %.2f / %.2f | %s | %.3f | %.3f | %.2f | %.1f | %.1f | %.4f |\n",
                  r.name.c_str(), r.faces.size(), p_moved, p_second ? std::to_string(p_moved2).c_str() : "-",
                  p_ss / n, p_st / n,
                  p_second ? (std::to_string(p_ds / p_second).substr(0, 4) + " / " +
                              std::to_string(p_dt / p_second).substr(0, 4))
                                 .c_str()
                           : "-",
                  p_nme / n, p_mouth / n, p_seam / n, p_de / n, p_sh / n, r.changed_outside);
    md << line;
    report.push_back(pj);
  }
  const double n = std::max(1, faces_total);
  char summary[512];
  std::snprintf(
      summary, sizeof summary,
      "\n%d faces in %zu pairs: moved to the source %d/%d (ours), %d/%d (second recognizer); mean NME "
      "%.3f, mouth NME %.3f, seam %.2f, dE %.1f, shading %.1f\n",
      faces_total, results.size(), moved_ours, faces_total, moved_second, second_total, nme_sum / n,
      mouth_sum / n, seam_sum / n, de_sum / n, shade_sum / n);
  md << summary;
  nlohmann::json all{{"pairs", report},
                     {"summary",
                      {{"faces", faces_total},
                       {"moved_ours", moved_ours},
                       {"moved_second", moved_second},
                       {"second_faces", second_total},
                       {"nme", nme_sum / n},
                       {"mouth_nme", mouth_sum / n},
                       {"seam", seam_sum / n},
                       {"delta_e", de_sum / n},
                       {"shading", shade_sum / n}}}};
  if (clips) {
    auto c = evaluate_clips(out_dir, only, options, clip_stride, second, **analyser, **registry, md);
    if (!c) {
      std::cerr << c.status().to_string() << "\n";
      return 1;
    }
    all["clips"] = *c;
  }
  std::ofstream(fs::path(out_dir) / "report.json") << all.dump(2) << "\n";
  std::ofstream(fs::path(out_dir) / "report.md") << md.str();
  if (!rows.empty()) {
    cv::Mat sheet;
    cv::vconcat(rows, sheet);
    cv::imwrite((fs::path(out_dir) / "contact_sheet.png").string(), sheet);
  }
  std::cout << md.str() << "contact sheet: " << fs::path(out_dir) / "contact_sheet.png"
            << "\n";
  return 0;
}
