// Face selection on group photos: many, one, orders, reference by position and by image.
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

}  // namespace
}  // namespace faceweave::testing
