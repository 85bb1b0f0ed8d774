// Adding a pattern and a metric takes nothing but the registries: the toy
// pattern below is declared once in the testplans PatternRegistry (its name,
// one typed param with default and bounds, its metric), its run loop is one
// agent Pattern registered in a PatternFactory, and its metric is one
// MetricDef in a MetricCatalog. No other file knows it, yet the plan loader
// validates it, an agent runs it, the daemon judges it with the catalog's
// failure class, and the report shows it.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "agents/patterns/pattern_factory.hpp"
#include "metrics/catalog.hpp"
#include "testplans/loader.hpp"
#include "testplans/pattern_registry.hpp"
#include "tests/integration/lab_fixture.hpp"

namespace kiln::testing {
namespace {

using Json = nlohmann::json;

constexpr metrics::MetricName kToyLevel{"toy_level"};

plan::PatternSpec toy_spec() {
  plan::ParamSpec level;
  level.name = "level";
  level.type = plan::ParamType::integer;
  level.default_text = "3";
  level.min = 1;
  level.max = 10;
  level.help = "how high the toy reads";
  plan::PatternSpec spec;
  spec.name = "toy";
  spec.help = "idles the chip and reads its level (plus the chip's slot) every tick";
  spec.params = {level};
  spec.metrics = {kToyLevel.str()};
  return spec;
}

// Idles its share and reads `level` + the chip's slot, so that a limit can
// pass one chip and fail the next.
class ToyPattern final : public agent::Pattern {
 public:
  ToyPattern(agent::PatternEnv& env, const plan::ParamSet& params) : env_(env), level_(params.integer("level")) {}

  std::optional<agent::Skip> init(const device::Telemetry&) override { return std::nullopt; }
  std::optional<agent::Skip> run(Seconds share, Seconds) override {
    env_.chip.idle(share);
    return std::nullopt;
  }
  void observe(const agent::Moment&, Seconds, const device::Telemetry&, agent::MetricValues& values) override {
    values.push_back({kToyLevel.value, static_cast<double>(level_ + env_.chip.identity().slot)});
  }
  void finish(agent::StepEnd& end, kiln::v1::ChipStepResult&) override {
    end.note = agent::join_notes(end.note, "toy at level " + std::to_string(level_));
  }

 private:
  agent::PatternEnv& env_;
  std::int64_t level_;
};

std::shared_ptr<const plan::PatternRegistry> toy_registry() {
  auto registry = std::make_shared<plan::PatternRegistry>();
  plan::register_builtin_patterns(*registry);
  registry->add(toy_spec());
  return registry;
}

std::shared_ptr<const agent::PatternFactory> toy_factory() {
  auto factory = std::make_shared<agent::PatternFactory>();
  agent::register_builtin_agent_patterns(*factory);
  factory->add({"toy",
                [](agent::PatternEnv& env, const plan::ParamSet& params) -> std::unique_ptr<agent::Pattern> {
                  return std::make_unique<ToyPattern>(env, params);
                },
                {}});
  return factory;
}

std::shared_ptr<const metrics::MetricCatalog> toy_catalog() {
  auto catalog = std::make_shared<metrics::MetricCatalog>(metrics::MetricCatalog::builtin());
  metrics::MetricDef def;
  def.name = kToyLevel.str();
  def.label = "Toy level";
  def.kind = metrics::MetricKind::gauge;
  def.origin = metrics::MetricOrigin::pattern;
  def.failure_class = metrics::FailureClass::power;  // what a violated limit on it stands for
  def.precision = 1;
  def.help = "the toy pattern's reading";
  catalog->add(def);
  return catalog;
}

const char* kTwoChipLab = R"(
lab: toy
seed: 3
time_scale: 100
racks:
  - {id: r01, backend: sim, topology: ring, chips: {count: 2, sku: trn2-sim, serial_prefix: "T-"}}
)";

const char* kToyPlan = R"(plan: toy
steps:
  - name: toy-step
    pattern: toy
    duration: 1s
    params: {level: 5}
    limits:
      toy_level: {max: 5}
)";

TEST(ToyPattern, TheLoaderValidatesItsTypedParamWithTheRegistrysBounds) {
  const auto registry = toy_registry();
  const auto ok = plan::load_plan(kToyPlan, "toy.yaml", *registry);
  ASSERT_TRUE(ok.plan);
  const plan::Step& step = ok.plan->phases[0].steps[0];
  EXPECT_EQ(step.values.integer("level"), 5);
  EXPECT_EQ(step.params.at("level"), "5");

  const auto bad = plan::load_plan(
      "plan: toy\nsteps:\n  - {name: t, pattern: toy, duration: 1s, params: {level: 11}}\n", "toy.yaml", *registry);
  EXPECT_FALSE(bad.plan);
  ASSERT_EQ(bad.diagnostics.size(), 1u);
  EXPECT_EQ(bad.diagnostics[0].to_string(), "toy.yaml:3:59: steps[0].params.level: 11 is out of range [1, 10]");

  // Without the registry entry the toy does not exist.
  EXPECT_FALSE(plan::load_plan(kToyPlan, "toy.yaml", plan::PatternRegistry::builtin()).plan);
}

TEST(ToyPattern, AnAgentRunsItAndTheDaemonJudgesItsMetricWithTheCatalogsFailureClass) {
  LabFixture lab(LabExtensions{toy_registry(), toy_factory(), toy_catalog()});
  lab.start(kTwoChipLab);
  lab.wait_for_racks(1);
  const Json report = lab.run_report(kToyPlan);
  ASSERT_EQ(report["chips"].size(), 2u) << report.dump(2);
  for (const auto& chip : report["chips"]) {
    const bool second = chip["slot"] == 1;  // level 5 + slot 1 is over the limit
    const Json& step = chip["steps"][0];
    EXPECT_EQ(step["note"], "toy at level 5") << chip.dump(2);
    EXPECT_DOUBLE_EQ(step["metrics"][kToyLevel.str()]["max"].get<double>(), second ? 6 : 5) << chip.dump(2);
    if (!second) {
      EXPECT_EQ(chip["verdict"], "pass") << chip.dump(2);
      continue;
    }
    EXPECT_EQ(chip["verdict"], "fail") << chip.dump(2);
    ASSERT_GE(chip["failures"].size(), 1u) << chip.dump(2);
    EXPECT_EQ(chip["failures"][0]["class"], "power") << chip.dump(2);
    EXPECT_EQ(chip["failures"][0]["step"], "toy-step") << chip.dump(2);
  }
}

}  // namespace
}  // namespace kiln::testing
