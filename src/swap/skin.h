// Per-face skin models and the shading transfer built on them (both at the swapper's working resolution).
// - A face's skin colour is learnt from its own cheeks and nose bridge (robust mean and spread in CIE
//   L*a*b*), so hair, bangs, glasses frames, beards and hands - in the target or in the source - can be told
//   from skin without a segmentation network. The swapper keeps the target wherever either face is not
//   skin outside the eyes, brows and lips: the target's bangs stay over the new face, the source's fringe
//   or frames are never pasted.
// - Lighting: the output takes the target's low-frequency luminance and colour on the skin and the source's
//   detail above it (an intrinsic-image style split by a Gaussian scale tied to the eye distance), so the
//   source's shadows (eye sockets, nasolabial folds) do not come along as dark streaks; the eyes, brows and
//   lips keep the source's own shading, which carries identity.
// Inputs: 8-bit BGR images of one size; points in those images' pixels. Pure functions.
#pragma once

#include <span>

#include <opencv2/core.hpp>

namespace faceweave::swap {

struct SkinModel {
  cv::Vec3f mean;    // L*, a*, b* (L in 0..100)
  cv::Vec3f spread;  // robust standard deviations, floored
  bool valid = false;
};

// Learnt from discs on both cheeks and the nose bridge of `points` (68 iBUG points).
SkinModel fit_skin(const cv::Mat& bgr, std::span<const cv::Point2f, 68> points);

// CV_32F 0..1: 1 where a pixel is this face's skin, 0 where it clearly is not.
cv::Mat skin_likelihood(const cv::Mat& bgr, const SkinModel& model);

// CV_32F 0..1 over an image of `size`: 1 on the eyes, brows, lips and nostrils (grown a little and
// feathered), 0 elsewhere; `nose` gives the nose its own weight (its shading is half shape, half light).
cv::Mat feature_zones(cv::Size size, std::span<const cv::Point2f, 68> points, float nose, float grow = 0.12f);

// Where the source keeps its own low frequencies under the target's light: the eye openings (iris and
// whites are not skin to relight) at 1 and the lips at `lips`, grown by `grow` eye distances and feathered
// as much; 0 elsewhere. With `grow` 0 the openings as the landmarks draw them, feathered by a fortieth of
// the eye distance: the lids around them are skin.
cv::Mat own_light_zones(cv::Size size, std::span<const cv::Point2f, 68> points, float lips,
                        float grow = 0.05f);

// CV_32F 0..1 over an image of `size`: the bands where expression lines run on a face of these points
// (nose wings to mouth corners, and on towards the jaw), feathered. A smile's folds are the expression's,
// not the person's: where the source smiles wider than the target they come from the target.
cv::Mat fold_zones(cv::Size size, std::span<const cv::Point2f, 68> points);

// Distance between the two eye centres of 68 iBUG points (at least 1): the scale every zone is sized by.
float eye_distance(std::span<const cv::Point2f, 68> points);

// Gaussian blur of `sigma` pixels; large ones are computed on a coarser grid and interpolated back.
cv::Mat smooth(const cv::Mat& m, double sigma);

// face + weight * (lowpass(target) - lowpass(face)) per L*a*b* channel, the low-pass a Gaussian of `sigma`
// normalised over `region` (CV_8U), so the background does not bleed in.
// Lightness and colour have their own weights: the skin's colour may follow the target everywhere while
// its light keeps off the features.
// `weight_mid` takes the target's middle band of lightness too (structures between sigma/4 and sigma:
// creases and folds that come with the source's expression and light) where it is set, and `weight_fine`
// all the finer structures below that band as well (down to the pixel: the sharp lines of a fold).
cv::Mat transfer_lighting(const cv::Mat& face, const cv::Mat& target, const cv::Mat& region,
                          const cv::Mat& weight_lightness, const cv::Mat& weight_colour,
                          const cv::Mat& weight_mid, double sigma, const cv::Mat& weight_fine = cv::Mat());

}  // namespace faceweave::swap
