// How far a face is turned away from the camera, and how far the classic swapper can follow it.
// The classic swapper warps a source photo onto the target's 68 points: past about 55 degrees of yaw the far
// half of the face is folded out of sight, the landmarker guesses the hidden points, and the warp paints a
// frontal face onto a profile. Such faces are left as they are, and the default reference never picks one
// while a face the swapper can serve is in the frame.
#pragma once

#include <span>

#include <opencv2/core/types.hpp>

#include "faceweave/face.h"

namespace faceweave::face {

// Degrees of turn (yaw magnitude) the classic swapper serves.
inline constexpr float kMaxSwapTurn = 55.0f;

// Yaw magnitude in degrees from 68 iBUG points: the pose of a generic head model fitted to six of them (nose
// tip, chin, outer eye corners, mouth corners) with a perspective camera. 0 for a frontal face, 90 for a
// profile.
float landmark_turn(std::span<const cv::Point2f, 68> points);

// The face's yaw magnitude: the head pose model's when it ran, otherwise from the landmarks; 0 when neither
// is known.
float head_turn(const Face& face);

}  // namespace faceweave::face
