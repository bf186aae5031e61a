#include "face/face_tracker.h"

#include <algorithm>
#include <cmath>

#include "face/alignment.h"

namespace faceweave::face {
namespace {
float iou(const cv::Rect2f& a, const cv::Rect2f& b) {
  const float inter = (a & b).area();
  const float uni = a.area() + b.area() - inter;
  return uni > 0 ? inter / uni : 0;
}
float alpha(float cutoff_hz, float dt) {
  const float tau = 1.0f / (2.0f * float(CV_PI) * cutoff_hz);
  return 1.0f / (1.0f + tau / dt);
}
}  // namespace

void FaceTracker::smooth(State& s, Face& f, double t) {
  const float dt = float(std::max(1e-3, t - s.last_t));
  const float iod = std::max(1.0f, float(cv::norm(f.landmarks5[0] - f.landmarks5[1])));
  if (s.filters.size() != 136) s.filters.assign(136, Filter{});
  for (size_t i = 0; i < 68; ++i) {
    float* coord[2] = {&f.landmarks68[i].x, &f.landmarks68[i].y};
    for (size_t k = 0; k < 2; ++k) {
      Filter& flt = s.filters[2 * i + k];
      const float x = *coord[k] / iod;
      if (!flt.primed) {
        flt = {x, 0, true};
        continue;
      }
      const float dx = (x - flt.x) / dt;
      flt.dx += alpha(options_.d_cutoff_hz, dt) * (dx - flt.dx);
      const float cutoff = options_.min_cutoff_hz + options_.beta * std::abs(flt.dx);
      flt.x += alpha(cutoff, dt) * (x - flt.x);
      *coord[k] = flt.x * iod;
    }
  }
  f.landmarks5 = five_from_68(f.landmarks68);
}

std::vector<int> FaceTracker::update(std::vector<Face>& faces, double t) {
  std::vector<int> ids(faces.size(), 0);
  // Greedy matching by overlap, best pairs first.
  std::vector<std::tuple<float, size_t, int>> pairs;
  for (size_t i = 0; i < faces.size(); ++i)
    for (auto& [id, s] : states_) {
      const float o = iou(faces[i].box, s.box);
      if (o >= options_.min_iou) pairs.emplace_back(o, i, id);
    }
  std::sort(pairs.begin(), pairs.end(),
            [](const auto& a, const auto& b) { return std::get<0>(a) > std::get<0>(b); });
  std::vector<bool> face_used(faces.size(), false);
  std::map<int, bool> track_used;
  for (const auto& [o, i, id] : pairs) {
    if (face_used[i] || track_used[id]) continue;
    face_used[i] = true;
    track_used[id] = true;
    ids[i] = id;
  }
  for (size_t i = 0; i < faces.size(); ++i) {
    if (!ids[i]) {
      ids[i] = next_id_++;
      states_[ids[i]].track.id = ids[i];
    }
    State& s = states_[ids[i]];
    if (options_.smooth && faces[i].has_landmarks)
      smooth(s, faces[i], t);  // the first call primes the filters
    s.box = faces[i].box;
    s.last_t = t;
    s.track.missed = 0;
    ++s.track.age;
  }
  for (auto it = states_.begin(); it != states_.end();) {
    if (std::find(ids.begin(), ids.end(), it->first) == ids.end() &&
        ++it->second.track.missed > options_.max_missed) {
      it = states_.erase(it);
      continue;
    }
    ++it;
  }
  return ids;
}

}  // namespace faceweave::face
