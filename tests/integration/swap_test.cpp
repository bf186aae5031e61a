// The classic swap on real photographs: identity moves to the source, pose and expression stay the
// target's, nothing outside the face changes, no seam, and identity strength 0 is a no-op.
#include <algorithm>
#include <cmath>
#include <iostream>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "face/face_mask.h"
#include "swap/identity_geometry.h"
#include "swap/skin.h"
#include "swap_support.h"

namespace faceweave::testing {
namespace {

struct Pair {
  const char* source;
  const char* target;
};

const Pair kPairs[] = {{"obama.jpg", "astronaut.png"},
                       {"astronaut.png", "biden.jpg"},
                       {"meds-aa-S001-01.jpg", "meds-aa-S029-01.jpg"},
                       {"biden.jpg", "meds-af-S419-01.jpg"},
                       {"meds-af-S419-01.jpg", "obama.jpg"},
                       {"meds-aa-S029-01.jpg", "meds-aa-S001-02.jpg"}};

class SwapByBlend : public ::testing::TestWithParam<const char*> {};

TEST_P(SwapByBlend, IdentityMovesToTheSourceAndPoseStays) {
  auto& h = SwapHarness::get();
  SwapOptions o;
  o.blend = GetParam();
  for (const auto& p : kPairs) {
    cv::Mat target = h.load(p.target);
    Face before = h.largest_face(target);
    auto ctx = h.swap(p.source, target, o);
    ASSERT_EQ(ctx.swaps.size(), 1u) << p.source << " -> " << p.target;
    Face after = h.largest_face(ctx.frame);
    const Face& src = h.source(p.source).faces[0];
    const float to_source = face_similarity(after, src);
    const float to_target = face_similarity(after, before);
    EXPECT_GT(to_source, to_target) << p.source << " -> " << p.target << " (" << GetParam()
                                    << "): similarity to source " << to_source << ", to target " << to_target;
    // Pose and expression: the swapped face's landmarks stay within 5% of the inter-ocular distance.
    const double iod = cv::norm(before.landmarks5[0] - before.landmarks5[1]);
    double err = 0;
    for (size_t i = 0; i < 68; ++i) err += cv::norm(after.landmarks68[i] - before.landmarks68[i]);
    EXPECT_LE(err / 68 / iod, 0.05) << p.source << " -> " << p.target << " (" << GetParam() << ")";
  }
}

TEST_P(SwapByBlend, NothingOutsideTheMaskChangesAndThereIsNoSeam) {
  auto& h = SwapHarness::get();
  SwapOptions o;
  o.blend = GetParam();
  for (const auto& p : kPairs) {
    cv::Mat target = h.load(p.target);
    auto ctx = h.swap(p.source, target, o);
    ASSERT_EQ(ctx.swaps.size(), 1u);
    const auto& sw = ctx.swaps[0];
    // Support of the blend weight, in full-image pixels, dilated by 2 px.
    cv::Mat support = cv::Mat::zeros(target.size(), CV_8U);
    support(sw.region).setTo(255, sw.mask > 0);
    cv::Mat dilated;
    cv::dilate(support, dilated, cv::getStructuringElement(cv::MORPH_ELLIPSE, cv::Size(5, 5)));
    cv::Mat diff;
    cv::absdiff(ctx.frame, target, diff);
    cv::Mat changed;
    cv::cvtColor(diff, changed, cv::COLOR_BGR2GRAY);
    changed.setTo(0, dilated);
    EXPECT_EQ(cv::countNonZero(changed), 0)
        << p.target << " (" << GetParam() << "): pixels changed outside the mask";

    // Seam: mean gradient magnitude in a band along the mask's edge, output vs the target's own.
    cv::Mat inner, outer;
    cv::erode(support, inner, cv::getStructuringElement(cv::MORPH_ELLIPSE, cv::Size(7, 7)));
    cv::dilate(support, outer, cv::getStructuringElement(cv::MORPH_ELLIPSE, cv::Size(7, 7)));
    cv::Mat band = outer & ~inner;
    auto grad = [](const cv::Mat& bgr) {
      cv::Mat g, gx, gy, mag;
      cv::cvtColor(bgr, g, cv::COLOR_BGR2GRAY);
      cv::Sobel(g, gx, CV_32F, 1, 0);
      cv::Sobel(g, gy, CV_32F, 0, 1);
      cv::magnitude(gx, gy, mag);
      return mag;
    };
    const double out_grad = cv::mean(grad(ctx.frame), band)[0];
    const double tgt_grad = cv::mean(grad(target), band)[0];
    EXPECT_LE(out_grad, 1.5 * tgt_grad) << p.source << " -> " << p.target << " (" << GetParam() << ")";
  }
}

TEST_P(SwapByBlend, IdentityStrengthZeroGivesTheTargetBack) {
  auto& h = SwapHarness::get();
  SwapOptions o;
  o.blend = GetParam();
  o.identity_strength = 0;
  cv::Mat target = h.load("astronaut.png");
  auto ctx = h.swap("obama.jpg", target, o);
  ASSERT_EQ(ctx.swaps.size(), 1u);
  cv::Mat diff;
  cv::absdiff(ctx.frame, target, diff);
  double max_diff;
  cv::minMaxLoc(diff.reshape(1), nullptr, &max_diff);
  EXPECT_LE(max_diff, 2.0) << GetParam();
}

// Fine lightness structure (folds, creases: 1-6% of the eye distance) on the bands where expression lines
// run, as an RMS of a difference of Gaussians over those bands.
double fold_energy(const cv::Mat& bgr, const Face& face) {
  const auto& p = face.landmarks68;
  const double iod = cv::norm((p[36] + p[39]) * 0.5f - (p[42] + p[45]) * 0.5f);
  cv::Mat grey, fine, coarse;
  cv::cvtColor(bgr, grey, cv::COLOR_BGR2GRAY);
  grey.convertTo(grey, CV_32F);
  cv::GaussianBlur(grey, fine, cv::Size(0, 0), std::max(0.5, 0.01 * iod));
  cv::GaussianBlur(grey, coarse, cv::Size(0, 0), 0.06 * iod);
  const cv::Mat band = fine - coarse;
  const cv::Mat zones = swap::fold_zones(bgr.size(), p) > 0.5f;
  EXPECT_GT(cv::countNonZero(zones), 100);
  cv::Scalar mean, dev;
  cv::meanStdDev(band, mean, dev, zones);
  return dev[0];
}

TEST(SwapFolds, ASmilingSourcesFoldsDoNotLandOnANeutralFace) {
  // Obama smiles broadly (deep folds from nose to mouth); the MEDS portrait is neutral. The swapped face
  // keeps the target's folds, not the source's: as smooth there as the target was, within a fifth.
  auto& h = SwapHarness::get();
  cv::Mat target = h.load("meds-aa-S001-01.jpg");
  const Face before = h.largest_face(target);
  const Face& src = h.source("obama.jpg").faces[0];
  ASSERT_GT(swap::mouth_width_ratio(src.landmarks68) - swap::mouth_width_ratio(before.landmarks68), 0.15f)
      << "the pair no longer differs in smile";
  auto ctx = h.swap("obama.jpg", target, SwapOptions{});
  ASSERT_EQ(ctx.swaps.size(), 1u);
  const double in_target = fold_energy(target, before), in_output = fold_energy(ctx.frame, before);
  const double in_source = fold_energy(h.load("obama.jpg"), src);
  EXPECT_GT(in_source, 1.5 * in_target)
      << "the source's folds must be deeper than the target's for this test";
  EXPECT_LT(in_output, 1.2 * in_target)
      << "fold energy: target " << in_target << ", output " << in_output << ", source " << in_source;
}

// Both eye contours (points 36-41, 42-47) filled, over an image of `size`.
cv::Mat eye_openings(cv::Size size, const Face& face) {
  cv::Mat mask = cv::Mat::zeros(size, CV_8U);
  for (size_t first : {size_t(36), size_t(42)}) {
    std::vector<cv::Point> eye;
    for (size_t i = first; i < first + 6; ++i) eye.emplace_back(face.landmarks68[i]);
    cv::fillConvexPoly(mask, eye, cv::Scalar(255));
  }
  return mask;
}

// Mean CIE a* and b* (8-bit L*a*b*, 128 = neutral) inside both eye contours: sclera and iris.
cv::Vec2d eye_chroma(const cv::Mat& bgr, const Face& face) {
  const cv::Mat mask = eye_openings(bgr.size(), face);
  EXPECT_GT(cv::countNonZero(mask), 50);
  cv::Mat lab;
  cv::cvtColor(bgr, lab, cv::COLOR_BGR2Lab);
  const cv::Scalar m = cv::mean(lab, mask);
  return {m[1], m[2]};
}

TEST(SwapColour, TheEyesKeepTheirOwnHueWhenTheSkinsDiffer) {
  // A dark, warm source onto a light, cool-skinned target: the skin's colour shift (Reinhard over the face)
  // is large, and moved onto the eyes it tints the sclera and turns a brown iris blue-grey. The eyes of the
  // output keep the source's own hue.
  auto& h = SwapHarness::get();
  cv::Mat target = h.load("meds-aa-S001-01.jpg");
  const Face& src = h.source("obama.jpg").faces[0];
  const cv::Vec2d source_eyes = eye_chroma(h.load("obama.jpg"), src);
  auto ctx = h.swap("obama.jpg", target, SwapOptions{});
  ASSERT_EQ(ctx.swaps.size(), 1u);
  const cv::Vec2d output_eyes = eye_chroma(ctx.frame, h.largest_face(ctx.frame));
  const cv::Vec2d target_eyes = eye_chroma(target, h.largest_face(target));
  std::cout << "eye a*, b*: source " << source_eyes << ", target " << target_eyes << ", output "
            << output_eyes << "\n";
  // Measured: 3.6 apart with the eyes kept out of the shift, 10.9 (a* 134 -> 145, towards the target's skin)
  // with the skin's shift on them.
  EXPECT_LT(cv::norm(output_eyes - source_eyes), 6.0);
}

// Mean absolute fine detail (grey level minus its blur by one pixel) on discs over both cheeks of a face,
// at a scale where the eyes' outer corners are 80 px apart (the swapper builds its face layer at about that
// size, so finer structure than that is the target's anyway).
double cheek_texture(const cv::Mat& bgr, const Face& face) {
  const auto& p = face.landmarks68;
  const float k = 80.0f / float(cv::norm(p[36] - p[45]));
  cv::Mat grey, blurred, fine;
  cv::cvtColor(bgr, grey, cv::COLOR_BGR2GRAY);
  cv::resize(grey, grey, cv::Size(), k, k, cv::INTER_AREA);
  grey.convertTo(grey, CV_32F);
  cv::GaussianBlur(grey, blurred, cv::Size(0, 0), 1.0);
  fine = cv::abs(grey - blurred);
  cv::Mat zone = cv::Mat::zeros(grey.size(), CV_8U);
  cv::circle(zone, (p[2] + p[31]) * (0.5f * k), 10, cv::Scalar(255), cv::FILLED);
  cv::circle(zone, (p[14] + p[35]) * (0.5f * k), 10, cv::Scalar(255), cv::FILLED);
  return cv::mean(fine, zone)[0];
}

TEST(SwapSharpness, AMuchSofterSourceTakesTheTargetsSkinTexture) {
  // A source shrunk to a quarter and enlarged again (a video still, an upscaled small photo) onto a crisp
  // portrait: without the target's finest band its skin is a plastic face in a sharp photo.
  auto& h = SwapHarness::get();
  cv::Mat soft = h.load("obama.jpg"), small;
  cv::resize(soft, small, cv::Size(), 0.25, 0.25, cv::INTER_AREA);
  cv::resize(small, soft, soft.size(), 0, 0, cv::INTER_CUBIC);
  const std::string path = ::testing::TempDir() + "/soft_source.png";
  ASSERT_TRUE(cv::imwrite(path, soft));
  auto source = pipeline::build_source_identity({path}, *h.analyser, nullptr);
  ASSERT_TRUE(source.is_ok()) << source.status().to_string();
  const cv::Mat target = h.load("biden.jpg");
  auto ctx = pipeline::swap_frame(target, SwapOptions{}, *source, *h.analyser, *h.registry, nullptr, nullptr);
  ASSERT_TRUE(ctx.is_ok()) << ctx.status().to_string();
  ASSERT_EQ(ctx->swaps.size(), 1u);
  const Face before = h.largest_face(target);
  const double target_texture = cheek_texture(target, before);
  const double output_texture = cheek_texture(ctx->frame, before);
  std::cout << "cheek texture: target " << target_texture << ", output " << output_texture << "\n";
  EXPECT_GT(output_texture, 0.65 * target_texture);  // 0.75 now, 0.50 without the rule
}

// The darkest tenth of the eye openings (pupils, the iris's rim) as L* (0..100).
double eye_dark_level(const cv::Mat& bgr, const Face& face) {
  const cv::Mat mask = eye_openings(bgr.size(), face);
  cv::Mat lab;
  cv::cvtColor(bgr, lab, cv::COLOR_BGR2Lab);
  std::vector<int> values;
  for (int y = 0; y < lab.rows; ++y)
    for (int x = 0; x < lab.cols; ++x)
      if (mask.at<uchar>(y, x)) values.push_back(lab.at<cv::Vec3b>(y, x)[0]);
  EXPECT_GT(values.size(), 50u);
  if (values.empty()) return 0;
  std::nth_element(values.begin(), values.begin() + long(values.size() / 10), values.end());
  return values[values.size() / 10] * 100.0 / 255.0;
}

TEST(SwapColour, PupilsStayDarkOnALighterTarget) {
  // The skin-tone match lifts a dark source's skin to a light target's by a shift of lightness; moved onto
  // the eyes the same shift turned black pupils mid-grey and a dark brown iris grey-blue. The eyes now
  // change their light as an exposure would (a factor), so what was black stays nearly black. Target: one
  // light-skinned, brightly lit face of bald_guys.jpg, cut out.
  auto& h = SwapHarness::get();
  const cv::Mat target = h.load("bald_guys.jpg")(cv::Rect(700, 700, 300, 430)).clone();
  const Face& src = h.source("obama.jpg").faces[0];
  const double source_dark = eye_dark_level(h.load("obama.jpg"), src);
  auto ctx = h.swap("obama.jpg", target, SwapOptions{});
  ASSERT_EQ(ctx.swaps.size(), 1u);
  const double output_dark = eye_dark_level(ctx.frame, h.largest_face(ctx.frame));
  std::cout << "darkest tenth of the eyes, L*: source " << source_dark << ", output " << output_dark << "\n";
  EXPECT_LT(output_dark, source_dark + 8.0);
}

// The target with side light: lightness falls linearly from the face's right edge (point 16, x1) to half
// of it at its left edge (point 0), constant beyond.
cv::Mat side_lit(const cv::Mat& bgr, const Face& face) {
  const float x0 = face.landmarks68[0].x, x1 = face.landmarks68[16].x;
  cv::Mat out = bgr.clone();
  for (int y = 0; y < out.rows; ++y)
    for (int x = 0; x < out.cols; ++x) {
      const float f = 0.5f + 0.5f * std::clamp((float(x) - x0) / (x1 - x0), 0.0f, 1.0f);
      auto& px = out.at<cv::Vec3b>(y, x);
      for (int c = 0; c < 3; ++c) px[c] = cv::saturate_cast<uchar>(float(px[c]) * f);
    }
  return out;
}

// How much of a side light a face shows: log of the mean lightness on a disc over the right cheek over the
// left one's (discs between the jaw's third point and the nose wing, a tenth of the jaw span wide).
double side_light(const cv::Mat& bgr, const Face& face) {
  const auto& p = face.landmarks68;
  const float r = std::max(1.0f, 0.1f * float(cv::norm(p[16] - p[0])));
  cv::Mat grey;
  cv::cvtColor(bgr, grey, cv::COLOR_BGR2GRAY);
  auto disc = [&](cv::Point2f c) {
    cv::Mat zone = cv::Mat::zeros(grey.size(), CV_8U);
    cv::circle(zone, c, cvRound(r), cv::Scalar(255), cv::FILLED);
    return cv::mean(grey, zone)[0];
  };
  return std::log(disc((p[14] + p[35]) * 0.5f) / std::max(1.0, disc((p[2] + p[31]) * 0.5f)));
}

// `image` shrunk until `face`'s eye centres are `eyes` px apart (a face in a group photo), with room around
// it for the detector.
cv::Mat shrunk_face(const cv::Mat& image, const Face& face, float eyes) {
  const float k = eyes / swap::eye_distance(face.landmarks68);
  cv::Mat small;
  cv::resize(image, small, cv::Size(), k, k, cv::INTER_AREA);
  cv::copyMakeBorder(small, small, 96, 96, 96, 96, cv::BORDER_REPLICATE);
  return small;
}

// A side-lit Biden at full size and with its eyes 16 px apart.
std::pair<cv::Mat, cv::Mat> large_and_small_side_lit(SwapHarness& h) {
  const cv::Mat plain = h.load("biden.jpg");
  const Face face = h.largest_face(plain);
  const cv::Mat large = side_lit(plain, face);
  return {large, shrunk_face(large, face, 16.0f)};
}

TEST(SwapLighting, ASmallFaceKeepsMoreOfTheSourcesOwnLight) {
  // An evenly lit source onto a side-lit target, large and small. The large face takes the target's light;
  // the small one takes half as much, because at its size the light layer holds the relief the recognizers
  // read the person from.
  auto& h = SwapHarness::get();
  const auto [large, small] = large_and_small_side_lit(h);
  SwapOptions options;
  options.blend = "affine";  // the lighting stage alone, without a Poisson fill from the border
  double taken[2];
  for (int i = 0; i < 2; ++i) {
    const cv::Mat& target = i == 0 ? large : small;
    const Face before = h.largest_face(target);
    auto ctx = h.swap("meds-aa-S001-01.jpg", target, options);
    ASSERT_EQ(ctx.swaps.size(), 1u) << (i == 0 ? "large" : "small");
    taken[i] = side_light(ctx.frame, before) / side_light(target, before);
  }
  std::cout << "share of the target's side light taken: large face " << taken[0] << ", small face "
            << taken[1] << "\n";
  EXPECT_GT(taken[0], 0.6);
  EXPECT_LT(taken[1], taken[0] - 0.15);
}

TEST(SwapMask, ASmallFacesRimShowsLessOfTheTarget) {
  // The mask's feather is where the target still shows through; on a face of 16 px between the eyes it is
  // half as wide as asked for, so a larger share of the face is wholly the source's than on the same face
  // large. Share of the face outline's pixels at full weight: 0.63 large, 0.75 small (0.66 without the rule).
  auto& h = SwapHarness::get();
  const auto [large, small] = large_and_small_side_lit(h);
  double full[2];
  for (int i = 0; i < 2; ++i) {
    const cv::Mat& target = i == 0 ? large : small;
    const Face before = h.largest_face(target);
    auto ctx = h.swap("meds-aa-S001-01.jpg", target, SwapOptions{});
    ASSERT_EQ(ctx.swaps.size(), 1u) << (i == 0 ? "large" : "small");
    const auto& sw = ctx.swaps[0];
    cv::Mat hull = cv::Mat::zeros(target.size(), CV_8U);
    cv::fillConvexPoly(hull, face::face_hull(face::extend_with_forehead(before.landmarks68)),
                       cv::Scalar(255));
    const cv::Mat in_region = hull(sw.region);
    full[i] = double(cv::countNonZero((sw.mask > 0.95f) & in_region)) / std::max(1, cv::countNonZero(hull));
  }
  std::cout << "share of the face at full weight: large " << full[0] << ", small " << full[1] << "\n";
  EXPECT_GT(full[1], full[0] + 0.08);
}

// Mean absolute grey-level change, output against target, inside `zone` (CV_8U).
double grey_change(const cv::Mat& target, const cv::Mat& output, const cv::Mat& zone) {
  cv::Mat a, b, d;
  cv::cvtColor(target, a, cv::COLOR_BGR2GRAY);
  cv::cvtColor(output, b, cv::COLOR_BGR2GRAY);
  cv::absdiff(a, b, d);
  return cv::mean(d, zone)[0];
}

// The polygon of landmarks [first, last) filled (255), over an image of `size`.
cv::Mat contour_zone(cv::Size size, const Face& face, size_t first, size_t last) {
  std::vector<cv::Point> points;
  for (size_t i = first; i < last; ++i)
    points.emplace_back(cvRound(face.landmarks68[i].x), cvRound(face.landmarks68[i].y));
  cv::Mat zone = cv::Mat::zeros(size, CV_8U);
  cv::fillPoly(zone, std::vector<std::vector<cv::Point>>{points}, cv::Scalar(255));
  return zone;
}

// Mean absolute grey-level change, output against target, on the target's lips (outer lip contour).
double lip_change(const cv::Mat& target, const cv::Mat& output, const Face& face) {
  return grey_change(target, output, contour_zone(target.size(), face, 48, 60));
}

TEST(MouthOpenness, ClosedMouthsReadClosedAndALaughReadsOpen) {
  // The inner lips' gap over the mouth's width: Biden's closed mouth is about 0, Obama's laugh shows teeth.
  auto& h = SwapHarness::get();
  const float closed = swap::mouth_openness(h.source("biden.jpg").faces[0].landmarks68);
  const float laugh = swap::mouth_openness(h.source("obama.jpg").faces[0].landmarks68);
  EXPECT_LT(closed, 0.04f);
  EXPECT_GT(laugh, 0.15f);
}

TEST(SwapMouth, TwoClosedMouthsOfDifferentShapesTakeTheSourcesLips) {
  // Biden's and the MEDS portrait's mouths are both closed but differ in width: the source's lips are laid
  // on the target's mouth shape (they carry identity; no teeth or interior can be stretched), and the mouth
  // stays where the target's was.
  auto& h = SwapHarness::get();
  cv::Mat target = h.load("meds-aa-S029-01.jpg");
  const Face before = h.largest_face(target);
  const Face& src = h.source("biden.jpg").faces[0];
  ASSERT_LT(swap::mouth_openness(before.landmarks68), 0.04f);
  ASSERT_LT(swap::mouth_openness(src.landmarks68), 0.04f);
  ASSERT_GT(std::abs(swap::mouth_width_ratio(src.landmarks68) - swap::mouth_width_ratio(before.landmarks68)),
            0.12f)
      << "the pair no longer differs in mouth shape";
  auto ctx = h.swap("biden.jpg", target, SwapOptions{});
  ASSERT_EQ(ctx.swaps.size(), 1u);
  EXPECT_GT(lip_change(target, ctx.frame, before), 6.0) << "the target kept its own lips";
  const Face after = h.largest_face(ctx.frame);
  const float iod = float(cv::norm(before.landmarks68[36] - before.landmarks68[45]));
  double err = 0;
  for (size_t i = 48; i < 68; ++i) err += cv::norm(after.landmarks68[i] - before.landmarks68[i]);
  EXPECT_LT(err / 20 / iod, 0.05) << "the mouth moved off the target's";
}

TEST(SwapMouth, ALaughIsNotPressedIntoAClosedMouth) {
  // Obama laughs (teeth); the MEDS portrait's mouth is closed: its lips stay its own, not the source's lips
  // and teeth pressed shut.
  auto& h = SwapHarness::get();
  cv::Mat target = h.load("meds-aa-S001-01.jpg");
  const Face before = h.largest_face(target);
  ASSERT_GT(swap::mouth_openness(h.source("obama.jpg").faces[0].landmarks68), 0.18f);
  auto ctx = h.swap("obama.jpg", target, SwapOptions{});
  ASSERT_EQ(ctx.swaps.size(), 1u);
  EXPECT_LT(lip_change(target, ctx.frame, before), 3.0);
}

// Mean absolute grey-level change, output against target, on the target's lips only: between the outer and
// the inner lip contours.
double lip_band_change(const cv::Mat& target, const cv::Mat& output, const Face& face) {
  const cv::Mat band = contour_zone(target.size(), face, 48, 60) & ~contour_zone(target.size(), face, 60, 68);
  EXPECT_GT(cv::countNonZero(band), 8);
  return grey_change(target, output, band);
}

TEST(SwapMouth, ASmallLaughingFaceTakesTheSourcesLipsAndKeepsItsTeeth) {
  // A closed-mouth source onto Obama's laugh, large and shrunk to 18 px between the eyes (a face in a group
  // photo). The large face keeps its whole mouth (lips laid on a laugh would be stretched); the small one
  // keeps only the open mouth's interior and takes the source's lips, which at that size are much of the
  // face. Lip band change (grey levels): large 0.0, small 13.8 (0.1 when the small face kept its lips too);
  // its teeth change by 3.1.
  auto& h = SwapHarness::get();
  const cv::Mat large = h.load("obama.jpg");
  const Face face = h.largest_face(large);
  ASSERT_GT(swap::mouth_openness(face.landmarks68), 0.08f) << "the target must laugh for this test";
  const cv::Mat small = shrunk_face(large, face, 18.0f);
  double lips[2], teeth[2];
  for (int i = 0; i < 2; ++i) {
    const cv::Mat& target = i == 0 ? large : small;
    const Face before = h.largest_face(target);
    auto ctx = h.swap("meds-aa-S001-01.jpg", target, SwapOptions{});
    ASSERT_EQ(ctx.swaps.size(), 1u) << (i == 0 ? "large" : "small");
    lips[i] = lip_band_change(target, ctx.frame, before);
    teeth[i] = grey_change(target, ctx.frame, contour_zone(target.size(), before, 60, 68));
  }
  std::cout << "lip band change: large " << lips[0] << ", small " << lips[1]
            << "; mouth interior change: large " << teeth[0] << ", small " << teeth[1] << "\n";
  EXPECT_LT(lips[0], 3.0);
  EXPECT_GT(lips[1], 3.0 * std::max(1.0, lips[0]));
  EXPECT_LT(teeth[1], 8.0);  // the laugh's teeth stay
}

INSTANTIATE_TEST_SUITE_P(Blends, SwapByBlend, ::testing::Values("seamless", "affine", "laplacian"));

}  // namespace
}  // namespace faceweave::testing
