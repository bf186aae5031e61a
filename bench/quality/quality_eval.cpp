// Swaps every pair of the hard evaluation set (bench/quality/quality_set.h) and writes
//   OUT/contact_sheet.png  one row per swapped face: source | target | output | target face | output face
//   OUT/report.json        every metric per face and pair, and the summary
//   OUT/report.md          the summary table (docs/benchmarks.md "Swap quality")
// Usage: quality_eval [--out DIR] [--images DIR] [--second-recognizer SCRIPT|none] [--pairs NAME,...]
//                     [--set key=value ...]
// --set takes the swap options by their API names (blend, color_match, identity_strength, face_mask_blur,
// keep_mouth_interior, target_lighting, skin_mask), so two settings can be compared on the same set.
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
  else if (k == "keep_mouth_interior")
    o.keep_mouth_interior = v == "true";
  else
    return false;
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  std::string out_dir = "build/quality";
  std::string images = fs::path(FACEWEAVE_TESTDATA_DIR) / "images";
  std::string second = fs::path(FACEWEAVE_SOURCE_DIR) / "bench/quality/node/descriptors.sh";
  SwapOptions options;
  std::string only;  // comma-separated pair names; empty: every pair
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
    else if (a == "--set") {
      const std::string kv = next();
      if (!set_option(options, kv)) {
        std::cerr << "unknown or malformed option " << kv << "\n";
        return 2;
      }
    } else {
      std::cerr << "usage: quality_eval [--out DIR] [--images DIR] [--second-recognizer SCRIPT|none] "
                   "[--pairs NAME,...] [--set key=value ...]\n";
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
  for (const auto& pair : quality::hard_set()) {
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
  if (second != "none") {
    auto d = quality::second_descriptors(second, chips, fs::absolute(out_dir).string());
    if (!d)
      std::cerr << "second recognizer skipped: " << d.status().to_string() << "\n";
    else
      desc = std::move(d).value();
  }
  auto l2 = [](const std::vector<float>& a, const std::vector<float>& b) {
    double s = 0;
    for (size_t i = 0; i < a.size() && i < b.size(); ++i) s += (a[i] - b[i]) * (a[i] - b[i]);
    return std::sqrt(s);
  };

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
        const double to_s = l2(dout, ds), to_t = l2(dout, dt);
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
