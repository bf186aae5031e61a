#include "swap/classic_swapper.h"

#include "core/shrink.h"
#include "face/head_turn.h"
#include "swap/identity_geometry.h"
#include "swap/sharpness.h"
#include "swap/skin.h"
#include "swap/warp.h"

#include <algorithm>

#include <opencv2/imgproc.hpp>

namespace faceweave::swap {
namespace {
// Long side of the working resolution of the face layer.
constexpr int kWorkSide = 384;
}  // namespace
using face::extend_with_forehead;
using face::face_mask;
using face::face_region;
}  // namespace faceweave::swap

namespace faceweave::swap {

Result<std::unique_ptr<ClassicSwapper>> ClassicSwapper::create(const ClassicSwapperOptions& options) {
  if (!(options.identity_strength >= 0 && options.identity_strength <= 1))
    return invalid_argument("identity strength must be between 0 and 1 (got " +
                            std::to_string(options.identity_strength) + ")");
  if (!(options.target_lighting >= 0 && options.target_lighting <= 1))
    return invalid_argument("target lighting must be between 0 and 1 (got " +
                            std::to_string(options.target_lighting) + ")");
  FW_RETURN_IF_ERROR(face::validate(options.mask));
  auto s = std::make_unique<ClassicSwapper>();
  s->options_ = options;
  return s;
}

namespace {

// Mouths whose opening or width differ by more than these (shares of mouth and eye width) are different
// expressions: the target keeps its own mouth, lips included, when an open mouth is involved (below).
constexpr float kOpennessMismatch = 0.08f;
constexpr float kWidthMismatch = 0.12f;
// A target mouth open wider than this keeps its place and width (the interior is the target's own).
constexpr float kOpenMouth = 0.08f;
// A source mouth open wider than this (a broad laugh, teeth over a third of the lips' height) is not laid
// on a closed target mouth: pressed shut, its teeth and gums smear red across the lips.
constexpr float kWideOpenSource = 0.18f;
// Lighting transfer (skin.h): the Gaussian scale of the "light" layer in eye distances; the share of it taken
// from the target (a fifth of the source's relief stays: both recognizers read identity from it); how much
// the lips and the nose keep their own light. Above that scale the skin takes the target's light; below it
// the source's detail stays (the recognizers read much of a person from it), except where expression lines
// run (fold_zones): there the middle band (creases, folds) is mostly the target's, since a fold belongs to
// its face's expression - all of it when the two smiles differ by kSmileMismatch (mouth width over eye span)
// or more, and then every finer line down to the pixel too, so a smiling source's folds do not land on a
// neutral face as dark streaks. Chosen on the hard set by eye and by both recognizers (docs/quality.md).
constexpr double kLightSigma = 0.15;
// A target whose detail ratio (sharpness.h) is this share below the source face's takes all of its own
// finest band on the skin (less soft: a part of it; see the lighting stage).
constexpr double kSofterTarget = 0.3;
// A source whose detail ratio is under this share of the target's starts to take the target's finest band on
// the skin, all of it kSofterSourceSpan lower: only a much softer source (taking it from every softer one
// cost both recognizers several faces of the hard set, docs/quality.md "Held-out photos").
constexpr double kSofterSource = 0.5;
constexpr double kSofterSourceSpan = 0.15;
constexpr float kTargetLight = 0.8f;
// A small face takes less of the target's light: at kLightSigma its light layer is only a few pixels wide
// and holds the face's broad relief (sockets, cheekbones, the nose's shading), which is where both
// recognizers read a face of that size. From kLargeFace pixels between the eye centres down to kSmallFace
// the share falls to kSmallFaceLight of the full one. The skin's colour stays the target's (it must match
// the neck and hands), and the fold zones keep their rule (a smiling source's folds stay off the face at
// every size). Chosen on the hard set, the held-out group photos and the clips (docs/quality.md, "Small
// faces").
// The mask's feather (a share of the face's size: FaceFusion's face_mask_blur) is where the target still
// shows through the new face; on a small face that rim holds much of what is left to recognise, so it narrows
// the same way, to kSmallFaceFeather of the width asked for. The seamless and multi-band blends hide the
// edge.
constexpr float kLargeFace = 60.0f;
constexpr float kSmallFace = 20.0f;
constexpr float kSmallFaceLight = 0.5f;
constexpr float kSmallFaceFeather = 0.5f;
constexpr float kOwnLips = 0.5f;
constexpr float kOwnNose = 0.5f;
constexpr float kTargetFolds = 0.7f;
constexpr float kSmileMatch = 0.05f;
constexpr float kSmileMismatch = 0.15f;

std::array<cv::Point2f, 68> to_work(std::span<const cv::Point2f, 68> p, const cv::Rect& region,
                                    double scale) {
  std::array<cv::Point2f, 68> out;
  for (size_t i = 0; i < out.size(); ++i)
    out[i] = (p[i] - cv::Point2f(float(region.x), float(region.y))) * float(scale);
  return out;
}

cv::Mat lip_cut(cv::Size size, std::span<const cv::Point2f, 68> p, float iod) {
  std::vector<cv::Point> pts, hull;
  for (size_t i = 48; i < 60; ++i) pts.emplace_back(cvRound(p[i].x), cvRound(p[i].y));
  cv::convexHull(pts, hull);
  cv::Mat cut = cv::Mat::zeros(size, CV_32F);
  cv::fillConvexPoly(cut, hull, cv::Scalar(1));
  const int grow = std::max(1, int(0.08f * iod));
  cv::polylines(cut, hull, true, cv::Scalar(1), 2 * grow + 1);  // dilated by a disc of `grow`
  return smooth(cut, std::max(1.0, 0.5 * grow));
}

}  // namespace

Result<SwapOutcome> ClassicSwapper::swap(cv::Mat& frame, const Face& target, const SourceFace& source,
                                         core::StageTimings* timings) const {
  SwapOutcome outcome;
  if (!target.has_landmarks || !source.face.has_landmarks)
    return invalid_argument("the classic swapper needs 68 landmarks on both faces");
  if (frame.type() != CV_8UC3 || source.image.type() != CV_8UC3)
    return invalid_argument("the classic swapper needs 8-bit BGR images");
  if (face::head_turn(target) > face::kMaxSwapTurn) {
    outcome.turned_away = true;
    return outcome;
  }
  const float strength = options_.identity_strength;
  // 0 for a face of kSmallFace pixels between the eye centres or less, 1 from kLargeFace on; by_size(x) is x
  // on the smallest faces, 1 on large ones and in between linearly.
  const float size_share =
      std::clamp((eye_distance(target.landmarks68) - kSmallFace) / (kLargeFace - kSmallFace), 0.0f, 1.0f);
  auto by_size = [size_share](float at_small) { return at_small + (1.0f - at_small) * size_share; };
  const auto& t68 = target.landmarks68;
  const auto& s68 = source.face.landmarks68;
  const float open_t = mouth_openness(t68), open_s = mouth_openness(s68);
  // Mouth width over eye span: a smile widens it.
  const float smile_gap = std::abs(mouth_width_ratio(s68) - mouth_width_ratio(t68));
  const bool expressions_differ = std::abs(open_t - open_s) > kOpennessMismatch || smile_gap > kWidthMismatch;
  // The target keeps its own mouth, lips included, only where the source's lips cannot be laid on it: its
  // mouth is open (its teeth and interior are its expression), or the source's is open so wide that its
  // lips would be pressed into a closed mouth together with its teeth. Two closed mouths of different
  // shapes, or a mouth a little open onto a closed one, take the source's lips on the target's shape.
  const bool target_open = open_t > kOpenMouth;
  const bool keep_target_mouth =
      options_.mask.keep_mouth_interior && expressions_differ && (target_open || open_s > kWideOpenSource);
  GeometryTransfer amount;
  amount.features *= strength;
  amount.nose *= strength;
  amount.mouth = (target_open || expressions_differ) ? 0.0f : amount.mouth * strength;
  std::array<cv::Point2f, 68> g68;
  {
    core::ScopedStage stage(timings, "geometry");
    g68 = identity_geometry(t68, s68, amount);
  }
  const auto tp = extend_with_forehead(t68);
  // The destination keeps the target's outline (jaw and forehead), so the face still fits its head.
  auto gp = tp;
  std::copy(g68.begin() + 17, g68.end(), gp.begin() + 17);
  const auto sp = extend_with_forehead(s68);
  outcome.region = face_region(tp, frame.size(), 0.1f);
  if (outcome.region.width < 8 || outcome.region.height < 8) return outcome;
  const cv::Rect& region = outcome.region;
  cv::Mat target_roi = frame(region);

  // The face layer carries no more detail than the source face, so it is built at a working resolution
  // (long side kWorkSide) and only the final composite runs at full resolution.
  const double scale = std::min(1.0, double(kWorkSide) / std::max(region.width, region.height));
  const cv::Size work(std::max(8, cvRound(region.width * scale)),
                      std::max(8, cvRound(region.height * scale)));
  std::array<cv::Point2f, face::kFacePoints> tw, gw;
  for (size_t i = 0; i < tw.size(); ++i) {
    tw[i] = (tp[i] - cv::Point2f(float(region.x), float(region.y))) * float(scale);
    gw[i] = (gp[i] - cv::Point2f(float(region.x), float(region.y))) * float(scale);
  }
  const auto tw68 = to_work(t68, region, scale), gw68 = to_work(g68, region, scale);
  const float iod = eye_distance(tw68);
  cv::Mat target_work = target_roi;
  if (scale < 1.0) core::shrink(target_roi, target_work, work);
  const cv::Rect work_rect(0, 0, work.width, work.height);
  const auto triangles = triangulate(gw);
  if (triangles.empty()) return outcome;

  WarpResult warped;
  {
    core::ScopedStage stage(timings, "warp");
    // The warp samples the source once per output pixel: a source face much larger than its place here
    // would be point-sampled, and its fine lines (lids, creases, folds) would come out as crisp one-pixel
    // streaks that move from frame to frame. The source is first shrunk, with area averaging, to the size
    // the face takes here (eye distances compared).
    const double shrink = eye_distance(gw68) / eye_distance(s68);
    if (shrink < 0.8) {
      const cv::Rect crop = face_region(sp, source.image.size(), 0.15f);
      cv::Mat small;
      const cv::Size size(std::max(8, cvRound(crop.width * shrink)),
                          std::max(8, cvRound(crop.height * shrink)));
      cv::resize(source.image(crop), small, size, 0, 0, cv::INTER_AREA);
      const float kx = float(size.width) / float(crop.width), ky = float(size.height) / float(crop.height);
      auto ssp = sp;
      for (auto& p : ssp) p = cv::Point2f((p.x - float(crop.x)) * kx, (p.y - float(crop.y)) * ky);
      warped = warp_piecewise_affine(small, ssp, gw, triangles, work_rect);
    } else {
      warped = warp_piecewise_affine(source.image, sp, gw, triangles, work_rect);
    }
  }
  cv::Mat mask;
  {
    core::ScopedStage stage(timings, "mask");
    face::FaceMaskOptions feathered = options_.mask;
    feathered.blur *= by_size(kSmallFaceFeather);
    mask = face_mask(tw, work_rect, feathered);
    // A small face with an open mouth keeps only the mouth's interior (the face mask cuts that): its lips
    // come from the source, laid on the target's lip contours. At that size a lip drawn a little wider does
    // not show, and the lips are much of what there is to recognise.
    if (keep_target_mouth)
      mask = mask.mul(1.0f - lip_cut(work, tw68, iod) * (target_open ? size_share : 1.0f));
    if (options_.skin_mask) {
      // Outside the features, keep the target wherever either face is not skin.
      cv::Mat gate = skin_likelihood(target_work, fit_skin(target_work, tw68))
                         .mul(skin_likelihood(warped.image, fit_skin(warped.image, gw68)));
      cv::Mat features = cv::max(feature_zones(work, tw68, 1.0f), feature_zones(work, gw68, 1.0f));
      gate = cv::max(gate, features);
      gate = smooth(gate, std::max(1.0, 0.04 * iod));
      mask = mask.mul(gate);
    }
    mask.setTo(0, warped.coverage == 0);
  }
  const cv::Mat in_mask = mask > 0.5f;  // where colour statistics and detail levels are measured
  cv::Mat face;
  {
    core::ScopedStage stage(timings, "colour_match");
    // The eyes keep their own colour: the skin's shift would tint the sclera and the iris. Only the openings:
    // a dark source's own lid colour on a light target looked like bruises.
    face = match_color(warped.image, target_work, in_mask, options_.color_match,
                       own_light_zones(work, gw68, 0.0f, 0.0f));
    target_work.copyTo(face, warped.coverage == 0);
  }
  if (options_.target_lighting > 0) {
    core::ScopedStage stage(timings, "lighting");
    cv::Mat inside = warped.coverage.clone();
    // Colour follows the target's skin everywhere but in the eyes (and half on the lips); lightness keeps off
    // the features (their own shading is their shape).
    const float light_share = kTargetLight * options_.target_lighting * by_size(kSmallFaceLight);
    const cv::Mat colour = (1.0f - own_light_zones(work, gw68, kOwnLips)) * options_.target_lighting;
    cv::Mat light = (1.0f - feature_zones(work, gw68, kOwnNose)) * light_share;
    const float folds = kTargetFolds + (1.0f - kTargetFolds) * std::min(1.0f, smile_gap / kSmileMismatch);
    const cv::Mat zones = fold_zones(work, gw68);
    const cv::Mat mid = zones * (folds * options_.target_lighting);
    const float fine = std::clamp((smile_gap - kSmileMatch) / (kSmileMismatch - kSmileMatch), 0.0f, 1.0f);
    // Where the smiles differ, the fold zones take all of the target's light as well: the source's relief
    // left on the skin elsewhere would bring the fold's broad shadow back.
    if (fine > 0) light = cv::max(light, zones * (fine * options_.target_lighting));
    cv::Mat fine_weight = fine > 0 ? cv::Mat(mid * fine) : cv::Mat();
    // On a target softer than the source (a video frame, a small or blurred face) the source's creases,
    // crisp where the target has none that sharp, read as streaks drawn on the skin: the skin outside the
    // eyes, brows, nose and lips then takes the target's fine band (below the middle band), in step with
    // how much softer the target is. Taking half of the middle band as well cost identity by both
    // recognizers (docs/quality.md, "Clips"). The features keep the source's (the person is read from them).
    const double crisp_source = detail_ratio(face, in_mask);
    const double crisp_target = detail_ratio(target_work, in_mask);
    float softer = crisp_source > 0
                       ? float(std::clamp((1.0 - crisp_target / crisp_source) / kSofterTarget, 0.0, 1.0))
                       : 0.0f;
    // The other way round, a much softer source (a video still, a small or upscaled photo) on a crisp target
    // is a plastic face without pores or stubble in a sharp photo: its skin takes the target's fine band too.
    if (crisp_target > 0)
      softer = std::max(
          softer,
          float(std::clamp((kSofterSource - crisp_source / crisp_target) / kSofterSourceSpan, 0.0, 1.0)));
    if (softer > 0) {
      const cv::Mat skin = (1.0f - feature_zones(work, gw68, 1.0f)) * (softer * options_.target_lighting);
      fine_weight = fine_weight.empty() ? skin : cv::Mat(cv::max(fine_weight, skin));
    }
    face = transfer_lighting(face, target_work, inside, light, colour, mid, kLightSigma * iod, fine_weight);
    target_work.copyTo(face, warped.coverage == 0);
  }
  if (options_.match_sharpness) {
    // A softer target (video, motion, focus, a small face) gets the source's detail softened to match.
    core::ScopedStage stage(timings, "sharpness");
    face = match_sharpness(face, target_work, in_mask);
  }
  core::ScopedStage stage(timings, "blend");
  cv::Mat layer = blend_layer(face, target_work, mask, options_.blend);
  // Full opacity from a strength of 0.5 on: a partly transparent face shows both faces' features.
  cv::Mat weight = mask * std::min(1.0f, 2.0f * strength);
  if (scale < 1.0) {
    cv::resize(layer, layer, region.size(), 0, 0, cv::INTER_LINEAR);
    cv::resize(weight, weight, region.size(), 0, 0, cv::INTER_LINEAR);
    // Upsampling must not spread the weight past the face outline.
    cv::Mat hull_full = cv::Mat::zeros(region.size(), CV_8U);
    auto hull = face::face_hull(tp);
    for (auto& p : hull) p -= region.tl();
    cv::fillConvexPoly(hull_full, hull, cv::Scalar(255));
    weight.setTo(0, hull_full == 0);
  }
  composite_in_place(layer, target_roi, weight);
  mask = weight;
  outcome.mask = mask;
  outcome.swapped = true;
  return outcome;
}

}  // namespace faceweave::swap
