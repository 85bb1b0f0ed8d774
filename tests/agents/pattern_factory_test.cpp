#include "agents/patterns/pattern_factory.hpp"

#include <algorithm>
#include <stdexcept>

#include <gtest/gtest.h>

#include "fake_chip.hpp"
#include "testplans/pattern_registry.hpp"

namespace kiln::agent {
namespace {

TEST(PatternFactoryTest, EveryRegisteredPatternHasOneAgentObjectAndNoOther) {
  EXPECT_EQ(PatternFactory::builtin().names(),
            (std::vector<std::string>{"gemm", "idle", "hbm", "shmoo", "power", "collective"}));
  auto registered = plan::PatternRegistry::builtin().names();
  auto built = PatternFactory::builtin().names();
  std::sort(registered.begin(), registered.end());
  std::sort(built.begin(), built.end());
  EXPECT_EQ(registered, built);
}

TEST(PatternFactoryTest, EveryBuiltinPatternBuildsFromTheRegistrysDefaults) {
  // The patterns read their params typed, by name: a name or type that
  // disagrees with the registry would throw here.
  testing::FakeChip chip("F-00");
  kiln::v1::StepSpec spec;
  const StepContext context;
  ChipRunState state;
  DetectionLog detections;
  MetricSummaries summaries;
  PatternEnv env{chip, spec, context, state, detections, summaries, 1.0, 0.0};
  for (const auto& name : plan::PatternRegistry::builtin().names()) {
    auto params = plan::params_from_text(*plan::PatternRegistry::builtin().find(name), {});
    ASSERT_TRUE(params) << name << ": " << params.error().message;
    const PatternEntry* entry = PatternFactory::builtin().find(name);
    ASSERT_NE(entry, nullptr) << name;
    EXPECT_NE(entry->make(env, *params), nullptr) << name;
    if (entry->needs) (void)entry->needs(*params);
  }
}

TEST(PatternFactoryTest, ANameIsRegisteredOnce) {
  PatternFactory factory;
  register_builtin_agent_patterns(factory);
  EXPECT_THROW(factory.add({"gemm", nullptr, nullptr}), std::logic_error);
}

}  // namespace
}  // namespace kiln::agent
