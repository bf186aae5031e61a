// 2DFAN4 (Bulat & Tzimiropoulos's Face Alignment Network, FaceFusion's 2dfan4 export): the detector box is
// scaled so its long side is 195 px and centred in a 256x256 crop (no rotation), fed as RGB / 255. The
// network's stacked hourglasses end in 68 heatmaps of 64x64; the export also decodes them in the graph into
// `landmarks_xyscore` [1,68,3] (x, y in heatmap units, and the peak), which is what is read here; a graph
// with only the heatmaps [1,68,64,64] is decoded by their arg-max. Points are scaled by 256 / 64 into the
// crop and mapped back by the inverse of the crop transform.
#pragma once

#include "face/landmarker.h"

namespace faceweave::face {

class FanLandmarker : public Landmarker {
 public:
  static Result<std::unique_ptr<Landmarker>> create(const LandmarkerOptions& options,
                                                    const std::string& path);
  Result<Points68> detect(const cv::Mat& bgr, const cv::Rect2f& box) const override;
  // The frame -> crop transform for a box (2x3 CV_64F): scale 195 / long side, box centre at (128, 128).
  static cv::Mat crop_matrix(const cv::Rect2f& box);

 private:
  std::shared_ptr<infer::Model> model_;
  std::string name_;
  static constexpr int kSize = 256;
};

}  // namespace faceweave::face
