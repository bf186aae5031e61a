#include "quality_set.h"

#include <algorithm>
#include <cmath>
#include <filesystem>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "face/alignment.h"
#include "face/face_mask.h"
#include "face/recognizer.h"
#include "pipeline/image_swap.h"

#include <cstdio>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <thread>

namespace faceweave::quality {

const std::vector<QualityPair>& hard_set() {
  using T = Transform;
  static const std::vector<QualityPair> set = {
      {"obama-to-biden", {"smile-vs-neutral"}, {"obama.jpg"}, {"biden.jpg"}},
      {"biden-to-obama", {"neutral-vs-smile"}, {"biden.jpg"}, {"obama.jpg"}},
      {"astronaut-to-obama", {"woman-to-man", "open-vs-closed-mouth"}, {"astronaut.png"}, {"obama.jpg"}},
      {"obama-to-astronaut", {"man-to-woman", "smile"}, {"obama.jpg"}, {"astronaut.png"}},
      {"meds1-to-meds419", {"skin-tone"}, {"meds-aa-S001-01.jpg"}, {"meds-af-S419-01.jpg"}},
      {"meds419-to-meds29", {"skin-tone"}, {"meds-af-S419-01.jpg"}, {"meds-aa-S029-01.jpg"}},
      {"meds29-to-astronaut", {"skin-tone", "smile"}, {"meds-aa-S029-01.jpg"}, {"astronaut.png"}},
      {"astronaut-to-meds1", {"skin-tone"}, {"astronaut.png"}, {"meds-aa-S001-02.jpg"}},
      {"biden-to-two-people", {"two-faces"}, {"biden.jpg"}, {"two_people.jpg"}, true},
      {"astronaut-to-group", {"small", "crowd"}, {"astronaut.png"}, {"2008_002470.jpg"}, true},
      {"obama-to-bald-guys", {"crowd", "turned"}, {"obama.jpg"}, {"bald_guys.jpg"}, true},
      {"biden-to-obama-low-light", {"low-light"}, {"biden.jpg"}, {"obama.jpg", T::kLowLight}},
      {"obama-to-astronaut-small", {"small"}, {"obama.jpg"}, {"astronaut.png", T::kSmall}},
      {"astronaut-to-biden-rotated", {"rotated"}, {"astronaut.png"}, {"biden.jpg", T::kRotate}},
      {"group-face-to-obama", {"small-source"}, {"2008_002470.jpg", T::kNone, 1}, {"obama.jpg"}},
      {"bald-guy-to-biden", {"small-source", "bald"}, {"bald_guys.jpg", T::kNone, 2}, {"biden.jpg"}},
      {"meds419-to-obama-mirrored",
       {"skin-tone", "mirrored"},
       {"meds-af-S419-01.jpg"},
       {"obama.jpg", T::kMirror}},
      {"low-light-source", {"low-light-source"}, {"obama.jpg", T::kLowLight}, {"meds-aa-S001-01.jpg"}},
  };
  return set;
}

cv::Mat load_spec(const std::string& images_dir, const ImageSpec& spec) {
  cv::Mat img = cv::imread((std::filesystem::path(images_dir) / spec.file).string(), cv::IMREAD_COLOR);
  if (img.empty()) return img;
  switch (spec.transform) {
    case Transform::kNone:
      break;
    case Transform::kLowLight: {
      // Under-exposed by about two stops with a gamma, plus sensor noise (fixed seed: repeatable).
      cv::Mat f;
      img.convertTo(f, CV_32F, 1.0 / 255);
      cv::pow(f, 1.8, f);
      f *= 0.45 * 255;
      cv::Mat noise(f.size(), f.type());
      cv::RNG rng(7);
      rng.fill(noise, cv::RNG::NORMAL, 0, 3);
      f += noise;
      f.convertTo(img, CV_8U);
      break;
    }
    case Transform::kSmall: {
      const double s = 300.0 / std::max(img.cols, img.rows);
      cv::resize(img, img, cv::Size(), s, s, cv::INTER_AREA);
      break;
    }
    case Transform::kMirror:
      cv::flip(img, img, 1);
      break;
    case Transform::kRotate: {
      cv::Mat r = cv::getRotationMatrix2D(cv::Point2f(img.cols / 2.f, img.rows / 2.f), 25, 1.0);
      cv::warpAffine(img, img, r, img.size(), cv::INTER_LINEAR, cv::BORDER_REFLECT);
      break;
    }
  }
  return img;
}

namespace {

float iod(const Face& f) {
  return std::max(1.0f, float(cv::norm(f.landmarks5[0] - f.landmarks5[1])));
}

float mean_point_error(const Face& a, const Face& b, size_t from, size_t to) {
  double sum = 0;
  for (size_t i = from; i < to; ++i) sum += cv::norm(a.landmarks68[i] - b.landmarks68[i]);
  return float(sum / double(to - from) / iod(b));
}

// CIE L*a*b* in real units from 8-bit BGR.
cv::Vec3f lab_mean(const cv::Mat& bgr, const cv::Mat& mask) {
  cv::Mat f, lab;
  bgr.convertTo(f, CV_32F, 1.0 / 255);
  cv::cvtColor(f, lab, cv::COLOR_BGR2Lab);
  cv::Scalar m = cv::mean(lab, mask);
  return {float(m[0]), float(m[1]), float(m[2])};
}

void fill_feature(cv::Mat& m, const Face& f, size_t from, size_t to, int grow) {
  std::vector<cv::Point> poly;
  for (size_t i = from; i < to; ++i)
    poly.emplace_back(cvRound(f.landmarks68[i].x), cvRound(f.landmarks68[i].y));
  std::vector<cv::Point> hull;
  cv::convexHull(poly, hull);
  cv::fillConvexPoly(m, hull, cv::Scalar(255));
  if (grow > 0) {
    cv::Mat g;
    cv::dilate(m, g, cv::getStructuringElement(cv::MORPH_ELLIPSE, cv::Size(2 * grow + 1, 2 * grow + 1)));
    m = g;
  }
}

}  // namespace

cv::Mat face_chip(const cv::Mat& image, const Face& face, int size) {
  const cv::Point2f le = face.landmarks5[0], re = face.landmarks5[1];
  const cv::Point2f eyes = (le + re) * 0.5f, mouth = (face.landmarks5[3] + face.landmarks5[4]) * 0.5f;
  const double angle = std::atan2(re.y - le.y, re.x - le.x) * 180.0 / CV_PI;
  const double span = cv::norm(mouth - eyes);
  // The face fills the chip as face-api.js frames it (the landmarks' box plus a fifth).
  const double side = std::max(8.0, 2.1 * span);
  const cv::Point2f centre = eyes * 0.45f + mouth * 0.55f;
  cv::Mat m = cv::getRotationMatrix2D(centre, angle, double(size) / side);
  m.at<double>(0, 2) += size / 2.0 - centre.x;
  m.at<double>(1, 2) += size / 2.0 - centre.y;
  cv::Mat chip;
  cv::warpAffine(image, chip, m, cv::Size(size, size), cv::INTER_AREA, cv::BORDER_REPLICATE);
  return chip;
}

const Face* nearest_face(const std::vector<Face>& faces, const Face& like) {
  const Face* best = nullptr;
  double best_d = 1e30;
  const cv::Point2f c =
      (like.landmarks5[0] + like.landmarks5[1] + like.landmarks5[3] + like.landmarks5[4]) * 0.25f;
  for (const auto& f : faces) {
    const cv::Point2f d = (f.landmarks5[0] + f.landmarks5[1] + f.landmarks5[3] + f.landmarks5[4]) * 0.25f;
    const double dist = cv::norm(c - d);
    if (dist < best_d) best_d = dist, best = &f;
  }
  if (best && best_d > 0.5 * iod(like)) return nullptr;
  return best;
}

FaceMetrics measure_face(const cv::Mat& target, const cv::Mat& output, const Face& target_face,
                         const Face& output_face, const Face& source_face, const cv::Rect& region,
                         const cv::Mat& mask) {
  FaceMetrics m;
  m.face_box = cv::Rect(target_face.box) & cv::Rect(0, 0, target.cols, target.rows);
  m.sim_source = face_similarity(output_face, source_face);
  m.sim_target = face_similarity(output_face, target_face);
  m.moved = m.sim_source > m.sim_target;
  m.same_person = face_similarity(target_face, source_face) > 0.5f;
  m.nme = mean_point_error(output_face, target_face, 0, 68);
  m.mouth_nme = mean_point_error(output_face, target_face, 48, 68);

  // Seam: gradient magnitude on the band where the blend weight falls from 1 to 0, plus a ring outside it.
  if (!region.empty() && !mask.empty()) {
    cv::Mat grey_t, grey_o, gx, gy, mag_t, mag_o;
    cv::cvtColor(target(region), grey_t, cv::COLOR_BGR2GRAY);
    cv::cvtColor(output(region), grey_o, cv::COLOR_BGR2GRAY);
    auto magnitude = [&](const cv::Mat& g, cv::Mat& mag) {
      cv::Sobel(g, gx, CV_32F, 1, 0);
      cv::Sobel(g, gy, CV_32F, 0, 1);
      cv::magnitude(gx, gy, mag);
    };
    magnitude(grey_t, mag_t);
    magnitude(grey_o, mag_o);
    cv::Mat inside = mask > 0.01f, core = mask > 0.95f, ring;
    cv::dilate(inside, ring, cv::getStructuringElement(cv::MORPH_ELLIPSE, cv::Size(7, 7)));
    cv::Mat band = ring & ~core;
    const double gt = cv::mean(mag_t, band)[0], go = cv::mean(mag_o, band)[0];
    m.seam_ratio = float(go / std::max(1.0, gt));
  }

  // Skin: the face hull without eyes, brows, nose and mouth (grown), where colour and shading are judged.
  cv::Mat skin = cv::Mat::zeros(target.size(), CV_8U);
  {
    const auto pts = face::extend_with_forehead(target_face.landmarks68);
    auto hull = face::face_hull(pts);
    cv::fillConvexPoly(skin, hull, cv::Scalar(255));
    cv::erode(skin, skin, cv::getStructuringElement(cv::MORPH_ELLIPSE, cv::Size(5, 5)));
    cv::Mat features = cv::Mat::zeros(target.size(), CV_8U);
    const int grow = std::max(1, int(0.12f * iod(target_face)));
    for (auto [a, b] :
         std::vector<std::pair<size_t, size_t>>{{17, 22}, {22, 27}, {36, 42}, {42, 48}, {27, 36}, {48, 60}}) {
      cv::Mat one = cv::Mat::zeros(target.size(), CV_8U);
      fill_feature(one, target_face, a, b, grow);
      features |= one;
    }
    skin &= ~features;
  }
  // Cheeks: discs halfway between the jaw and the nose wings.
  cv::Mat cheeks = cv::Mat::zeros(target.size(), CV_8U);
  const float r = 0.18f * iod(target_face);
  const auto& lm = target_face.landmarks68;
  cv::circle(cheeks, (lm[2] + lm[31]) * 0.5f, int(r), cv::Scalar(255), cv::FILLED);
  cv::circle(cheeks, (lm[14] + lm[35]) * 0.5f, int(r), cv::Scalar(255), cv::FILLED);
  cheeks &= skin;
  if (cv::countNonZero(cheeks) > 4) {
    const cv::Vec3f a = lab_mean(target, cheeks), b = lab_mean(output, cheeks);
    m.delta_e = float(cv::norm(a - b));
  }

  // Shading: band-pass luminance (structures of 5-25% of the eye distance: creases, shadows, streaks)
  // compared on the skin.
  if (cv::countNonZero(skin) > 16) {
    const cv::Rect box = cv::boundingRect(skin);
    cv::Mat lt, lo;
    cv::cvtColor(target(box), lt, cv::COLOR_BGR2GRAY);
    cv::cvtColor(output(box), lo, cv::COLOR_BGR2GRAY);
    lt.convertTo(lt, CV_32F);
    lo.convertTo(lo, CV_32F);
    const double s1 = std::max(0.7, 0.05 * iod(target_face)), s2 = 0.25 * iod(target_face);
    auto bandpass = [&](const cv::Mat& x) {
      cv::Mat a, b;
      cv::GaussianBlur(x, a, cv::Size(0, 0), s1);
      cv::GaussianBlur(x, b, cv::Size(0, 0), s2);
      return cv::Mat(a - b);
    };
    cv::Mat diff = bandpass(lo) - bandpass(lt);
    cv::Mat sq = diff.mul(diff);
    m.shading = float(std::sqrt(cv::mean(sq, skin(box))[0]));
  }
  m.chip_source = cv::Mat();
  return m;
}

Result<PairResult> run_pair(const std::string& images_dir, const QualityPair& pair, SwapOptions options,
                            const face::FaceAnalyser& analyser, const infer::ModelRegistry& models) {
  PairResult r;
  r.name = pair.name;
  r.source = load_spec(images_dir, pair.source);
  r.target = load_spec(images_dir, pair.target);
  if (r.source.empty() || r.target.empty())
    return not_found("pair " + pair.name + ": " + pair.source.file + " or " + pair.target.file +
                     " is missing under " + images_dir);
  const int64 t0 = cv::getTickCount();
  // The source identity, as build_source_identity makes it, but from a transformed image or a chosen face.
  FW_ASSIGN_OR_RETURN(auto source_faces, analyser.analyse(r.source, {true, true}));
  if (source_faces.empty()) return no_face("pair " + pair.name + ": no face in the source");
  std::sort(source_faces.begin(), source_faces.end(),
            [](const Face& a, const Face& b) { return a.box.area() > b.box.area(); });
  const size_t pick = pair.source.face < 0 ? 0 : std::min(source_faces.size() - 1, size_t(pair.source.face));
  pipeline::SourceIdentity id;
  id.faces = {source_faces[pick]};
  id.images = {r.source};
  id.normed_embedding = source_faces[pick].normed_embedding;
  id.texture = {r.source, source_faces[pick]};
  options.face_selector_mode = pair.many ? "many" : "one";
  FW_ASSIGN_OR_RETURN(auto target_faces, analyser.analyse(r.target, {true, false}));
  FW_ASSIGN_OR_RETURN(auto ctx,
                      pipeline::swap_frame(r.target, options, id, analyser, models, nullptr, nullptr));
  r.output = ctx.frame;
  r.seconds = double(cv::getTickCount() - t0) / cv::getTickFrequency();
  FW_ASSIGN_OR_RETURN(auto output_faces, analyser.analyse(r.output, {true, false}));
  cv::Mat changed_allowed = cv::Mat::zeros(r.target.size(), CV_8U);
  for (size_t k = 0; k < ctx.swaps.size(); ++k) {
    const auto& s = ctx.swaps[k];
    if (!s.swapped || s.region.empty()) continue;
    cv::Mat allowed = s.mask > 0;
    changed_allowed(s.region) |= allowed;
    const Face& swapped = ctx.faces[ctx.selected[k]];
    const Face* before = nearest_face(target_faces, swapped);
    const Face* after = nearest_face(output_faces, swapped);
    if (!before || !after) {
      // The face was swapped past recognition as a face: the worst outcome, counted as not moved.
      FaceMetrics m;
      m.face_box = cv::Rect(swapped.box) & cv::Rect(0, 0, r.target.cols, r.target.rows);
      m.nme = 1, m.mouth_nme = 1;
      r.faces.push_back(m);
      continue;
    }
    FaceMetrics m = measure_face(r.target, r.output, *before, *after, id.faces[0], s.region, s.mask);
    m.chip_source = face_chip(r.source, id.faces[0]);
    m.chip_target = face_chip(r.target, *before);
    m.chip_output = face_chip(r.output, *after);
    r.faces.push_back(m);
  }
  cv::Mat diff;
  cv::absdiff(r.target, r.output, diff);
  cv::Mat any_change;
  cv::cvtColor(diff, any_change, cv::COLOR_BGR2GRAY);
  any_change = any_change > 0;
  any_change.setTo(0, changed_allowed);
  r.changed_outside = double(cv::countNonZero(any_change)) / double(r.target.total());
  return r;
}

double descriptor_distance(const std::vector<float>& a, const std::vector<float>& b) {
  double s = 0;
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) s += (a[i] - b[i]) * (a[i] - b[i]);
  return std::sqrt(s);
}

