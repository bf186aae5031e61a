// Swap quality on the hard evaluation set (bench/quality/quality_set.h, docs/quality.md): identity moves to
// the source by the project's recognizer and by an independent one (face-api.js's ResNet, run by
// bench/quality/node), the target's mouth stays where the expressions differ, nothing outside the mask
// changes, and no dark streaks of the source's shading come along. Every pair is swapped once per process.
#include <algorithm>
#include <filesystem>
#include <map>
#include <stdexcept>

#include <opencv2/imgcodecs.hpp>

#include "quality_clips.h"
#include "quality_set.h"
#include "swap_support.h"
#include "test_support.h"

namespace faceweave::testing {
namespace {

struct SetRun {
  std::vector<quality::QualityPair> pairs;
  std::vector<quality::PairResult> results;
  std::vector<std::vector<float>> second;  // source, target, output descriptors per measured face
  std::string second_error;
};

const SetRun& run_set() {
  static SetRun* run = [] {
    auto* r = new SetRun();
    auto& h = SwapHarness::get();
    static TempDir dir;
    std::vector<std::string> chips;
    for (const auto& pair : quality::hard_set()) {
      auto res = quality::run_pair(testdata("images"), pair, SwapOptions{}, *h.analyser, *h.registry);
      EXPECT_TRUE(res.is_ok()) << pair.name << ": " << res.status().to_string();
      if (!res) continue;
      for (size_t k = 0; k < res->faces.size(); ++k) {
        const auto& f = res->faces[k];
        if (f.chip_output.empty()) continue;
        for (auto [role, chip] :
             {std::pair{"s", &f.chip_source}, {"t", &f.chip_target}, {"o", &f.chip_output}}) {
          chips.push_back(dir.file(pair.name + "_" + std::to_string(k) + role + ".png"));
          cv::imwrite(chips.back(), *chip);
        }
      }
      r->pairs.push_back(pair);
      r->results.push_back(std::move(res).value());
    }
    auto d = quality::second_descriptors(
        (std::filesystem::path(FACEWEAVE_SOURCE_DIR) / "bench/quality/node/descriptors.sh").string(), chips,
        dir.path());
    if (d)
      r->second = std::move(d).value();
    else
      r->second_error = d.status().to_string();
    return r;
  }();
  return *run;
}

bool has_tag(const quality::QualityPair& p, const std::string& tag) {
  return std::find(p.tags.begin(), p.tags.end(), tag) != p.tags.end();
}

void TheSetHasSixteenPairsAndEveryPairSwapsAFace() {
  const auto& run = run_set();
  EXPECT_GE(run.results.size(), 16u);
  for (const auto& r : run.results) EXPECT_FALSE(r.faces.empty()) << r.name << " swapped no face";
}

void IdentityMovesToTheSourceByTheProjectsRecognizer() {
  const auto& run = run_set();
  int moved = 0, total = 0;
  std::string missed;
  for (const auto& r : run.results)
    for (const auto& f : r.faces) {
      if (f.same_person) continue;  // the target face already is the source's person
      ++total;
      // A margin: a tie is not a move.
      const bool ok = f.sim_source > f.sim_target + 0.02f;
      moved += ok;
      if (!ok) missed += " " + r.name;
    }
  EXPECT_GT(total, 0);
  // The default pack's recognizer reads much of a face's identity from the shading of its skin and from the
  // source's expression lines, which the swap deliberately takes from the target (no "mask" of the source's
  // shadows, no smile folds on a neutral face, and on a softer target none of the source's finest skin
  // texture): it sees the move (by a margin) on about half of the faces where the independent recognizer
  // below sees it on over 90% (about 26/46 here in 2026-12-08; 26/46 before the soft-target rule of
  // 2026-12-07 too, which cost this recognizer three of the small faces of obama-to-bald-guys and the
  // independent one none, 23/46 after it). This guards against
  // losing more; the goal (90% by both) is not met by this recognizer (docs/quality.md, "Clips").
  EXPECT_GE(double(moved) / total, 0.48) << moved << " of " << total << " faces moved; not:" << missed;
}

void IdentityMovesToTheSourceByAnIndependentRecognizer() {
  const auto& run = run_set();
  EXPECT_TRUE(run.second_error.empty()) << run.second_error;
  size_t i = 0;
  int moved = 0, total = 0;
  std::string missed;
  for (const auto& r : run.results)
    for (const auto& f : r.faces) {
      if (f.chip_output.empty()) continue;
      if (i + 2 >= run.second.size()) {
        ADD_FAILURE() << "the second recognizer gave too few descriptors";
        return;
      }
      const auto &s = run.second[i], &t = run.second[i + 1], &o = run.second[i + 2];
      i += 3;
      if (f.same_person) continue;
      ++total;
      const bool ok = quality::descriptor_distance(o, s) < quality::descriptor_distance(o, t);
      moved += ok;
      if (!ok) missed += " " + r.name;
    }
  EXPECT_GT(total, 0);
  if (total > 0) {
    EXPECT_GE(double(moved) / total, 0.9) << moved << " of " << total << " faces moved; not:" << missed;
  }
}

void TheTargetsMouthStaysWhereTheExpressionsDiffer() {
  const auto& run = run_set();
  int checked = 0;
  for (size_t p = 0; p < run.pairs.size(); ++p) {
    const auto& pair = run.pairs[p];
    if (!has_tag(pair, "open-vs-closed-mouth") && !has_tag(pair, "smile-vs-neutral") &&
        !has_tag(pair, "neutral-vs-smile"))
      continue;
    for (const auto& f : run.results[p].faces) {
      EXPECT_LT(f.mouth_nme, 0.05f) << pair.name;
      ++checked;
    }
  }
  EXPECT_GE(checked, 3);
}

void PoseIsKeptAndNothingOutsideTheMaskChanges() {
  double sum = 0;
  int n = 0;
  for (const auto& r : run_set().results) {
    EXPECT_EQ(r.changed_outside, 0.0) << r.name;
    for (const auto& f : r.faces) {
      EXPECT_LT(f.nme, 0.12f) << r.name;
      sum += f.nme, ++n;
    }
  }
  if (n == 0) return ADD_FAILURE() << "no face measured";
  EXPECT_LT(sum / n, 0.06);
}

// The classic swapper before the skin models and the lighting transfer: mean shading 11.2 (max 19.5), mean
// colour difference 14.9 (max 29.3) on this set. Small faces keep half of their own relief on purpose
// (docs/quality.md, "Small faces"), so where a dark source lands on a pale small face the cheeks differ from
// the target's more: Obama onto the small astronaut 12.4 before that rule, 20.7 with it (mean 7.1 -> 7.9).
void NoSeamNoStreaksAndTheSkinToneOfTheTarget() {
  double shading = 0, delta_e = 0;
  int n = 0;
  for (const auto& r : run_set().results)
    for (const auto& f : r.faces) {
      EXPECT_LT(f.seam_ratio, 1.5f) << r.name;
      EXPECT_LT(f.shading, 16.0f) << r.name;
      EXPECT_LT(f.delta_e, 22.0f) << r.name;
      shading += f.shading, delta_e += f.delta_e, ++n;
    }
  if (n == 0) return ADD_FAILURE() << "no face measured";
  EXPECT_LT(shading / n, 9.0);
  EXPECT_LT(delta_e / n, 8.5);
}

// One test: ctest runs each test in its own process, and the set is swapped once per process (about 100 s).
TEST(Quality, HardSet) {
  {
    SCOPED_TRACE("TheSetHasSixteenPairsAndEveryPairSwapsAFace");
    TheSetHasSixteenPairsAndEveryPairSwapsAFace();
  }
  {
    SCOPED_TRACE("IdentityMovesToTheSourceByTheProjectsRecognizer");
    IdentityMovesToTheSourceByTheProjectsRecognizer();
  }
  {
    SCOPED_TRACE("IdentityMovesToTheSourceByAnIndependentRecognizer");
    IdentityMovesToTheSourceByAnIndependentRecognizer();
  }
  {
    SCOPED_TRACE("TheTargetsMouthStaysWhereTheExpressionsDiffer");
    TheTargetsMouthStaysWhereTheExpressionsDiffer();
  }
  {
    SCOPED_TRACE("PoseIsKeptAndNothingOutsideTheMaskChanges");
    PoseIsKeptAndNothingOutsideTheMaskChanges();
  }
  {
    SCOPED_TRACE("NoSeamNoStreaksAndTheSkinToneOfTheTarget");
    NoSeamNoStreaksAndTheSkinToneOfTheTarget();
  }
}

const quality::QualityClip& clip_named(const std::string& name) {
  for (const auto& c : quality::hard_clips())
    if (c.name == name) return c;
  throw std::runtime_error("no clip " + name);
}

// The video part of the set (docs/quality.md, "Clips"): a face of 40-70 px in motion carries the source
// by both recognizers on most sampled frames, and the swap adds little frame-to-frame jitter inside the
// faces. Before the warp shrank a much larger source with area averaging, the project's recognizer saw the
// move on 2 of 20 frames and the output's flicker was 2.5 times the clip's (now 16-18/20 and 1.5).
TEST(Quality, ClipsCarryTheSourceWithoutMuchAddedFlicker) {
  auto& h = SwapHarness::get();
  TempDir dir;
  VideoOptions video;
  video.quality = 100;  // lossless, as in the report: the measures see the swap, not the codec
  const auto res = quality::run_clip(testdata(""), clip_named("meds1-to-moving-small"), SwapOptions{}, video,
                                     3, *h.analyser, *h.registry, dir.path());
  ASSERT_TRUE(res.is_ok()) << res.status().to_string();
  int moved = 0, swapped = 0;
  for (const auto& f : res->faces) {
    swapped += f.swapped;
    moved += f.swapped && f.sim_source > f.sim_target;
  }
  ASSERT_GE(res->faces.size(), 15u);
  EXPECT_EQ(swapped, int(res->faces.size())) << "every sampled face is swapped";
  EXPECT_GE(double(moved) / swapped, 0.65)
      << moved << " of " << swapped << " frames moved (project recognizer)";
  EXPECT_LT(res->flicker_output / res->flicker_target, 2.0)
      << "flicker " << res->flicker_target << " -> " << res->flicker_output;
  // The face's shading must not pump from frame to frame: with the Poisson blend (its boundary crosses the
  // fringe and the collar) the blurred face jittered 10.8 times as much as the clip's; the video's own blend
  // (laplacian) 2.5 times (docs/quality.md, "Flicker").
  EXPECT_LT(res->shading_flicker_output / res->shading_flicker_target, 4.0)
      << "shading flicker " << res->shading_flicker_target << " -> " << res->shading_flicker_output;

  const auto second = quality::second_distances(
      (std::filesystem::path(FACEWEAVE_SOURCE_DIR) / "bench/quality/node/descriptors.sh").string(), *res,
      dir.path());
  ASSERT_TRUE(second.is_ok()) << second.status().to_string();
  int moved2 = 0;
  for (const auto& d : *second) moved2 += d.to_source < d.to_target;
  EXPECT_GE(double(moved2) / res->faces.size(), 0.8)
      << moved2 << " of " << res->faces.size() << " frames moved (second recognizer)";
}

}  // namespace
}  // namespace faceweave::testing
