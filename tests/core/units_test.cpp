#include "core/units.hpp"

#include <gtest/gtest.h>

namespace kiln {
namespace {

TEST(ParseDuration, AcceptsEveryUnit) {
  EXPECT_DOUBLE_EQ(parse_duration("250ms")->count(), 0.25);
  EXPECT_DOUBLE_EQ(parse_duration("90s")->count(), 90.0);
  EXPECT_DOUBLE_EQ(parse_duration("5m")->count(), 300.0);
  EXPECT_DOUBLE_EQ(parse_duration("8h")->count(), 28800.0);
  EXPECT_DOUBLE_EQ(parse_duration("1.5h")->count(), 5400.0);
  EXPECT_DOUBLE_EQ(parse_duration("2d")->count(), 172800.0);
}

TEST(ParseDuration, RejectsMissingOrUnknownUnitAndGarbage) {
  EXPECT_FALSE(parse_duration("5"));
  EXPECT_NE(parse_duration("5").error().message.find("missing unit"), std::string::npos);
  EXPECT_FALSE(parse_duration("5y"));
  EXPECT_FALSE(parse_duration(""));
  EXPECT_FALSE(parse_duration("-5s"));
  EXPECT_FALSE(parse_duration("s"));
  EXPECT_FALSE(parse_duration("1.2.3s"));
}

TEST(ParseSize, BinaryAndDecimalUnits) {
  EXPECT_EQ(*parse_size("64MiB"), 64ull << 20);
  EXPECT_EQ(*parse_size("1GiB"), 1ull << 30);
  EXPECT_EQ(*parse_size("4KB"), 4000u);
  EXPECT_EQ(*parse_size("512"), 512u);
  EXPECT_EQ(*parse_size("1.5KiB"), 1536u);
}

TEST(ParseSize, RejectsFractionalBytesUnknownUnitsAndOverflow) {
  EXPECT_FALSE(parse_size("1.5B"));
  EXPECT_FALSE(parse_size("3 parsecs"));
  EXPECT_FALSE(parse_size("99999999999TiB"));
  EXPECT_FALSE(parse_size("MiB"));
}

TEST(Format, RoundTripsCommonValues) {
  EXPECT_EQ(format_duration(Seconds{300}), "5m");
  EXPECT_EQ(format_duration(Seconds{42.5}), "42.5s");
  EXPECT_EQ(format_duration(Seconds{3720}), "1h02m");
  EXPECT_EQ(format_duration(Seconds{0.25}), "250ms");
  EXPECT_EQ(format_duration(Seconds{0}), "0s");
  EXPECT_EQ(format_size(64ull << 20), "64MiB");
  EXPECT_EQ(format_size(512), "512B");
}

}  // namespace
}  // namespace kiln