Result<std::vector<std::vector<float>>> second_descriptors(const std::string& script,
                                                           const std::vector<std::string>& chips,
                                                           const std::string& work_dir) {
  // Two processes, one per half of the chips: the network runs on one core each. The install step
  // (npm ci, once) runs first, alone.
  const std::string setup = (std::filesystem::path(script).parent_path() / "setup.sh").string();
  if (std::system(("'" + setup + "' > '" + work_dir + "/setup.log' 2>&1").c_str()) != 0)
    return internal_error("the second recognizer could not be installed (" + setup + "); see " + work_dir +
                          "/setup.log");
  const size_t half = (chips.size() + 1) / 2;
  std::string outs[2], logs[2];
  int codes[2] = {0, 0};
  std::vector<std::thread> runs;
  for (int part = 0; part < 2; ++part) {
    outs[part] = work_dir + "/descriptors" + std::to_string(part) + ".json";
    logs[part] = work_dir + "/descriptors" + std::to_string(part) + ".log";
    std::string cmd = "'" + script + "' --quiet '" + outs[part] + "'";
    for (size_t i = part == 0 ? 0 : half; i < (part == 0 ? half : chips.size()); ++i)
      cmd += " '" + chips[i] + "'";
    cmd += " > '" + logs[part] + "' 2>&1";
    runs.emplace_back([cmd, &codes, part] { codes[part] = std::system(cmd.c_str()); });
  }
  for (auto& t : runs) t.join();
  std::map<std::string, std::vector<float>> all;
  for (int part = 0; part < 2; ++part) {
    if (codes[part] != 0)
      return internal_error("the second recognizer (" + script + ") failed; see " + logs[part]);
    std::ifstream in(outs[part]);
    nlohmann::json j = nlohmann::json::parse(in, nullptr, false);
    if (j.is_discarded() || !j.contains("descriptors"))
      return internal_error("the second recognizer wrote no descriptors to " + outs[part]);
    for (auto it = j["descriptors"].begin(); it != j["descriptors"].end(); ++it)
      all[it.key()] = it.value().get<std::vector<float>>();
  }
  std::vector<std::vector<float>> result;
  for (const auto& c : chips) {
    auto it = all.find(c);
    if (it == all.end()) return internal_error("the second recognizer gave no descriptor for " + c);
    result.push_back(it->second);
  }
  return result;
}

}  // namespace faceweave::quality
