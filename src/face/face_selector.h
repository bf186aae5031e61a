// Chooses which of a frame's faces get processed, as FaceFusion does it:
// - many: every face that passes the filters;
// - one: the first face in the chosen order;
// - reference: the faces whose embedding lies within `reference_distance` (cosine distance) of a reference
//   face, which is either a face of a reference image or the face at `reference_position` (in the chosen
//   order) of the first frame, passing over faces turned too far to swap (face/head_turn.h) if another is
//   there.
// Filters (gender, age range) apply before ordering. Stateless: select() may run on many threads.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "faceweave/face.h"
#include "faceweave/status.h"

namespace faceweave::face {

enum class SelectorMode { kMany, kOne, kReference };
enum class SelectorOrder {
  kLeftRight,
  kRightLeft,
  kTopBottom,
  kBottomTop,
  kSmallLarge,
  kLargeSmall,
  kBestWorst,
  kWorstBest
};

Result<SelectorMode> parse_selector_mode(const std::string& s);
Result<SelectorOrder> parse_selector_order(const std::string& s);
const char* selector_mode_name(SelectorMode m);
const char* selector_order_name(SelectorOrder o);

// Cosine distance below which two faces are taken as the same person. Calibrated on the test photos (see
// docs/face-selection.md): same-person pairs measured 0.02-0.30, different people 0.80 and above.
inline constexpr float kDefaultReferenceDistance = 0.6f;

struct FaceSelectorOptions {
  SelectorMode mode = SelectorMode::kReference;
  SelectorOrder order = SelectorOrder::kLargeSmall;
  std::optional<Gender> gender;  // keep only this gender
  int age_start = 0;             // keep ages in [age_start, age_end]
  int age_end = 100;
  int reference_position = 0;  // which face (in order) of the first frame is the reference
  float reference_distance = kDefaultReferenceDistance;
};

class FaceSelector {
 public:
  static Result<FaceSelector> create(const FaceSelectorOptions& options);

  // Faces sorted by the options' order after the gender and age filters.
  std::vector<Face> order(const std::vector<Face>& faces) const;
  // The reference face from a frame's faces (reference mode without a reference image), or an error naming
  // how many faces there were.
  Result<Face> pick_reference(const std::vector<Face>& faces) const;
  // Indices into `faces` of the selected faces. `reference` is required in reference mode.
  std::vector<size_t> select(const std::vector<Face>& faces, const Face* reference) const;

  const FaceSelectorOptions& options() const { return options_; }

 private:
  std::vector<size_t> ordered_indices(const std::vector<Face>& faces) const;
  FaceSelectorOptions options_;
};

}  // namespace faceweave::face
