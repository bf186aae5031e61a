#include "server/options_json.h"

#include <gtest/gtest.h>

namespace faceweave::server {
namespace {
using nlohmann::json;

FieldError parse_error(const json& options) {
  JobOptions out;
  FieldError e;
  EXPECT_FALSE(
      parse_job_options(options, out, e, [](const std::string& s) -> Result<std::string> { return s; }));
  return e;
}

TEST(OptionsJson, NullAndEmptyGiveTheCliDefaults) {
  JobOptions out;
  FieldError e;
  ASSERT_TRUE(parse_job_options(json(), out, e));
  EXPECT_EQ(out.swap.blend, SwapOptions{}.blend);
  ASSERT_TRUE(parse_job_options(json::object(), out, e));
  EXPECT_FLOAT_EQ(out.swap.identity_strength, SwapOptions{}.identity_strength);
  EXPECT_EQ(out.video.quality, VideoOptions{}.quality);
  EXPECT_TRUE(job_options_to_json(out).empty());
}

TEST(OptionsJson, SetsEveryKindOfField) {
  JobOptions out;
  FieldError e;
  const json in{{"blend", "laplacian"},
                {"identity_strength", 0.5},
                {"face_mask_padding", {1, 2, 3, 4}},
                {"keep_mouth_interior", false},
                {"processors", {"face_swapper", "face_enhancer"}},
                {"face_selector_age_end", 60},
                {"output_video_quality", 70},
                {"output_video_scale", 0.5},
                {"trim_frame_end", 30},
                {"output_format", "png"}};
  ASSERT_TRUE(parse_job_options(in, out, e)) << e.status.message();
  EXPECT_EQ(out.swap.blend, "laplacian");
  EXPECT_FLOAT_EQ(out.swap.identity_strength, 0.5f);
  EXPECT_FLOAT_EQ(out.swap.face_mask_padding[3], 4.0f);
  EXPECT_FALSE(out.swap.keep_mouth_interior);
  EXPECT_EQ(out.swap.processors.size(), 2u);
  EXPECT_EQ(out.swap.face_selector_age_end, 60);
  EXPECT_EQ(out.video.quality, 70);
  EXPECT_DOUBLE_EQ(out.video.scale, 0.5);
  EXPECT_EQ(out.video.trim_frame_end, 30);
  EXPECT_EQ(out.output_format, "png");
  // Round trip: what a job stores reads back to the same options.
  JobOptions again;
  ASSERT_TRUE(parse_job_options(job_options_to_json(out), again, e));
  EXPECT_EQ(job_options_to_json(again), job_options_to_json(out));
}

TEST(OptionsJson, PaddingTakesOneToFourValuesLikeCss) {
  auto padding = [](const json& v) {
    JobOptions out;
    FieldError e;
    EXPECT_TRUE(parse_job_options(json{{"face_mask_padding", v}}, out, e))
        << v.dump() << ": " << e.status.message();
    return out.swap.face_mask_padding;
  };
  EXPECT_EQ(padding(7), (std::array<float, 4>{7, 7, 7, 7}));
  EXPECT_EQ(padding({7}), (std::array<float, 4>{7, 7, 7, 7}));
  EXPECT_EQ(padding({5, 10}), (std::array<float, 4>{5, 10, 5, 10}));
  EXPECT_EQ(padding({1, 2, 3}), (std::array<float, 4>{1, 2, 3, 2}));
  EXPECT_EQ(padding({1, 2, 3, 4}), (std::array<float, 4>{1, 2, 3, 4}));
  EXPECT_EQ(padding({0, 0, 0, 0}), (std::array<float, 4>{0, 0, 0, 0}));
}

TEST(OptionsJson, ErrorsNameTheField) {
  EXPECT_EQ(parse_error({{"identity_strength", "high"}}).field, "identity_strength");
  EXPECT_EQ(parse_error({{"identity_strength", 3}}).field, "identity_strength");  // range: the shared check
  EXPECT_NE(parse_error({{"identity_strength", 3}}).status.message().find("between 0 and 1"),
            std::string::npos);
  EXPECT_EQ(parse_error({{"blend", "smudge"}}).field, "blend");
  EXPECT_EQ(parse_error({{"no_such_option", 1}}).field, "no_such_option");
  EXPECT_EQ(parse_error({{"face_mask_padding", {1, 2, 3, 4, 5}}}).field, "face_mask_padding");
  EXPECT_EQ(parse_error({{"face_mask_padding", json::array()}}).field, "face_mask_padding");
  EXPECT_EQ(parse_error({{"face_mask_padding", {1, "2"}}}).field, "face_mask_padding");
  EXPECT_EQ(parse_error({{"face_mask_padding", {1, 2, 3, 400}}}).field, "face_mask_padding");
  // Refused by the range check before it becomes a float: 1e300 does not fit one (undefined behaviour that
  // happened to give inf, which the engine's own check then refused as "(got inf)").
  for (const json& huge : {json(1e300), json{1, -1e300}}) {
    const FieldError e = parse_error({{"face_mask_padding", huge}});
    EXPECT_EQ(e.field, "face_mask_padding");
    EXPECT_EQ(e.status.message(), "face_mask_padding must be between 0 and 100");
  }
  EXPECT_EQ(parse_error({{"output_video_quality", 1.5}}).field, "output_video_quality");
  EXPECT_EQ(parse_error({{"output_video_preset", "warp"}}).field, "output_video_preset");
  EXPECT_EQ(parse_error({{"processors", json::array()}}).field, "processors");
  // A model path is a CLI-only choice: over the API it would name a server file.
  EXPECT_EQ(parse_error({{"frame_enhancer", "/etc/passwd"}}).field, "frame_enhancer");
  // Each value is fine alone; together they conflict.
  const FieldError both = parse_error({{"trim_frame_start", 50}, {"trim_frame_end", 10}});
  EXPECT_EQ(both.field, "");
  EXPECT_EQ(both.status.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(parse_error(json::array()).field, "options");
}

TEST(OptionsJson, ReferenceImageGoesThroughTheResolver) {
  JobOptions out;
  FieldError e;
  ASSERT_TRUE(
      parse_job_options({{"reference_face_image", "u_x"}}, out, e,
                        [](const std::string& id) -> Result<std::string> { return "/uploads/" + id; }));
  EXPECT_EQ(out.swap.reference_face_image, "/uploads/u_x");
  EXPECT_FALSE(
      parse_job_options({{"reference_face_image", "u_x"}}, out, e,
                        [](const std::string&) -> Result<std::string> { return not_found("gone"); }));
  EXPECT_EQ(e.field, "reference_face_image");
  EXPECT_EQ(e.status.code(), StatusCode::kNotFound);
  EXPECT_FALSE(parse_job_options({{"reference_face_image", "u_x"}}, out, e));  // no resolver: refused
}

TEST(OptionsJson, ClassicOnlyOptionsAreRefusedWithAnOnnxSwapper) {
  // Accepted with the classic swapper, refused (not silently ignored) with an ONNX one.
  JobOptions out;
  FieldError e;
  EXPECT_TRUE(parse_job_options({{"skin_mask", false}, {"target_lighting", 0.5}, {"match_sharpness", false}},
                                out, e));
  EXPECT_FALSE(out.swap.match_sharpness);
  for (const char* key : {"skin_mask", "target_lighting", "match_sharpness"}) {
    const json value = std::string(key) == "target_lighting" ? json(0.5) : json(false);
    const FieldError f = parse_error({{"face_swapper_model", "inswapper_128"}, {key, value}});
    EXPECT_EQ(f.field, key);
    EXPECT_NE(f.status.message().find("classic swapper only"), std::string::npos) << f.status.message();
  }
  // The finishing options apply to every swapper, so they are accepted.
  EXPECT_TRUE(parse_job_options({{"face_swapper_model", "inswapper_128"},
                                 {"identity_strength", 0.3},
                                 {"blend", "affine"},
                                 {"color_match", "none"},
                                 {"keep_mouth_interior", false}},
                                out, e))
      << e.status.message();
  // Models this build cannot run are not offered.
  const json catalog = option_catalog();
  for (const auto& v : catalog["face_swapper_model"]["values"]) EXPECT_NE(v, "inswapper_128_fp16");
  for (const auto& v : catalog["face_enhancer"]["values"]) EXPECT_NE(v, "gfpgan_1.4");
  EXPECT_EQ(parse_error({{"face_enhancer", "gfpgan_1.4"}}).field, "face_enhancer");
}

TEST(OptionsJson, CatalogValuesAreExactlyWhatValidationAccepts) {
  const json catalog = option_catalog();
  ASSERT_TRUE(catalog.contains("blend"));
  for (const auto& [key, spec] : catalog.items()) {
    SCOPED_TRACE(key);
    JobOptions out;
    FieldError e;
    EXPECT_TRUE(parse_job_options({{key, spec["default"]}}, out, e)) << e.status.message();
    if (spec["type"] == "enum") {
      for (const auto& v : spec["values"]) EXPECT_TRUE(parse_job_options({{key, v}}, out, e)) << v;
      EXPECT_FALSE(parse_job_options({{key, "not-a-value"}}, out, e));
    }
    if (spec["type"] == "number" || spec["type"] == "integer") {
      EXPECT_TRUE(parse_job_options({{key, spec["max"]}}, out, e)) << e.status.message();
      EXPECT_FALSE(parse_job_options({{key, spec["max"].get<double>() + 1000}}, out, e));
    }
  }
}

}  // namespace
}  // namespace faceweave::server
