#include "core/result.hpp"

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
