#include "core/result.hpp"

#include <string>
#include <type_traits>

#include <gtest/gtest.h>

namespace kiln {
namespace {

Result<int> halve(int x) {
  if (x % 2 != 0) return make_error(ErrorCode::invalid_argument, "{} is odd", x);
  return x / 2;
}

TEST(Result, CarriesValueOrError) {
  auto good = halve(8);
  ASSERT_TRUE(good);
  EXPECT_EQ(*good, 4);
  auto bad = halve(7);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, ErrorCode::invalid_argument);
  EXPECT_EQ(bad.error().message, "7 is odd");
}

TEST(Result, VoidStatus) {
  Status ok;
  EXPECT_TRUE(ok);
  Status failed = make_error(ErrorCode::io, "disk full");
  EXPECT_FALSE(failed);
  EXPECT_STREQ(to_string(failed.error().code), "i/o error");
}

}  // namespace
}  // namespace kiln

namespace kiln {
namespace {

Result<int> parse_even(int x) {
  return halve(x * 2).transform([](int v) { return v * 2; });
}

Status check_positive(int x) {
  if (x <= 0) return make_error(ErrorCode::invalid_argument, "{} is not positive", x);
  return {};
}

Result<int> quarter_of_positive(int x) {
  KILN_TRY(check_positive(x));
  KILN_TRY_ASSIGN(const int half, halve(x));
  KILN_TRY_ASSIGN(int quarter, halve(half));
  return quarter;
}

TEST(Result, AndThenChainsAndStopsAtTheFirstError) {
  EXPECT_EQ(*halve(8).and_then(halve), 2);
  auto odd = halve(6).and_then(halve);
  ASSERT_FALSE(odd);
  EXPECT_EQ(odd.error().message, "3 is odd");
}

TEST(Result, TransformMapsAValueAndPassesAnErrorThrough) {
  EXPECT_EQ(*parse_even(5), 10);
  auto text = halve(4).transform([](int v) { return std::to_string(v); });
  static_assert(std::is_same_v<decltype(text), Result<std::string>>);
  EXPECT_EQ(*text, "2");
  EXPECT_FALSE(halve(3).transform([](int v) { return v + 1; }));
}

TEST(Result, OrElseRecoversFromAnError) {
  auto recovered = halve(3).or_else([](const Error&) -> Result<int> { return 0; });
  EXPECT_EQ(*recovered, 0);
  EXPECT_EQ(halve(3).value_or(-1), -1);
  EXPECT_EQ(halve(4).value_or(-1), 2);
}

TEST(Result, WithContextPrefixesTheMessage) {
  auto bad = halve(3).with_context("reading plan.yaml");
  EXPECT_EQ(bad.error().message, "reading plan.yaml: 3 is odd");
  EXPECT_EQ(bad.error().code, ErrorCode::invalid_argument);
}

TEST(Result, TryReturnsTheFirstErrorToTheCaller) {
  EXPECT_EQ(*quarter_of_positive(8), 2);
  EXPECT_EQ(quarter_of_positive(-4).error().message, "-4 is not positive");
  EXPECT_EQ(quarter_of_positive(6).error().message, "3 is odd");
}

TEST(Status, ComposesLikeAResult) {
  Status ok;
  EXPECT_EQ(*ok.transform([] { return 7; }), 7);
  Status failed = make_error(ErrorCode::io, "disk full");
  EXPECT_FALSE(failed.and_then([] { return Status{}; }));
  EXPECT_TRUE(failed.or_else([](const Error&) { return Status{}; }));
}

}  // namespace
}  // namespace kiln
