// Invisible watermark in the swapped face region (docs/provenance.md explains the method and its limits).
//
// Embedding: the luma of a square around each swapped face (kRegionScale times the face box's longer side) is
// resampled to a fixed working scale (kWorkingSide pixels for the whole square), cut into 8x8 blocks, and
// each block carries one of 128 channel symbols: a key-defined spread-spectrum vector over 12 mid-frequency
// DCT coefficients, added with the symbol's sign (informed: a block whose content already leans against the
// symbol gets more, up to a limit). The 128 symbols are the payload (payload.h) under a rate-1/2
// convolutional code plus 10 pilot symbols, laid out as a key-permuted tile of 16x8 blocks repeated over the
// region. The change is resampled back to the image scale, feathered at the region's edge and added to all
// three colour channels equally (luma only).
// Detection: for each candidate face box it tries a range of scales around the expected one, every 8x8
// grid offset and every tile phase (so crops and shifts do not matter), decodes with a soft Viterbi decoder
// and accepts a payload only when its CRC and version match, 8 of the 10 pilots agree, and the correlation
// between the received soft symbols and the re-encoded codeword reaches kDetectThreshold. Input: 8-bit BGR.
// Presence mark (videos): a second, one-bit mark in the same blocks -- one DCT coefficient, orthogonal to the
// payload's vector, with a key-drawn sign for each of the square's 32x32 blocks (no tile: the layout does
// not repeat within the square). The detector adds all blocks up for that one bit, at every scale, grid
// offset and (by DFT) block shift: it survives coding that leaves too little of the payload to decode
// (H.264 CRF 28 at 480x360), and says only "marked", not which run.
// Thread-safe: no shared mutable state.
#pragma once

#include <optional>
#include <vector>

#include <opencv2/core.hpp>

#include "faceweave/status.h"
#include "provenance/payload.h"

namespace faceweave::provenance {

inline constexpr double kRegionScale = 1.4;  // the marked square's side / the face box's longer side
inline constexpr int kWorkingSide = 256;     // that square's side at the working scale (32 blocks)
inline constexpr int kMinFaceSide = 32;      // smaller faces are not marked
// Small faces get a square of at least kWorkingSide pixels (never upsampled to the working scale, whose
// patterns would then be too fine to survive compression); the detector searches that ratio too.
inline constexpr double kMaxRegionRatio = 4.2;    // the largest square / face side the detector tries
inline constexpr double kDetectThreshold = 0.70;  // normalized correlation; see docs/provenance.md
// The presence score (standard deviations) at which the presence mark counts as found; see
// docs/provenance.md for the marked and unmarked scores it was chosen between.
inline constexpr double kPresenceThreshold = 7.5;

// The fixed, public key (docs/provenance.md): detection needs no secret, so anyone can check a file.
inline constexpr const char* kWatermarkKey = "faceweave-provenance-watermark-v1";

struct WatermarkOptions {
  float strength =
      15.0f;              // amplitude per 8x8 working block (unit-norm pattern): about 41-43 dB in the square
  float presence = 0.0f;  // the presence mark's amplitude per block (0: none); never informed
};
// What a video's stamps carry: the payload (weaker than an image's, to leave room in the 40 dB PSNR bound and
// in the encoder's bits; still read after CRF 18) and the presence mark, which lets a re-encode that destroys
// the payload (CRF 28) still be recognised as marked. At presence 12 a swapped clip re-encoded at CRF 28
// scored 7.47, under kPresenceThreshold; at 15 it scores 9.85, 41.0 dB at worst (docs/provenance.md).
inline constexpr WatermarkOptions kVideoWatermark{14.0f, 15.0f};

// Marks the region around `face_box` (image coordinates) in place. Faces smaller than kMinFaceSide, or
// whose square lies mostly outside the image, are left unmarked (returns false); true when marked.
bool embed_watermark(cv::Mat& bgr, const cv::Rect2f& face_box, const Payload& payload,
                     const WatermarkOptions& options = {});

// Marks every face in the order of size, skipping a face whose square overlaps one already marked (two
// overlapping marks would add up and fight each other). Returns how many faces were marked.
int embed_watermark_faces(cv::Mat& bgr, const std::vector<cv::Rect2f>& face_boxes, const Payload& payload,
                          const WatermarkOptions& options = {});

// A video's mark for one face box, made once and added unchanged to every frame while the box holds: not
// informed by any frame's content, so it is the same pattern in every frame (the video encoder predicts it
// from the previous frame instead of coding it again), and adding it is one pass over the square.
struct WatermarkStamp {
  cv::Size image;  // the frame size it was made for
  cv::Rect region;
  cv::Mat delta;  // CV_16S, region-sized: the change to each colour channel
};
std::optional<WatermarkStamp> make_watermark_stamp(cv::Size image, const cv::Rect2f& face_box,
                                                   const Payload& payload,
                                                   const WatermarkOptions& options = {});
// Adds the stamp to a frame of its size (false, and nothing changed, for another size).
bool apply_watermark_stamp(cv::Mat& bgr, const WatermarkStamp& stamp);
// The square a face's mark covers (before clipping to the image): marks whose squares overlap fight.
cv::Rect watermark_square(const cv::Rect2f& face_box);

struct WatermarkDetection {
  // The payload was read, or the presence mark was found (then `payload` may be empty: a marked file whose
  // run id could not be read).
  bool found = false;
  // Evidence on one scale, found at >= kDetectThreshold: the larger of the normalized correlation of the
  // best decodable payload candidate (0 when none decoded) and presence_confidence(presence_score).
  double confidence = 0;
  std::optional<Payload> payload;  // only when read (normalized correlation >= kDetectThreshold)
  bool presence_found = false;     // presence_score >= kPresenceThreshold
  double presence_score = 0;       // the best presence score, in standard deviations
  cv::Rect region;                 // where it was found (image coordinates)
};

// A presence score on the payload's confidence scale: kDetectThreshold at kPresenceThreshold, at most 1.
double presence_confidence(double score);

// Looks for the mark around each candidate face box (e.g. from the face detector).
WatermarkDetection detect_watermark(const cv::Mat& bgr, const std::vector<cv::Rect2f>& face_boxes);
// The same on a luma image (CV_8U or CV_32F), e.g. the average of several video frames: a mark that stays
// put adds up while moving content and coding noise average out.
WatermarkDetection detect_watermark_luma(const cv::Mat& luma, const std::vector<cv::Rect2f>& face_boxes);

}  // namespace faceweave::provenance
