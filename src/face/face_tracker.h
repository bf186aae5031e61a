// Follows faces from frame to frame in a video and steadies their landmarks. Faces are matched to the
// previous frame's tracks by box overlap; a face that matches no track starts a new one. Each track keeps
// a One-Euro filter per landmark coordinate (Casiez et al. 2012: low cutoff when the point is still,
// rising with its speed), working in units of the face's inter-ocular distance so one setting suits every
// face size. Not thread-safe: this is the per-stream state, owned by one video run.
#pragma once

#include <map>
#include <vector>

#include "faceweave/face.h"

namespace faceweave::face {

struct FaceTrackerOptions {
  float min_iou = 0.3f;  // box overlap to continue a track
  int max_missed = 5;    // frames a track survives without a match
  bool smooth = true;
  float min_cutoff_hz = 3.0f;  // One-Euro: cutoff when still (lower = steadier)
  float beta = 4.0f;           // One-Euro: how fast the cutoff rises with speed (inter-ocular units / s)
  float d_cutoff_hz = 1.0f;
};

struct Track {
  int id = 0;
  int age = 0;                          // frames seen
  int missed = 0;                       // consecutive frames not seen
  std::vector<float> normed_embedding;  // computed once per track, when first needed
  bool identity_checked = false;
  bool selected = false;  // in reference mode: this track is the reference person
};

class FaceTracker {
 public:
  explicit FaceTracker(const FaceTrackerOptions& options = {}) : options_(options) {}
  // Matches `faces` (one frame, at time t seconds) to tracks, smooths their landmarks in place, and returns
  // each face's track id (same order as faces).
  std::vector<int> update(std::vector<Face>& faces, double t);
  Track& track(int id) { return states_.at(id).track; }

 private:
  struct Filter {
    float x = 0, dx = 0;
    bool primed = false;
  };
  struct State {
    Track track;
    cv::Rect2f box;
    std::vector<Filter> filters;  // 136: x,y per landmark
    double last_t = 0;
  };
  void smooth(State& s, Face& f, double t);

  FaceTrackerOptions options_;
  std::map<int, State> states_;
  int next_id_ = 1;
};

}  // namespace faceweave::face
