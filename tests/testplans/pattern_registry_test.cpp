#include "testplans/pattern_registry.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <stdexcept>

#include "testplans/param_text.hpp"

namespace kiln::plan {
namespace {

class BuiltinPatterns : public ::testing::Test {
 protected:
  BuiltinPatterns() { register_builtin_patterns(registry_); }
  PatternRegistry registry_;
};

TEST_F(BuiltinPatterns, AreTheSixOfDesignSection4InOrder) {
  EXPECT_EQ(registry_.names(), (std::vector<std::string>{"gemm", "hbm", "collective", "power", "shmoo", "idle"}));
  EXPECT_EQ(registry_.find("gem"), nullptr);
}

TEST_F(BuiltinPatterns, GemmDeclaresItsParamsWithDefaults) {
  const PatternSpec* gemm = registry_.find("gemm");
  ASSERT_NE(gemm, nullptr);
  const ParamSpec* dtype = gemm->find_param("dtype");
  ASSERT_NE(dtype, nullptr);
  EXPECT_EQ(dtype->type, ParamType::choice);
  EXPECT_EQ(dtype->choices, (std::vector<std::string>{"fp32", "bf16", "fp16", "fp8"}));
  EXPECT_EQ(dtype->default_text, "bf16");
  for (const char* dim : {"m", "n", "k"}) {
    const ParamSpec* p = gemm->find_param(dim);
    ASSERT_NE(p, nullptr) << dim;
    EXPECT_EQ(p->type, ParamType::integer);
    EXPECT_EQ(p->default_text, "8192");
    EXPECT_EQ(p->min, 1);
    EXPECT_EQ(p->max, 65536);
  }
  EXPECT_EQ(gemm->find_param("verify")->default_text, "abft");
  EXPECT_EQ(gemm->find_param("verify")->choices,
            (std::vector<std::string>{"abft", "golden", "vote", "abft+golden", "none"}));
  EXPECT_EQ(gemm->find_param("data")->choices, (std::vector<std::string>{"random", "ones", "max_toggle"}));
  EXPECT_EQ(gemm->find_param("mm"), nullptr);
}

TEST_F(BuiltinPatterns, OtherPatternsDefaults) {
  EXPECT_EQ(registry_.find("hbm")->find_param("test")->default_text, "moving_inversions");
  EXPECT_EQ(registry_.find("hbm")->find_param("fraction")->default_text, "0.9");
  EXPECT_EQ(registry_.find("collective")->find_param("op")->default_text, "allreduce");
  EXPECT_EQ(registry_.find("collective")->find_param("sizes")->type, ParamType::size_list);
  EXPECT_EQ(registry_.find("collective")->find_param("sizes")->default_text, "1048576,67108864,1073741824");
  EXPECT_EQ(registry_.find("collective")->find_param("check")->default_text, "true");
  EXPECT_EQ(registry_.find("power")->find_param("target_w")->default_text, "0");
  EXPECT_EQ(registry_.find("power")->find_param("pulse_hz")->max, 1000);
  EXPECT_EQ(registry_.find("shmoo")->find_param("voltage_mv")->type, ParamType::number_list);
  EXPECT_NE(registry_.find("shmoo")->find_param("k"), nullptr);
  EXPECT_TRUE(registry_.find("idle")->params.empty());
}

// A default that its own spec would reject would be recorded with every run
// that leaves the param out; catch it here rather than in a report.
TEST_F(BuiltinPatterns, EveryDefaultIsValidForItsOwnSpecAndEverythingHasHelp) {
  for (const auto& name : registry_.names()) {
    const PatternSpec& pattern = *registry_.find(name);
    EXPECT_FALSE(pattern.help.empty()) << name;
    for (const auto& p : pattern.params) {
      SCOPED_TRACE(name + "." + p.name);
      EXPECT_FALSE(p.help.empty());
      const bool ranged = p.min < p.max;
      auto in_range = [&](double v) { return !ranged || (v >= p.min && v <= p.max); };
      switch (p.type) {
        case ParamType::choice:
          EXPECT_NE(std::find(p.choices.begin(), p.choices.end(), p.default_text), p.choices.end());
          break;
        case ParamType::integer: {
          const auto v = parse_integer_text(p.default_text);
          ASSERT_TRUE(v);
          EXPECT_TRUE(in_range(static_cast<double>(*v)));
          EXPECT_TRUE(ranged);
          break;
        }
        case ParamType::number:
        case ParamType::duration: {
          const auto v = parse_number_text(p.default_text);
          ASSERT_TRUE(v);
          EXPECT_TRUE(in_range(*v));
          EXPECT_EQ(format_number(*v), p.default_text);  // canonical
          break;
        }
        case ParamType::boolean: EXPECT_TRUE(parse_bool_text(p.default_text)); break;
        case ParamType::size: {
          const auto v = parse_size_text(p.default_text);
          ASSERT_TRUE(v);
          EXPECT_TRUE(in_range(static_cast<double>(*v)));
          break;
        }
        case ParamType::size_list: {
          const auto v = parse_size_list_text(p.default_text);
          ASSERT_TRUE(v);
          for (const auto s : *v) EXPECT_TRUE(in_range(static_cast<double>(s)));
          break;
        }
        case ParamType::number_list: {
          const auto v = parse_number_list_text(p.default_text);
          ASSERT_TRUE(v);
          for (const auto n : *v) EXPECT_TRUE(in_range(n));
          break;
        }
      }
    }
  }
}

TEST_F(BuiltinPatterns, MetricsArePerPatternPlusCommon) {
  const PatternSpec& gemm = *registry_.find("gemm");
  const PatternSpec& hbm = *registry_.find("hbm");
  const PatternSpec& collective = *registry_.find("collective");
  EXPECT_TRUE(registry_.is_known_metric(gemm, "tflops"));
  EXPECT_TRUE(registry_.is_known_metric(gemm, "sdc_errors"));
  EXPECT_TRUE(registry_.is_known_metric(gemm, "temperature_c"));      // common
  EXPECT_TRUE(registry_.is_known_metric(gemm, "throttle_fraction"));  // common, derived
  EXPECT_FALSE(registry_.is_known_metric(gemm, "hbm_gbps"));          // hbm's
  EXPECT_FALSE(registry_.is_known_metric(gemm, "tflop"));
  EXPECT_TRUE(registry_.is_known_metric(hbm, "hbm_gbps"));
  EXPECT_TRUE(registry_.is_known_metric(hbm, "memory_errors"));
  EXPECT_TRUE(registry_.is_known_metric(collective, "busbw_gbps"));
  EXPECT_TRUE(registry_.is_known_metric(collective, "algbw_gbps"));
  EXPECT_TRUE(registry_.is_known_metric(collective, "link_gbps"));
  EXPECT_TRUE(registry_.is_known_metric(*registry_.find("shmoo"), "shmoo_failures"));
  EXPECT_FALSE(registry_.is_known_metric(gemm, "shmoo_failures"));
  EXPECT_TRUE(registry_.is_known_metric(*registry_.find("idle"), "power_w"));

  const auto& common = PatternRegistry::common_metrics();
  for (const char* m : {"temperature_c", "hbm_temperature_c", "power_w", "clock_mhz", "voltage_mv", "utilization",
                        "throttled", "throttle_fraction", "hbm_ce", "hbm_ue", "link_crc_errors", "link_down"}) {
    EXPECT_NE(std::find(common.begin(), common.end(), m), common.end()) << m;
  }
}

TEST(PatternRegistry, RegisteringANameTwiceIsAProgrammingError) {
  PatternRegistry registry;
  PatternSpec spec;
  spec.name = "custom";
  registry.add(spec);
  EXPECT_THROW(registry.add(spec), std::logic_error);
  EXPECT_EQ(registry.names().size(), 1u);
}

}  // namespace
}  // namespace kiln::plan
