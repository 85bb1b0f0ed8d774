#include "testplans/param_text.hpp"

#include <gtest/gtest.h>

namespace kiln::plan {
namespace {

TEST(FormatNumber, ShortestFixedTextWithoutTrailingZeros) {
  EXPECT_EQ(format_number(0.9), "0.9");
  EXPECT_EQ(format_number(8192), "8192");
  EXPECT_EQ(format_number(1e6), "1000000");  // not 1e+06
  EXPECT_EQ(format_number(-3.5), "-3.5");
  EXPECT_EQ(format_number(1e-7), "0.0000001");
  EXPECT_EQ(format_number(-0.0), "0");
  EXPECT_EQ(format_number(0.1 + 0.2), "0.30000000000000004");  // round-trips, never rounded away
}

TEST(ParseText, ReadsCanonicalTextBack) {
  EXPECT_EQ(parse_number_text("0.9"), 0.9);
  EXPECT_FALSE(parse_number_text("0.9x"));
  EXPECT_FALSE(parse_number_text(""));
  EXPECT_FALSE(parse_number_text("inf"));
  EXPECT_EQ(parse_integer_text("8192"), 8192);
  EXPECT_FALSE(parse_integer_text("8192.5"));
  EXPECT_EQ(parse_size_text("67108864"), 67108864u);
  EXPECT_FALSE(parse_size_text("64MiB"));  // canonical sizes are byte counts
  EXPECT_EQ(parse_bool_text("true"), true);
  EXPECT_EQ(parse_bool_text("false"), false);
  EXPECT_FALSE(parse_bool_text("yes"));
  EXPECT_EQ(parse_number_list_text("700,750.5"), (std::vector<double>{700, 750.5}));
  EXPECT_FALSE(parse_number_list_text("700,,750"));
  EXPECT_FALSE(parse_number_list_text("700,"));
  EXPECT_EQ(parse_size_list_text("1,2"), (std::vector<std::uint64_t>{1, 2}));
}

TEST(ParamView, TypedAccessToEffectiveParams) {
  const std::map<std::string, std::string> params = {{"dtype", "bf16"},
                                                     {"m", "8192"},
                                                     {"fraction", "0.9"},
                                                     {"check", "true"},
                                                     {"sizes", "1048576,67108864"},
                                                     {"dwell", "0.25"},
                                                     {"voltage_mv", "700,750"},
                                                     {"block", "4096"}};
  const ParamView view(params);
  EXPECT_EQ(view.text("dtype"), "bf16");
  EXPECT_EQ(view.integer("m"), 8192);
  EXPECT_EQ(view.number("fraction"), 0.9);
  EXPECT_EQ(view.boolean("check"), true);
  EXPECT_EQ(view.sizes("sizes"), (std::vector<std::uint64_t>{1048576, 67108864}));
  EXPECT_DOUBLE_EQ(view.duration("dwell")->count(), 0.25);
  EXPECT_EQ(view.numbers("voltage_mv"), (std::vector<double>{700, 750}));
  EXPECT_EQ(view.size("block"), 4096u);
  EXPECT_FALSE(view.text("absent"));
  EXPECT_FALSE(view.integer("dtype"));  // wrong form is nullopt, never 0
  EXPECT_FALSE(view.boolean("m"));
}

}  // namespace
}  // namespace kiln::plan
