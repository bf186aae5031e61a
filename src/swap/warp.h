// Piecewise-affine warp: the source face's points are triangulated (Delaunay over the target's points, so
// the triangles follow the target's shape) and each triangle of the source image is mapped affinely onto
// the matching target triangle. Built as one dense inverse map over the target region and applied with a
// single cv::remap, so the cost is one bilinear lookup per output pixel.
#pragma once

#include <array>
#include <span>
#include <vector>

#include <opencv2/core.hpp>

namespace faceweave::swap {

using Triangle = std::array<int, 3>;

// Delaunay triangles over `points`, as index triples into it. Duplicate points are tolerated.
std::vector<Triangle> triangulate(std::span<const cv::Point2f> points);

struct WarpResult {
  cv::Mat image;     // the source warped into the target region (same type as the source), zeros uncovered
  cv::Mat coverage;  // CV_8U, 255 where a triangle covered the pixel
};

// Warps `source` so that source_points land on target_points, into `roi` (target image pixels).
WarpResult warp_piecewise_affine(const cv::Mat& source, std::span<const cv::Point2f> source_points,
                                 std::span<const cv::Point2f> target_points,
                                 const std::vector<Triangle>& triangles, const cv::Rect& roi);

}  // namespace faceweave::swap
