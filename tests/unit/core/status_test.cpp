#include "faceweave/status.h"

#include <memory>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "test_support.h"

namespace faceweave {
namespace {

TEST(StatusTest, DefaultIsOk) {
  Status s;
  EXPECT_TRUE(s.is_ok());
  EXPECT_EQ(s.code(), StatusCode::kOk);
  EXPECT_EQ(s.message(), "");
  EXPECT_EQ(s.to_string(), "ok");
  EXPECT_TRUE(Status::ok().is_ok());
}

TEST(StatusTest, ErrorCarriesCodeAndMessage) {
  Status s(StatusCode::kInvalidInput, "photo.jpg is empty");
  EXPECT_FALSE(s.is_ok());
  EXPECT_EQ(s.code(), StatusCode::kInvalidInput);
  EXPECT_EQ(s.message(), "photo.jpg is empty");
  EXPECT_EQ(s.to_string(), "invalid_input: photo.jpg is empty");
}

TEST(StatusTest, HelpersSetTheirCodes) {
  EXPECT_EQ(invalid_argument("m").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(not_found("m").code(), StatusCode::kNotFound);
  EXPECT_EQ(invalid_input("m").code(), StatusCode::kInvalidInput);
  EXPECT_EQ(unsupported("m").code(), StatusCode::kUnsupported);
  EXPECT_EQ(model_error("m").code(), StatusCode::kModelError);
  EXPECT_EQ(permission_denied("m").code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(io_error("m").code(), StatusCode::kIoError);
  EXPECT_EQ(no_face("m").code(), StatusCode::kNoFace);
  EXPECT_EQ(internal_error("m").code(), StatusCode::kInternal);
  EXPECT_EQ(not_found("no such file").message(), "no such file");
  EXPECT_EQ(not_found("no such file").to_string(), "not_found: no such file");
}

TEST(StatusCodeNameTest, EveryCodeHasItsStableName) {
  EXPECT_STREQ(status_code_name(StatusCode::kOk), "ok");
  EXPECT_STREQ(status_code_name(StatusCode::kInvalidArgument), "invalid_argument");
  EXPECT_STREQ(status_code_name(StatusCode::kNotFound), "not_found");
  EXPECT_STREQ(status_code_name(StatusCode::kInvalidInput), "invalid_input");
  EXPECT_STREQ(status_code_name(StatusCode::kUnsupported), "unsupported");
  EXPECT_STREQ(status_code_name(StatusCode::kModelError), "model_error");
  EXPECT_STREQ(status_code_name(StatusCode::kPermissionDenied), "permission_denied");
  EXPECT_STREQ(status_code_name(StatusCode::kIoError), "io_error");
  EXPECT_STREQ(status_code_name(StatusCode::kNoFace), "no_face");
  EXPECT_STREQ(status_code_name(StatusCode::kCancelled), "cancelled");
  EXPECT_STREQ(status_code_name(StatusCode::kInternal), "internal");
}

TEST(StatusCodeNameTest, NamesAreDistinct) {
  std::set<std::string> names;
  for (int c = int(StatusCode::kOk); c <= int(StatusCode::kInternal); ++c)
    names.insert(status_code_name(StatusCode(c)));
  EXPECT_EQ(names.size(), size_t(StatusCode::kInternal) + 1);
}

// Built by a function rather than `Result<int> r = 42;` in the test body: with the value visible, GCC 12 at
// -O2 warns (falsely) that the variant's Status alternative may be used uninitialized, and -Werror stops the
// build.
Result<int> int_result(int v) {
  return v;
}

TEST(ResultTest, HoldsValue) {
  Result<int> r = int_result(42);
  ASSERT_TRUE(r.is_ok());
  EXPECT_TRUE(static_cast<bool>(r));
  EXPECT_EQ(r.value(), 42);
  EXPECT_EQ(*r, 42);
  EXPECT_TRUE(r.status().is_ok());
  EXPECT_EQ(r.status().code(), StatusCode::kOk);
}

TEST(ResultTest, HoldsError) {
  Result<int> r = not_found("model x is missing");
  EXPECT_FALSE(r.is_ok());
  EXPECT_FALSE(static_cast<bool>(r));
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(r.status().message(), "model x is missing");
}

TEST(ResultTest, ArrowAndMutation) {
  Result<std::string> r = std::string("abc");
  ASSERT_TRUE(r.is_ok());
  EXPECT_EQ(r->size(), 3u);
  r.value() += "d";
  *r += "e";
  EXPECT_EQ(r.value(), "abcde");
  const Result<std::string>& cr = r;
  EXPECT_EQ(cr->size(), 5u);
  EXPECT_EQ(*cr, "abcde");
}

TEST(ResultTest, MoveOnlyValueCanBeMovedOut) {
  Result<std::unique_ptr<int>> r = std::make_unique<int>(7);
  ASSERT_TRUE(r.is_ok());
  std::unique_ptr<int> p = std::move(r).value();
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(*p, 7);
}

// Helpers exercising the macros: each records how far it got, so an early return is observable.
Status step(bool fail, std::vector<std::string>* trace, const std::string& name) {
  trace->push_back(name);
  if (fail) return io_error(name + " failed");
  return Status::ok();
}

Status two_steps(bool fail_first, bool fail_second, std::vector<std::string>* trace) {
  FW_RETURN_IF_ERROR(step(fail_first, trace, "first"));
  FW_RETURN_IF_ERROR(step(fail_second, trace, "second"));
  trace->push_back("done");
  return Status::ok();
}

TEST(MacroTest, ReturnIfErrorPassesOkThrough) {
  std::vector<std::string> trace;
  Status s = two_steps(false, false, &trace);
  EXPECT_TRUE(s.is_ok());
  EXPECT_EQ(trace, (std::vector<std::string>{"first", "second", "done"}));
}

TEST(MacroTest, ReturnIfErrorStopsAtFirstError) {
  std::vector<std::string> trace;
  Status s = two_steps(true, false, &trace);
  EXPECT_EQ(s.code(), StatusCode::kIoError);
  EXPECT_EQ(s.message(), "first failed");
  EXPECT_EQ(trace, (std::vector<std::string>{"first"}));
}

TEST(MacroTest, ReturnIfErrorStopsAtSecondError) {
  std::vector<std::string> trace;
  Status s = two_steps(false, true, &trace);
  EXPECT_EQ(s.code(), StatusCode::kIoError);
  EXPECT_EQ(s.message(), "second failed");
  EXPECT_EQ(trace, (std::vector<std::string>{"first", "second"}));
}

Result<int> parse_positive(int v) {
  if (v <= 0) return invalid_argument("value " + std::to_string(v) + " is not positive");
  return v;
}

// Two FW_ASSIGN_OR_RETURN on different lines in one scope must not clash.
Result<int> sum_positive(int a, int b, bool* reached_end) {
  FW_ASSIGN_OR_RETURN(int x, parse_positive(a));
  FW_ASSIGN_OR_RETURN(int y, parse_positive(b));
  *reached_end = true;
  return x + y;
}

TEST(MacroTest, AssignOrReturnAssignsValues) {
  bool reached = false;
  Result<int> r = sum_positive(2, 3, &reached);
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  EXPECT_EQ(*r, 5);
  EXPECT_TRUE(reached);
}

TEST(MacroTest, AssignOrReturnPropagatesError) {
  bool reached = false;
  Result<int> r = sum_positive(2, -1, &reached);
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().message(), "value -1 is not positive");
  EXPECT_FALSE(reached);

  r = sum_positive(0, 5, &reached);
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().message(), "value 0 is not positive");
  EXPECT_FALSE(reached);
}

Result<std::unique_ptr<int>> make_box(int v) {
  if (v < 0) return invalid_argument("negative");
  return std::make_unique<int>(v);
}

// The macro moves the value out, so it works with move-only types and with an existing variable.
Status assign_existing(int v, std::unique_ptr<int>* out) {
  std::unique_ptr<int> p;
  FW_ASSIGN_OR_RETURN(p, make_box(v));
  *out = std::move(p);
  return Status::ok();
}

TEST(MacroTest, AssignOrReturnWorksWithMoveOnlyAndExistingVariable) {
  std::unique_ptr<int> out;
  ASSERT_TRUE(assign_existing(9, &out).is_ok());
  ASSERT_NE(out, nullptr);
  EXPECT_EQ(*out, 9);

  std::unique_ptr<int> untouched;
  Status s = assign_existing(-1, &untouched);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(untouched, nullptr);
}

}  // namespace
}  // namespace faceweave
