#include "quality_clips.h"

#include <algorithm>
#include <cmath>
#include <filesystem>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "core/shrink.h"
#include "face/recognizer.h"
#include "media/video_reader.h"
#include "pipeline/video_swap.h"

namespace faceweave::quality {

const std::vector<QualityClip>& hard_clips() {
  static const std::vector<QualityClip> clips = {
      // A reception: a smiling woman (about 80 px) and three faces of 25-45 px, handheld camera, and a camera
      // held to an eye that the detector takes for a face (it must stay as it is).
      {"obama-to-reception", {"crowd", "small-faces", "smile", "handheld"}, {"obama.jpg"}, "video_01.mp4"},
      // The same room, a shorter clip, a dark-skinned smiling source.
      {"meds29-to-reception", {"crowd", "small-faces", "skin-tone"}, {"meds-aa-S029-01.jpg"}, "h264_aac.mp4"},
      // One face zooming, panning and turning a little, shrunk to 40-70 px.
      {"meds1-to-moving-small",
       {"small-faces", "motion"},
       {"meds-aa-S001-01.jpg"},
       "astronaut_synthetic_motion.mp4",
       0.35},
  };
  return clips;
}

namespace {

cv::Mat grey_f(const cv::Mat& bgr) {
  cv::Mat g, f;
  cv::cvtColor(bgr, g, cv::COLOR_BGR2GRAY);
  g.convertTo(f, CV_32F);
  return f;
}

// The inner part of a face box (70% of each side, centred): the face itself, little of its outline, where
// motion against the background would dominate any temporal measure.
cv::Rect inner_box(const cv::Rect2f& box, const cv::Size& frame) {
  const float w = box.width * 0.7f, h = box.height * 0.7f;
  cv::Rect r(cvRound(box.x + (box.width - w) / 2), cvRound(box.y + (box.height - h) / 2), cvRound(w),
             cvRound(h));
  return r & cv::Rect(0, 0, frame.width, frame.height);
}

// Mean |x(t) - (x(t-1) + x(t+1)) / 2| over `r`.
double second_difference(const cv::Mat& prev, const cv::Mat& cur, const cv::Mat& next, const cv::Rect& r) {
  cv::Mat d = cur(r) - 0.5 * (prev(r) + next(r));
  return cv::mean(cv::abs(d))[0];
}

// The same after blurring the three frames around `r` with a Gaussian of `sigma` pixels.
double blurred_second_difference(const cv::Mat& prev, const cv::Mat& cur, const cv::Mat& next,
                                 const cv::Rect& r, double sigma) {
  const int pad = int(std::ceil(3 * sigma));
  const cv::Rect around = cv::Rect(r.x - pad, r.y - pad, r.width + 2 * pad, r.height + 2 * pad) &
                          cv::Rect(0, 0, cur.cols, cur.rows);
  const cv::Rect inside(r.x - around.x, r.y - around.y, r.width, r.height);
  cv::Mat b[3];
  const cv::Mat* frames[3] = {&prev, &cur, &next};
  for (int i = 0; i < 3; ++i) cv::GaussianBlur((*frames[i])(around), b[i], cv::Size(0, 0), sigma);
  return second_difference(b[0], b[1], b[2], inside);
}

cv::Rect grown(const cv::Rect2f& box, double by, const cv::Size& frame) {
  const double cx = box.x + box.width / 2, cy = box.y + box.height / 2;
  const double half = std::max(box.width, box.height) * by / 2;
  return cv::Rect(cvRound(cx - half), cvRound(cy - half), cvRound(2 * half), cvRound(2 * half)) &
         cv::Rect(0, 0, frame.width, frame.height);
}

}  // namespace

Result<ClipResult> run_clip(const std::string& testdata_dir, const QualityClip& clip, SwapOptions options,
                            VideoOptions video, int stride, const face::FaceAnalyser& analyser,
                            const infer::ModelRegistry& models, const std::string& work_dir) {
  namespace fs = std::filesystem;
  ClipResult r;
  r.name = clip.name;
  r.source = load_spec((fs::path(testdata_dir) / "images").string(), clip.source);
  const std::string target = (fs::path(testdata_dir) / "video" / clip.video).string();
  if (r.source.empty() || !fs::exists(target))
    return not_found("clip " + clip.name + ": " + clip.source.file + " or " + clip.video +
                     " is missing under " + testdata_dir);
  FW_ASSIGN_OR_RETURN(auto source_faces, analyser.analyse(r.source, {true, false}));
  if (source_faces.empty()) return no_face("clip " + clip.name + ": no face in the source");
  std::sort(source_faces.begin(), source_faces.end(),
            [](const Face& a, const Face& b) { return a.box.area() > b.box.area(); });
  const Face source_face = source_faces[0];
  r.chip_source = face_chip(r.source, source_face);

  fs::create_directories(work_dir);
  const std::string source_path = (fs::path(work_dir) / (clip.name + "_source.png")).string();
  const std::string output_path = (fs::path(work_dir) / (clip.name + ".mp4")).string();
  cv::imwrite(source_path, r.source);
  pipeline::VideoSwapRequest req;
  req.sources = {source_path};
  req.target = target;
  req.output = output_path;
  options.face_selector_mode = "many";
  req.options = options;
  video.scale = clip.scale;
  req.video = video;
  FW_ASSIGN_OR_RETURN(auto report, pipeline::run_video_swap(req, analyser, models));
  r.seconds = report.seconds;

  FW_ASSIGN_OR_RETURN(auto in, media::VideoReader::open(target));
  FW_ASSIGN_OR_RETURN(auto out, media::VideoReader::open(output_path));
  // A window of three frames of each, for the second temporal difference at the middle one.
  std::vector<cv::Mat> t_grey, o_grey;
  std::vector<std::vector<Face>> t_faces;  // of the window's frames
  std::vector<cv::Mat> t_bgr, o_bgr;
  const int strip_len = 8;
  int strip_start = -1;  // the frame the strip starts at (the middle sampled frame)
  cv::Rect strip_box;
  std::vector<cv::Mat> strip_t, strip_o;
  media::VideoFrame ft, fo;
  for (int t = 0;; ++t) {
    FW_ASSIGN_OR_RETURN(bool more_t, in->read(ft));
    FW_ASSIGN_OR_RETURN(bool more_o, out->read(fo));
    if (!more_t || !more_o) break;
    cv::Mat tf = ft.bgr;
    if (tf.size() != fo.bgr.size()) {
      cv::Mat s;
      if (clip.scale < 1.0)
        core::shrink(tf, s, fo.bgr.size());
      else
        cv::resize(tf, s, fo.bgr.size(), 0, 0, cv::INTER_CUBIC);
      tf = s;
    }
    const cv::Mat of = fo.bgr;
    FW_ASSIGN_OR_RETURN(auto faces, analyser.analyse(tf, {t % stride == 0, false}));
    r.frames = t + 1;

    if (t % stride == 0) {
      FW_ASSIGN_OR_RETURN(auto out_faces, analyser.analyse(of, {true, false}));
      for (const auto& f : faces) {
        if (f.box.height < 16) continue;
        ClipFace m;
        m.frame = t;
        m.box = cv::Rect(f.box) & cv::Rect(0, 0, tf.cols, tf.rows);
        m.height = f.box.height;
        const cv::Rect inner = inner_box(f.box, tf.size());
        if (!inner.empty()) {
          cv::Mat d;
          cv::absdiff(tf(inner), of(inner), d);
          const cv::Scalar mean = cv::mean(d);
          m.swapped = (mean[0] + mean[1] + mean[2]) / 3 > 2.0;
        }
        const Face* after = nearest_face(out_faces, f);
        if (after) {
          m.sim_source = face_similarity(*after, source_face);
          m.sim_target = face_similarity(*after, f);
          m.moved = m.sim_source > m.sim_target;
        }
        m.chip_target = face_chip(tf, f);
        m.chip_output = face_chip(of, after ? *after : f);
        r.faces.push_back(std::move(m));
      }
    }

    // Sheet: three sampled frames, and a strip of the largest face from the middle one.
    const int middle = (report.frames / 2) / stride * stride;
    if (t == 0 || t == middle || t == int(report.frames) - 1) {
      r.sheet_targets.push_back(tf.clone());
      r.sheet_outputs.push_back(of.clone());
    }
    if (t == middle && !faces.empty()) {
      const auto largest = std::max_element(faces.begin(), faces.end(), [](const Face& a, const Face& b) {
        return a.box.area() < b.box.area();
      });
      strip_box = grown(largest->box, 1.3, tf.size());
      strip_start = t;
    }
    if (strip_start >= 0 && t < strip_start + strip_len && !strip_box.empty()) {
      strip_t.push_back(tf(strip_box).clone());
      strip_o.push_back(of(strip_box).clone());
    }

    t_grey.push_back(grey_f(tf));
    o_grey.push_back(grey_f(of));
    t_faces.push_back(std::move(faces));
    if (t_grey.size() > 3) {
      t_grey.erase(t_grey.begin());
      o_grey.erase(o_grey.begin());
      t_faces.erase(t_faces.begin());
    }
    if (t_grey.size() == 3) {
      for (const auto& f : t_faces[1]) {
        if (f.box.height < 16) continue;
        const cv::Rect inner = inner_box(f.box, tf.size());
        if (inner.area() < 16) continue;
        r.flicker_target += second_difference(t_grey[0], t_grey[1], t_grey[2], inner);
        r.flicker_output += second_difference(o_grey[0], o_grey[1], o_grey[2], inner);
        const double sigma = std::max(1.0, 0.1 * f.box.height);
        r.shading_flicker_target += blurred_second_difference(t_grey[0], t_grey[1], t_grey[2], inner, sigma);
        r.shading_flicker_output += blurred_second_difference(o_grey[0], o_grey[1], o_grey[2], inner, sigma);
        ++r.flicker_samples;
      }
    }
  }
  if (r.flicker_samples > 0) {
    r.flicker_target /= r.flicker_samples, r.flicker_output /= r.flicker_samples;
    r.shading_flicker_target /= r.flicker_samples, r.shading_flicker_output /= r.flicker_samples;
  }
  if (!strip_t.empty()) {
    cv::hconcat(strip_t, r.strip_target);
    cv::hconcat(strip_o, r.strip_output);
  }
  return r;
}

Result<std::vector<SecondDistances>> second_distances(const std::string& script, const ClipResult& r,
                                                      const std::string& work_dir) {
  namespace fs = std::filesystem;
  std::vector<std::string> chips;
  chips.push_back((fs::path(work_dir) / (r.name + "_chip_source.png")).string());
  cv::imwrite(chips.back(), r.chip_source);
  for (size_t k = 0; k < r.faces.size(); ++k)
    for (auto [role, chip] : {std::pair{"t", &r.faces[k].chip_target}, {"o", &r.faces[k].chip_output}}) {
      chips.push_back(
          (fs::path(work_dir) / (r.name + "_chip_" + std::to_string(k) + role + ".png")).string());
      cv::imwrite(chips.back(), *chip);
    }
  FW_ASSIGN_OR_RETURN(auto desc, second_descriptors(script, chips, fs::absolute(work_dir).string()));
  if (desc.size() != chips.size())
    return internal_error("the second recognizer gave " + std::to_string(desc.size()) + " descriptors for " +
                          std::to_string(chips.size()) + " chips");
  std::vector<SecondDistances> out(r.faces.size());
  for (size_t k = 0; k < r.faces.size(); ++k) {
    const auto& output = desc[1 + 2 * k + 1];
    out[k] = {descriptor_distance(output, desc[0]), descriptor_distance(output, desc[1 + 2 * k])};
  }
  return out;
}

}  // namespace faceweave::quality
