// /api/events keeps only the words of the UI's own controls (web/src/shared/ui_events.json and the option
// catalog): free text such as a name or an address is refused.
#include "server/ui_events.h"

#include <gtest/gtest.h>

namespace faceweave::server {
namespace {

using nlohmann::json;

TEST(UiEvents, WhatTheUiSendsIsAccepted) {
  const auto& v = UiEventVocabulary::standard();
  EXPECT_EQ(v.check("ui.page", {{"page", "workbench"}}), "");
  EXPECT_EQ(
      v.check(
          "ui.action",
          {{"control", "blend"}, {"action", "change"}, {"value", "laplacian"}, {"old_value", "seamless"}}),
      "");
  // Option choices as the UI's toWord makes them; a model this build does not offer (gfpgan_1.4 ->
  // gfpgan_1_4) is not a choice the UI can send.
  EXPECT_EQ(v.check("ui.action", {{"control", "face_enhancer"}, {"action", "change"}, {"value", "detail"}}),
            "");
  EXPECT_NE(
      v.check("ui.action", {{"control", "face_enhancer"}, {"action", "change"}, {"value", "gfpgan_1_4"}}),
      "");
  EXPECT_EQ(
      v.check("ui.action",
              {{"control", "identity_strength"}, {"action", "change"}, {"number", 0.6}, {"old_number", 0.8}}),
      "");
  EXPECT_EQ(v.check("ui.action", {{"control", "ab_a"}, {"action", "change"}, {"value", "0_1_0"}}), "");
  EXPECT_EQ(v.check("ui.action", {{"control", "ab_metric"}, {"action", "change"}, {"value", "error_rate"}}),
            "");
  EXPECT_EQ(v.check("ui.action", {{"control", "export"}, {"action", "download"}, {"value", "funnel_csv"}}),
            "");
  EXPECT_EQ(v.check("ui.error", {{"code", "no_face"}, {"where", "preview"}}), "");
}

TEST(UiEvents, FreeTextIsRefused) {
  const auto& v = UiEventVocabulary::standard();
  EXPECT_NE(v.check("ui.action", {{"control", "blend"}, {"action", "change"}, {"value", "secret_name_123"}}),
            "");
  EXPECT_NE(v.check("ui.error", {{"code", "no_face"}, {"where", "192-168-1-1"}}), "");
  EXPECT_NE(v.check("ui.action", {{"control", "ann_lee"}, {"action", "change"}}), "");
  EXPECT_NE(v.check("ui.action", {{"control", "blend"}, {"action", "stare"}}), "");
  EXPECT_NE(v.check("ui.page", {{"page", "workbench"}, {"email", "a"}}), "");  // unknown property
  EXPECT_NE(v.check("ui.page", {{"page", 3}}), "");
  EXPECT_NE(v.check("ui.action", {{"control", "compare"}, {"number", "12"}}), "");
  EXPECT_NE(v.check("ui.secret", json::object()), "");
  EXPECT_NE(v.check("ui.page", json::array()), "");
}

TEST(UiEvents, TheListParsesAndBadListsAreErrors) {
  EXPECT_TRUE(UiEventVocabulary::parse(embedded_ui_events_json()).is_ok());
  EXPECT_FALSE(UiEventVocabulary::parse("[]").is_ok());
  EXPECT_FALSE(UiEventVocabulary::parse(R"({"events": {"ui.page": {"page": "nowhere"}}})").is_ok());
  auto small = UiEventVocabulary::parse(R"({"events": {"ui.page": {"page": "pages"}}, "pages": ["a"]})");
  ASSERT_TRUE(small.is_ok());
  EXPECT_EQ(small->check("ui.page", {{"page", "a"}}), "");
  EXPECT_NE(small->check("ui.page", {{"page", "b"}}), "");
}

TEST(UiEvents, WordsAreMadeAsTheUiMakesThem) {
  EXPECT_EQ(ui_word("GFPGAN_1.4"), "gfpgan_1_4");
  EXPECT_EQ(ui_word("abcdefghijklmnopqrstuvwxyz"), "abcdefghijklmnopqrstuvwx");
}

}  // namespace
}  // namespace faceweave::server
