#include "face/face_selector.h"

#include <algorithm>
#include <numeric>

#include "face/head_turn.h"

namespace faceweave::face {
namespace {
constexpr std::pair<SelectorMode, const char*> kModes[] = {
    {SelectorMode::kMany, "many"}, {SelectorMode::kOne, "one"}, {SelectorMode::kReference, "reference"}};
constexpr std::pair<SelectorOrder, const char*> kOrders[] = {
    {SelectorOrder::kLeftRight, "left-right"},   {SelectorOrder::kRightLeft, "right-left"},
    {SelectorOrder::kTopBottom, "top-bottom"},   {SelectorOrder::kBottomTop, "bottom-top"},
    {SelectorOrder::kSmallLarge, "small-large"}, {SelectorOrder::kLargeSmall, "large-small"},
    {SelectorOrder::kBestWorst, "best-worst"},   {SelectorOrder::kWorstBest, "worst-best"}};
}  // namespace

const char* selector_mode_name(SelectorMode m) {
  for (const auto& [v, n] : kModes)
    if (v == m) return n;
  return "reference";
}
const char* selector_order_name(SelectorOrder o) {
  for (const auto& [v, n] : kOrders)
    if (v == o) return n;
  return "large-small";
}
Result<SelectorMode> parse_selector_mode(const std::string& s) {
  for (const auto& [v, n] : kModes)
    if (s == n) return v;
  return invalid_argument("unknown face selector mode '" + s + "'; use many, one or reference");
}
Result<SelectorOrder> parse_selector_order(const std::string& s) {
  for (const auto& [v, n] : kOrders)
    if (s == n) return v;
  return invalid_argument("unknown face selector order '" + s +
                          "'; use left-right, right-left, top-bottom, bottom-top, small-large, large-small, "
                          "best-worst or worst-best");
}

Result<FaceSelector> FaceSelector::create(const FaceSelectorOptions& options) {
  if (options.age_start < 0 || options.age_end < options.age_start)
    return invalid_argument("face selector age range is empty (start " + std::to_string(options.age_start) +
                            ", end " + std::to_string(options.age_end) + "); give 0 <= start <= end");
  if (options.reference_position < 0)
    return invalid_argument("reference face position must be 0 or more (got " +
                            std::to_string(options.reference_position) + ")");
  if (!(options.reference_distance > 0 && options.reference_distance <= 2))
    return invalid_argument("reference face distance must be in (0, 2] (got " +
                            std::to_string(options.reference_distance) + ")");
  FaceSelector s;
  s.options_ = options;
  return s;
}

std::vector<size_t> FaceSelector::ordered_indices(const std::vector<Face>& faces) const {
  std::vector<size_t> idx;
  for (size_t i = 0; i < faces.size(); ++i) {
    const Face& f = faces[i];
    if (options_.gender && f.gender && *f.gender != *options_.gender) continue;
    if (f.age && (*f.age < float(options_.age_start) || *f.age > float(options_.age_end) + 0.999f)) continue;
    idx.push_back(i);
  }
  auto key = [&](size_t i) -> float {
    const cv::Rect2f& b = faces[i].box;
    switch (options_.order) {
      case SelectorOrder::kLeftRight:
        return b.x;
      case SelectorOrder::kRightLeft:
        return -b.x;
      case SelectorOrder::kTopBottom:
        return b.y;
      case SelectorOrder::kBottomTop:
        return -b.y;
      case SelectorOrder::kSmallLarge:
        return b.area();
      case SelectorOrder::kLargeSmall:
        return -b.area();
      case SelectorOrder::kBestWorst:
        return -faces[i].score;
      case SelectorOrder::kWorstBest:
        return faces[i].score;
    }
    return 0;
  };
  std::stable_sort(idx.begin(), idx.end(), [&](size_t a, size_t b) { return key(a) < key(b); });
  return idx;
}

std::vector<Face> FaceSelector::order(const std::vector<Face>& faces) const {
  std::vector<Face> out;
  for (size_t i : ordered_indices(faces)) out.push_back(faces[i]);
  return out;
}

Result<Face> FaceSelector::pick_reference(const std::vector<Face>& faces) const {
  auto idx = ordered_indices(faces);
  // A face turned too far for the swapper to serve is not the default choice while another one is there (a
  // profile in a crowd would otherwise get a frontal face painted on it).
  std::vector<size_t> servable;
  for (size_t i : idx)
    if (head_turn(faces[i]) <= kMaxSwapTurn) servable.push_back(i);
  if (!servable.empty()) idx = std::move(servable);
  if (size_t(options_.reference_position) >= idx.size())
    return invalid_argument("reference face position " + std::to_string(options_.reference_position) +
                            " does not exist: the reference frame has " + std::to_string(idx.size()) +
                            " selectable face(s); use a position below that");
  return faces[idx[size_t(options_.reference_position)]];
}

std::vector<size_t> FaceSelector::select(const std::vector<Face>& faces, const Face* reference) const {
  auto idx = ordered_indices(faces);
  switch (options_.mode) {
    case SelectorMode::kMany:
      return idx;
    case SelectorMode::kOne:
      if (idx.size() > 1) idx.resize(1);
      return idx;
    case SelectorMode::kReference: {
      std::vector<size_t> out;
      if (!reference) return out;
      for (size_t i : idx)
        if (face_distance(faces[i], *reference) < options_.reference_distance) out.push_back(i);
      return out;
    }
  }
  return idx;
}

}  // namespace faceweave::face
