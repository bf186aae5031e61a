// Alignment templates and transforms. Five-point templates are given in pixels of their own square crop;
// a face is aligned by the least-squares similarity (rotation, uniform scale, translation) that maps its
// five points onto the template, the same family of transform the recognizers were trained with.
#pragma once

#include <array>
#include <span>
#include <string>

#include <opencv2/core.hpp>

#include "faceweave/status.h"

namespace faceweave::face {

using Points5 = std::array<cv::Point2f, 5>;

// ArcFace's template for a 112x112 crop (eyes, nose tip, mouth corners).
const Points5& arcface_112_template();
// FaceFusion's arcface_128 template (inswapper's crop) and ffhq_512 (GFPGAN's), for a crop of `size`.
Points5 arcface_128_template(float size);
Points5 ffhq_512_template(float size);
// By name: "arcface_112", "arcface_128", "ffhq_512" (empty array and false when unknown).
bool template_by_name(const std::string& name, float size, Points5* out);

// A template scaled to another crop size (e.g. arcface_128 for a 128 crop).
Points5 scale_template(const Points5& tmpl, float from_size, float to_size);

// Eye centres (mean of the four lid points, corners excluded), nose tip (point 30), mouth corners (mean of
// the outer and inner lip corner), from the 68 iBUG points.
Points5 five_from_68(std::span<const cv::Point2f, 68> pts);

// Least-squares similarity transform (Umeyama) taking `from` onto `to`, as a 2x3 CV_64F matrix.
cv::Mat estimate_similarity(std::span<const cv::Point2f> from, std::span<const cv::Point2f> to);

// Warps `image` so the face's five points land on the template, into a size x size crop.
// `matrix` (optional) receives the 2x3 transform from image to crop.
cv::Mat align_face(const cv::Mat& image, const Points5& points, const Points5& tmpl, int size,
                   cv::Mat* matrix = nullptr);

}  // namespace faceweave::face
