// Identity embeddings on real photographs: the same person is closer than different people.
#include "analysis_support.h"

namespace faceweave::testing {
namespace {

Face single_face(const std::string& file) {
  auto faces = analyse_file(image(file));
  EXPECT_EQ(faces.size(), 1u) << file;
  return faces.empty() ? Face{} : faces[0];
}

TEST(Identity, EmbeddingsAre512DimensionalAndNormalised) {
  Face f = single_face("obama.jpg");
  ASSERT_EQ(f.embedding.size(), 512u);
  ASSERT_EQ(f.normed_embedding.size(), 512u);
  double norm = 0;
  for (float v : f.normed_embedding) norm += double(v) * v;
  EXPECT_NEAR(norm, 1.0, 1e-4);
  EXPECT_NEAR(face_similarity(f, f), 1.0f, 1e-4);
}

TEST(Identity, SamePersonIsCloserThanOthers) {
  Face a1 = single_face("meds-aa-S001-01.jpg");
  Face a2 = single_face("meds-aa-S001-02.jpg");
  Face b = single_face("meds-aa-S029-01.jpg");
  Face c = single_face("meds-af-S419-01.jpg");
  const float same = face_similarity(a1, a2);
  for (const Face* other : {&b, &c}) {
    EXPECT_GT(same, face_similarity(a1, *other));
    EXPECT_GT(same, face_similarity(a2, *other));
  }
  RecordProperty("same_person_similarity", std::to_string(same));
}

TEST(Identity, ObamaAndBidenAreApart) {
  Face obama = single_face("obama.jpg");
  Face biden = single_face("biden.jpg");
  Face same_obama = single_face("obama.jpg");
  EXPECT_LT(face_similarity(obama, biden), 0.5f);
  EXPECT_GT(face_similarity(obama, same_obama), 0.99f);
}

TEST(Identity, TwoPeopleMatchObamaAndBiden) {
  Face obama = single_face("obama.jpg");
  Face biden = single_face("biden.jpg");
  auto faces = analyse_file(image("two_people.jpg"));
  ASSERT_EQ(faces.size(), 2u);
  // Exactly one assignment is right: each face is nearer its own portrait than the other portrait.
  const float s00 = face_similarity(faces[0], obama), s01 = face_similarity(faces[0], biden);
  const float s10 = face_similarity(faces[1], obama), s11 = face_similarity(faces[1], biden);
  const bool zero_is_obama = s00 + s11 > s01 + s10;
  const Face& o = zero_is_obama ? faces[0] : faces[1];
  const Face& b = zero_is_obama ? faces[1] : faces[0];
  EXPECT_GT(face_similarity(o, obama), face_similarity(o, biden));
  EXPECT_GT(face_similarity(b, biden), face_similarity(b, obama));
  EXPECT_GT(face_similarity(o, obama), face_similarity(b, obama));
  EXPECT_GT(face_similarity(b, biden), face_similarity(o, biden));
}

TEST(Attributes, FrontalPortraitsHaveSmallHeadPoseAndPlausibleAge) {
  for (const char* file : {"obama.jpg", "meds-aa-S001-01.jpg", "meds-aa-S001-02.jpg"}) {
    Face f = single_face(file);
    ASSERT_TRUE(f.pose.has_value()) << file;
    EXPECT_LT(std::abs(f.pose->yaw), 20.0f) << file;
    EXPECT_LT(std::abs(f.pose->roll), 20.0f) << file;
    ASSERT_TRUE(f.age.has_value());
    EXPECT_GT(*f.age, 15.0f) << file;
    EXPECT_LT(*f.age, 90.0f) << file;
    ASSERT_TRUE(f.gender.has_value());
  }
}

TEST(Attributes, YawFollowsAMirroredFace) {
  // Mirroring the image turns the head the other way: yaw changes sign (roll too), pitch stays.
  auto img = load_image(image("two_people.jpg"));
  ASSERT_TRUE(img.is_ok());
  cv::Mat flipped;
  cv::flip(*img, flipped, 1);
  auto a = shared_engine().analyse(*img);
  auto b = shared_engine().analyse(flipped);
  ASSERT_TRUE(a.is_ok() && b.is_ok());
  ASSERT_EQ(a->size(), 2u);
  ASSERT_EQ(b->size(), 2u);
  // The strongest face in the original: the face at the mirrored position in the flipped image.
  const Face& fa = (*a)[0];
  const Face* fb = nullptr;
  for (const auto& f : *b)
    if (std::abs((f.box.x + f.box.width / 2) - (float(img->cols) - fa.box.x - fa.box.width / 2)) <
        fa.box.width / 2)
      fb = &f;
  ASSERT_NE(fb, nullptr);
  EXPECT_NEAR(fa.pose->yaw, -fb->pose->yaw, 8.0f);
  EXPECT_NEAR(fa.pose->pitch, fb->pose->pitch, 8.0f);
  EXPECT_GT(std::abs(fa.pose->yaw), 5.0f);
}

}  // namespace
}  // namespace faceweave::testing
