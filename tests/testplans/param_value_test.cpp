#include "testplans/param_value.hpp"

#include <gtest/gtest.h>

#include "testplans/param_wire.hpp"

namespace kiln::plan {
namespace {

const PatternSpec& builtin(std::string_view name) { return *PatternRegistry::builtin().find(name); }

TEST(CheckParam, HoldsAValueAgainstItsSpecTypeChoicesAndBounds) {
  const PatternSpec& gemm = builtin("gemm");
  const ParamSpec& m = *gemm.find_param("m");
  EXPECT_FALSE(check_param(m, ParamValue(std::int64_t{8192})));
  // The registry's bound is the only one: no agent-side 2^20.
  EXPECT_EQ(check_param(m, ParamValue(std::int64_t{65537}))->message, "65537 is out of range [1, 65536]");
  EXPECT_EQ(check_param(m, ParamValue(ChoiceValue{"lots"}))->message, "expected an integer, got a choice");
  const ParamSpec& dtype = *gemm.find_param("dtype");
  EXPECT_EQ(check_param(dtype, ParamValue(ChoiceValue{"fp64"}))->message,
            "expected one of fp32, bf16, fp16, fp8, got 'fp64'");
  const ParamSpec& sizes = *builtin("collective").find_param("sizes");
  const auto bad = check_param(sizes, ParamValue(std::vector<std::uint64_t>{1024, 0}));
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->message, "0B is out of range [1B, 64GiB]");
  EXPECT_EQ(bad->element, 1u);
  EXPECT_EQ(check_param(sizes, ParamValue(std::vector<std::uint64_t>{}))->message, "the list is empty");
}

TEST(CheckParams, NeedsExactlyThePatternsParams) {
  const PatternSpec& hbm = builtin("hbm");
  auto params = params_from_text(hbm, {{"fraction", "0.5"}});
  ASSERT_TRUE(params) << params.error().message;
  EXPECT_TRUE(check_params(hbm, *params));
  EXPECT_EQ(params->choice("test"), "moving_inversions");  // the default
  EXPECT_DOUBLE_EQ(params->number("fraction"), 0.5);

  ParamSet missing;
  missing.set("test", ChoiceValue{"random"});
  EXPECT_EQ(check_params(hbm, missing).error().message, "param fraction is missing");
  ParamSet extra = *params;
  extra.set("depth", std::int64_t{3});
  EXPECT_EQ(check_params(hbm, extra).error().message, "param depth is not a param of pattern hbm");
  ParamSet out_of_range = *params;
  out_of_range.set("fraction", 1.5);
  EXPECT_EQ(check_params(hbm, out_of_range).error().message, "param fraction: 1.5 is out of range [0.01, 1]");
  EXPECT_FALSE(params_from_text(hbm, {{"fraction", "most"}}));
}

TEST(ParamWire, EveryTypeRoundTripsAndAnEmptyValueIsAnError) {
  ParamSet params;
  params.set("c", ChoiceValue{"bf16"});
  params.set("i", std::int64_t{-3});
  params.set("n", 0.25);
  params.set("b", true);
  params.set("s", SizeBytes{1 << 20});
  params.set("d", DurationSeconds{90});
  params.set("sl", std::vector<std::uint64_t>{1, 2});
  params.set("nl", std::vector<double>{700, 750.5});
  kiln::v1::StepSpec spec;
  write_params(params, *spec.mutable_params());
  auto back = read_params(spec.params());
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(back->all(), params.all());
  EXPECT_EQ(back->texts().at("sl"), "1,2");

  (*spec.mutable_params())["x"] = kiln::v1::ParamValue{};
  EXPECT_EQ(read_params(spec.params()).error().message, "param x: the value has no type");
}

// An empty list is still a list on the wire, so the agent reads what was
// sent and check_params says what is wrong with it (found by the
// envelope_dispatch fuzz target: it went out as a value without a type).
TEST(ParamWire, AnEmptyListKeepsItsType) {
  ParamSet params;
  params.set("sl", std::vector<std::uint64_t>{});
  params.set("nl", std::vector<double>{});
  kiln::v1::StepSpec spec;
  write_params(params, *spec.mutable_params());
  EXPECT_TRUE(spec.params().at("sl").has_size_list());
  EXPECT_TRUE(spec.params().at("nl").has_number_list());
  auto back = read_params(spec.params());
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(back->all(), params.all());
}

}  // namespace
}  // namespace kiln::plan
