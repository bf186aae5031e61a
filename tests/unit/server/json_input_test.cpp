// The one parser for outside JSON: nesting is capped while parsing, so no deep value is ever built.
#include "server/json_input.h"

#include <gtest/gtest.h>

#include <string>

namespace faceweave::server {
namespace {

std::string nested_arrays(int depth) {
  return std::string(size_t(depth), '[') + std::string(size_t(depth), ']');
}

std::string nested_objects(int depth) {
  std::string text;
  for (int i = 0; i < depth; ++i) text += "{\"a\":";
  text += "1";
  text += std::string(size_t(depth), '}');
  return text;
}

TEST(JsonInput, ParsesOrdinaryJson) {
  auto j = parse_json_input(R"({"client":"abc","events":[{"event":"ui.page","props":{"n":1}}]})", "the body");
  ASSERT_TRUE(j) << j.status().message();
  EXPECT_EQ((*j)["events"][0]["props"]["n"], 1);
  auto exact = parse_json_input(nested_arrays(kMaxJsonDepth), "the body");
  EXPECT_TRUE(exact) << "exactly the limit is allowed";
}

TEST(JsonInput, RefusesNestingPastTheLimit) {
  for (const std::string& text : {nested_arrays(kMaxJsonDepth + 1), nested_objects(kMaxJsonDepth + 1)}) {
    auto j = parse_json_input(text, "the body");
    ASSERT_FALSE(j);
    EXPECT_EQ(j.status().code(), StatusCode::kInvalidArgument);
    EXPECT_TRUE(json_too_deep(j.status())) << j.status().message();
    EXPECT_NE(j.status().message().find("the body nests arrays and objects deeper than 64 levels"),
              std::string::npos)
        << j.status().message();
  }
}

// The inputs that crashed the server: 120 KB of `[` (unterminated) and 60,000 balanced levels. Both end at
// level 65, long before the end of the text.
TEST(JsonInput, SixtyThousandLevelsEndAtTheLimit) {
  auto open = parse_json_input(std::string(120'000, '['), "the body");
  ASSERT_FALSE(open);
  EXPECT_TRUE(json_too_deep(open.status())) << open.status().message();
  auto balanced = parse_json_input(nested_objects(60'000), "--options");
  ASSERT_FALSE(balanced);
  EXPECT_TRUE(json_too_deep(balanced.status())) << balanced.status().message();
  EXPECT_EQ(balanced.status().message().rfind("--options nests", 0), 0u) << balanced.status().message();
}

TEST(JsonInput, SyntaxErrorsSaySoAndStayShort) {
  auto j = parse_json_input("{not json", "the body");
  ASSERT_FALSE(j);
  EXPECT_FALSE(json_too_deep(j.status()));
  EXPECT_EQ(j.status().message().rfind("the body is not valid JSON (", 0), 0u) << j.status().message();
  auto long_token = parse_json_input("[\"" + std::string(10'000, 'x'), "the body");
  ASSERT_FALSE(long_token);
  EXPECT_LT(long_token.status().message().size(), 300u) << "the body is never echoed whole";
  EXPECT_FALSE(parse_json_input("", "the body"));
  EXPECT_FALSE(parse_json_input("[1] trailing", "the body"));
}

TEST(JsonInput, ALowerLimitCanBeGiven) {
  EXPECT_TRUE(parse_json_input("[[1]]", "x", 2));
  EXPECT_FALSE(parse_json_input("[[[1]]]", "x", 2));
}

}  // namespace
}  // namespace faceweave::server
