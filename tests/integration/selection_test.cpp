// Face selection on group photos: many, one, orders, reference by position and by image.
#include "face/face_selector.h"
#include "face/head_turn.h"
#include "swap/classic_swapper.h"
#include "swap_support.h"

namespace faceweave::testing {
namespace {

// The faces (by index into ctx.faces) whose box centre lies inside a swapped region.
std::vector<size_t> swapped_faces(const pipeline::FrameContext& ctx) {
  std::vector<size_t> out;
  for (size_t i = 0; i < ctx.faces.size(); ++i) {
    const auto& b = ctx.faces[i].box;
    cv::Point centre(int(b.x + b.width / 2), int(b.y + b.height / 2));
    for (const auto& s : ctx.swaps)
      if (s.region.contains(centre)) out.push_back(i);
  }
  return out;
}

size_t leftmost(const std::vector<Face>& faces) {
  size_t best = 0;
  for (size_t i = 1; i < faces.size(); ++i)
    if (faces[i].box.x < faces[best].box.x) best = i;
  return best;
}

TEST(Selection, ManySwapsEveryFace) {
  auto& h = SwapHarness::get();
  SwapOptions o;
  o.face_selector_mode = "many";
  auto two = h.swap("astronaut.png", h.load("two_people.jpg"), o);
  EXPECT_EQ(two.selected.size(), 2u);
  EXPECT_EQ(two.swaps.size(), 2u);
  auto six = h.swap("astronaut.png", h.load("2008_002470.jpg"), o);
  EXPECT_EQ(six.selected.size(), 6u);
  EXPECT_EQ(six.swaps.size(), 6u);
}

TEST(Selection, OneFollowsTheOrder) {
  auto& h = SwapHarness::get();
  SwapOptions o;
  o.face_selector_mode = "one";
  o.face_selector_order = "left-right";
  auto left = h.swap("astronaut.png", h.load("two_people.jpg"), o);
  ASSERT_EQ(left.selected.size(), 1u);
  EXPECT_EQ(left.selected[0], leftmost(left.faces));
  EXPECT_EQ(swapped_faces(left), std::vector<size_t>{leftmost(left.faces)});

  o.face_selector_order = "right-left";
  auto right = h.swap("astronaut.png", h.load("two_people.jpg"), o);
  ASSERT_EQ(right.selected.size(), 1u);
  EXPECT_NE(right.selected[0], leftmost(right.faces));

  o.face_selector_order = "small-large";
  auto small = h.swap("astronaut.png", h.load("2008_002470.jpg"), o);
  ASSERT_EQ(small.selected.size(), 1u);
  for (const auto& f : small.faces) EXPECT_LE(small.faces[small.selected[0]].box.area(), f.box.area());
}

TEST(Selection, ReferencePositionPicksThatPersonOnly) {
  auto& h = SwapHarness::get();
  SwapOptions o;  // reference mode is the default
  o.face_selector_order = "left-right";
  o.reference_face_position = 2;
  auto ctx = h.swap("obama.jpg", h.load("2008_002470.jpg"), o);
  ASSERT_EQ(ctx.selected.size(), 1u) << "the other five people must not match the reference";
  std::vector<size_t> order(ctx.faces.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(),
            [&](size_t a, size_t b) { return ctx.faces[a].box.x < ctx.faces[b].box.x; });
  EXPECT_EQ(ctx.selected[0], order[2]);
}

// With no reference face given, a one-face target is its own reference: it is selected and swapped without
// an embedding of the target (the recognizer is the costliest step of such a swap). Two faces need theirs.
TEST(Selection, AOneFaceTargetIsItsOwnReferenceWithoutAnEmbedding) {
  auto& h = SwapHarness::get();
  SwapOptions o;  // reference mode is the default
  for (const char* target : {"biden.jpg", "two_people.jpg"}) {
    core::StageTimings timings;
    auto ctx = pipeline::swap_frame(h.load(target), o, h.source("obama.jpg"), *h.analyser, *h.registry,
                                    nullptr, &timings);
    ASSERT_TRUE(ctx.is_ok()) << ctx.status().to_string();
    ASSERT_EQ(ctx->selected.size(), 1u) << target;
    EXPECT_EQ(ctx->swaps.size(), 1u) << target;
    const bool one = ctx->faces.size() == 1;
    EXPECT_EQ(timings.stages().count("embed"), one ? 0u : 1u) << target;
    if (one) {
      EXPECT_TRUE(ctx->faces[0].normed_embedding.empty());
    } else {
      for (const auto& f : ctx->faces) EXPECT_FALSE(f.normed_embedding.empty()) << target;
    }
  }
}

TEST(Selection, ReferenceImagePicksTheRightPerson) {
  auto& h = SwapHarness::get();
  SwapOptions o;
  cv::Mat target = h.load("two_people.jpg");
  for (const char* who : {"obama.jpg", "biden.jpg"}) {
    Face reference = h.largest_face(h.load(who));
    auto ctx = h.swap("astronaut.png", target, o, &reference);
    ASSERT_EQ(ctx.selected.size(), 1u) << who;
    ASSERT_EQ(ctx.swaps.size(), 1u) << who;
    // The selected face is the one that matches the reference better than the other face does.
    const size_t chosen = ctx.selected[0], other = 1 - chosen;
    EXPECT_GT(face_similarity(ctx.faces[chosen], reference), face_similarity(ctx.faces[other], reference))
        << who;
    EXPECT_EQ(swapped_faces(ctx), std::vector<size_t>{chosen}) << who;
  }
}

TEST(Selection, AReferenceNobodyMatchesSelectsNothing) {
  auto& h = SwapHarness::get();
  SwapOptions o;
  Face stranger = h.largest_face(h.load("meds-aa-S029-01.jpg"));
  auto ctx = h.swap("astronaut.png", h.load("two_people.jpg"), o, &stranger);
  EXPECT_TRUE(ctx.selected.empty());
  EXPECT_TRUE(ctx.swaps.empty());
}

TEST(Selection, FacesOfTheTestPhotosAreAllWithinTheTurnTheSwapperServes) {
  auto& h = SwapHarness::get();
  for (const char* file : {"two_people.jpg", "2008_002470.jpg", "bald_guys.jpg", "obama.jpg", "biden.jpg",
                           "astronaut.png", "meds-aa-S001-01.jpg", "meds-af-S419-01.jpg"}) {
    auto faces = h.analyser->analyse(h.load(file));
    ASSERT_TRUE(faces.is_ok()) << file;
    for (const auto& f : *faces) EXPECT_LT(face::head_turn(f), 40.0f) << file << " face at " << f.box;
  }
}

TEST(Selection, AFaceTurnedAwayIsLeftAloneAndNeverTheDefaultReference) {
  auto& h = SwapHarness::get();
  const cv::Mat target = h.load("two_people.jpg");
  auto faces = std::move(h.analyser->analyse(target)).value();
  ASSERT_EQ(faces.size(), 2u);
  const size_t big = faces[0].box.area() >= faces[1].box.area() ? 0 : 1;
  // As the head pose model reads a profile: the largest face, the default reference, is turned 72 degrees.
  faces[big].pose = HeadPose{72.0f, 0.0f, 0.0f};
  auto selector = std::move(face::FaceSelector::create({})).value();
  const Face picked = std::move(selector.pick_reference(faces)).value();
  EXPECT_EQ(picked.box, faces[1 - big].box) << "the default reference must be the face the swapper can serve";

  auto swapper = std::move(swap::ClassicSwapper::create({})).value();
  cv::Mat frame = target.clone();
  auto outcome = swapper->swap(frame, faces[big], h.source("astronaut.png").texture);
  ASSERT_TRUE(outcome.is_ok());
  EXPECT_TRUE(outcome->turned_away);
  EXPECT_FALSE(outcome->swapped);
  EXPECT_EQ(cv::norm(frame, target, cv::NORM_INF), 0.0) << "a face turned away must be left as it was";
  faces[big].pose = HeadPose{15.0f, 0.0f, 0.0f};
  outcome = swapper->swap(frame, faces[big], h.source("astronaut.png").texture);
  ASSERT_TRUE(outcome.is_ok());
  EXPECT_TRUE(outcome->swapped);
  EXPECT_FALSE(outcome->turned_away);
}

}  // namespace
}  // namespace faceweave::testing
