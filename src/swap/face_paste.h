// The crop-and-paste geometry the ONNX face models share (FaceFusion's scheme): a face is similarity-warped
// from its five points onto a model's template into a square crop, the model runs on the crop, and the
// result is warped back by the inverse transform into only the face's region of the frame, weighted by a
// mask drawn in crop space (a feathered box, optionally intersected with the landmark area).
// All functions are pure; inputs and outputs are 8-bit BGR (crops, frames) or CV_32F masks in 0..1.
#pragma once

#include <array>
#include <span>
#include <vector>

#include <opencv2/core.hpp>

#include "face/alignment.h"

namespace faceweave::swap {

// A box mask over a size x size crop: 0 on a border of max(padding, blur/4 of the size) per side, 1
// inside, then Gaussian-feathered by `blur` (0..1, FaceFusion's face_mask_blur). padding: top, right,
// bottom, left in percent of the crop.
cv::Mat box_mask(int size, float blur, const std::array<float, 4>& padding);

// The filled hull of the 68 landmarks (already in crop coordinates), feathered: 1 over the face, 0 outside.
cv::Mat area_mask(int size, std::span<const cv::Point2f> crop_points, float blur);

// Pixel boost: a crop of model_size * n is split into n*n sub-images of model_size by taking every n-th
// pixel (sub-image (i, j) holds crop(y*n + i, x*n + j)), so each one is the whole face at model resolution;
// implode/explode are exact inverses.
std::vector<cv::Mat> implode_pixel_boost(const cv::Mat& crop, int n);
cv::Mat explode_pixel_boost(const std::vector<cv::Mat>& tiles, int n);

struct PasteResult {
  cv::Rect region;  // where the frame changed
  cv::Mat mask;     // CV_32F over `region`: the weight the crop was blended with
};

// Warps `crop` back with the inverse of `matrix` (frame -> crop) into the bounding box of the crop's
// corners in the frame (clipped to it), and blends it in with `crop_mask` warped the same way.
PasteResult paste_back(cv::Mat& frame, const cv::Mat& crop, const cv::Mat& crop_mask, const cv::Mat& matrix);

}  // namespace faceweave::swap
