// The hbm, shmoo and power patterns on scripted chips, and their helpers
// (ShmooSweep, PowerControl) on their own.
#include <gtest/gtest.h>

#include "agent_test_util.hpp"
#include "agents/chip_phase.hpp"
#include "agents/power_control.hpp"
#include "agents/shmoo_sweep.hpp"
#include "fake_chip.hpp"

namespace kiln::agent {
namespace {

using testing::drain;
using testing::FakeChip;
using testing::phase;
using testing::step;
using testing::value_of;

// A FakeChip that also runs memory patterns and takes operating points: a
// point above `fmax_mhz` corrupts every tile, one above `max_voltage_mv` is
// refused.
class ScriptedChip final : public device::Chip {
 public:
  explicit ScriptedChip(std::string serial) : inner_(std::move(serial)) {}

  const device::ChipIdentity& identity() const override { return inner_.identity(); }
  const device::Sku& sku() const override { return inner_.sku(); }
  void start_run(std::uint64_t seed) override { inner_.start_run(seed); }
  Seconds now() const override { return inner_.now(); }
  device::GemmSlice run_gemm(const device::GemmWork& w, Seconds dt) override { return inner_.run_gemm(w, dt); }
  void idle(Seconds dt) override { inner_.idle(dt); }
  device::Telemetry telemetry() const override { return inner_.telemetry(); }
  bool hung() const override { return inner_.hung(); }

  Result<device::MemorySlice> run_memory(const device::MemoryWork& work, Seconds dt) override {
    ++memory_calls;
    last_memory = work;
    inner_.idle(dt);
    device::MemorySlice s;
    s.elapsed = dt;
    s.bytes = 800e9 * dt.count();
    s.gbps = 800;
    s.mismatches = mismatches;
    s.mismatch_count = mismatches.size();
    return s;
  }
  Status set_operating_point(double voltage_mv, double clock_mhz) override {
    if (voltage_mv > max_voltage_mv) return make_error(ErrorCode::invalid_argument, "voltage {} too high", voltage_mv);
    ++points_set;
    at_stock = false;
    inner_.flips.clear();
    if (clock_mhz > fmax_mhz) inner_.flips.push_back({0, 3, 5, 20});
    return {};
  }
  void clear_operating_point() override {
    at_stock = true;
    inner_.flips.clear();
  }

  FakeChip inner_;
  std::vector<device::MemoryMismatch> mismatches;
  std::optional<device::MemoryWork> last_memory;
  int memory_calls = 0;
  double fmax_mhz = 1e9;
  double max_voltage_mv = 1e9;
  int points_set = 0;
  bool at_stock = true;
};

ChipPhaseOptions unpaced() {
  ChipPhaseOptions o;
  o.time_scale = 0;
  return o;
}

testing::Drained run(device::Chip& chip, const kiln::v1::PhaseDispatch& d) {
  ChipRunState state;
  Outbox outbox{"r-test", 1};
  run_chip_phase(chip, d, state, unpaced(), outbox, std::stop_token{});
  return drain(outbox);
}

TEST(HbmPatternTest, ChipWithoutMemoryPatternsIsUnsupportedNotPassed) {
  FakeChip chip("F-00");
  const auto out = run(chip, phase(1, {step(0, "hbm", 1.0, {{"test", "bandwidth"}, {"fraction", "0.9"}})}, {"F-00"}));
  ASSERT_EQ(out.results.size(), 1u);
  EXPECT_FALSE(out.results[0].completed());
  EXPECT_TRUE(out.results[0].unsupported());
  EXPECT_EQ(out.results[0].note(), "memory patterns are not supported by this chip");
}

TEST(HbmPatternTest, MismatchesBecomeOneDetectionPerStackChannelBit) {
  ScriptedChip chip("S-00");
  chip.mismatches = {{1, 7, 33, 0x100, false}, {1, 7, 33, 0x900, false}, {0, 2, 5, 0x40, true}};
  const auto out =
      run(chip, phase(1, {step(0, "hbm", 1.0, {{"test", "walking_ones"}, {"fraction", "0.5"}})}, {"S-00"}));
  ASSERT_EQ(out.results.size(), 1u);
  const auto& r = out.results[0];
  EXPECT_TRUE(r.completed()) << r.note();
  ASSERT_TRUE(chip.last_memory.has_value());
  EXPECT_EQ(chip.last_memory->pattern, device::MemoryPattern::walking_ones);
  EXPECT_DOUBLE_EQ(chip.last_memory->fraction, 0.5);
  EXPECT_EQ(chip.memory_calls, 10);

  ASSERT_EQ(r.detections_size(), 2);
  for (const auto& d : r.detections()) {
    EXPECT_EQ(d.cls(), kiln::v1::FAILURE_MEMORY_PATTERN);
    EXPECT_EQ(d.metric(), "memory_errors");
  }
  // Distinct locations in key order; counts are addresses over 10 slices.
  const auto& a = r.detections(0).location().at("stack") == 1 ? r.detections(0) : r.detections(1);
  EXPECT_EQ(a.location().at("channel"), 7);
  EXPECT_EQ(a.location().at("bit"), 33);
  EXPECT_EQ(a.count(), 20u);
  // Cumulative: the summary starts at the run's count when the step began.
  EXPECT_DOUBLE_EQ(r.metrics().at("memory_errors").min(), 0);
  EXPECT_DOUBLE_EQ(r.metrics().at("memory_errors").max(), 30);
  // The step's own bandwidth replaces the chip's reading.
  EXPECT_NEAR(r.metrics().at("hbm_gbps").avg(), 800, 1e-6);
  for (const auto& s : out.samples) EXPECT_TRUE(value_of(s, "hbm_gbps").has_value());
}

TEST(HbmPatternTest, HealthyMemoryHasNoDetections) {
  ScriptedChip chip("S-00");
  const auto out = run(chip, phase(1, {step(0, "hbm", 0.5, {{"test", "random"}, {"fraction", "0.9"}})}, {"S-00"}));
  ASSERT_EQ(out.results.size(), 1u);
  EXPECT_TRUE(out.results[0].completed());
  EXPECT_EQ(out.results[0].detections_size(), 0);
  EXPECT_DOUBLE_EQ(out.results[0].metrics().at("memory_errors").max(), 0);
}

// One string per voltage: '.' pass, 'X' fail, '-' refused, '?' not run.
std::vector<std::string> shmoo_rows(const kiln::v1::ShmooResult& map) {
  std::vector<std::string> rows;
  const auto clocks = static_cast<std::size_t>(map.clocks_mhz_size());
  for (std::size_t i = 0; i < static_cast<std::size_t>(map.outcomes_size()); ++i) {
    if (i % clocks == 0) rows.emplace_back();
    const auto o = map.outcomes(static_cast<int>(i));
    rows.back() += o == kiln::v1::SHMOO_PASS      ? '.'
                   : o == kiln::v1::SHMOO_FAIL    ? 'X'
                   : o == kiln::v1::SHMOO_REFUSED ? '-'
                                                  : '?';
  }
  return rows;
}

std::map<std::string, std::string> shmoo_params(const std::string& volts, const std::string& clocks) {
  return {{"voltage_mv", volts}, {"clock_mhz", clocks}, {"dtype", "bf16"}, {"m", "512"}, {"n", "512"}, {"k", "512"}};
}

TEST(ShmooPatternTest, FailingPointsAreMarginDetectionsAndRefusedPointsAreSkipped) {
  ScriptedChip chip("S-00");
  chip.fmax_mhz = 1500;
  chip.max_voltage_mv = 850;
  // 3 × 3 points of 0.2 s each.
  const auto out =
      run(chip, phase(1, {step(0, "shmoo", 1.8, shmoo_params("700,800,900", "1000,1400,1800"))}, {"S-00"}));
  ASSERT_EQ(out.results.size(), 1u);
  const auto& r = out.results[0];
  EXPECT_TRUE(r.completed()) << r.note();
  EXPECT_EQ(chip.points_set, 6);
  EXPECT_TRUE(chip.at_stock);
  // 1800 MHz fails at 700 and 800 mV; 900 mV is refused, not failed.
  ASSERT_EQ(r.detections_size(), 2);
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(r.detections(i).cls(), kiln::v1::FAILURE_MARGIN);
    EXPECT_EQ(r.detections(i).metric(), "shmoo_failures");
    EXPECT_EQ(r.detections(i).location().at("clock_mhz"), 1800);
  }
  EXPECT_EQ(r.detections(0).location().at("voltage_mv"), 700);
  EXPECT_EQ(r.detections(1).location().at("voltage_mv"), 800);
  EXPECT_DOUBLE_EQ(r.metrics().at("shmoo_failures").max(), 2);
  EXPECT_EQ(r.metrics().count("sdc_errors"), 0u);
  // The map travels typed: voltages are its rows, clocks its columns.
  EXPECT_EQ(std::vector<double>(r.shmoo().voltages_mv().begin(), r.shmoo().voltages_mv().end()),
            (std::vector<double>{700, 800, 900}));
  EXPECT_EQ(std::vector<double>(r.shmoo().clocks_mhz().begin(), r.shmoo().clocks_mhz().end()),
            (std::vector<double>{1000, 1400, 1800}));
  EXPECT_EQ(shmoo_rows(r.shmoo()), (std::vector<std::string>{"..X", "..X", "---"}));
  EXPECT_NE(r.note().find("3 point(s) refused"), std::string::npos) << r.note();
}

TEST(ShmooPatternTest, EveryPointRefusedIsNotAPass) {
  ScriptedChip chip("S-00");
  chip.max_voltage_mv = 100;
  const auto out = run(chip, phase(1, {step(0, "shmoo", 0.4, shmoo_params("700,800", "1000"))}, {"S-00"}));
  ASSERT_EQ(out.results.size(), 1u);
  EXPECT_FALSE(out.results[0].completed());
  EXPECT_EQ(out.results[0].detections_size(), 0);
}

TEST(ShmooPatternTest, ChipWithoutOperatingPointsIsUnsupported) {
  FakeChip chip("F-00");
  const auto out = run(chip, phase(1, {step(0, "shmoo", 0.4, shmoo_params("700", "1000"))}, {"F-00"}));
  ASSERT_EQ(out.results.size(), 1u);
  EXPECT_FALSE(out.results[0].completed());
  EXPECT_TRUE(out.results[0].unsupported());
}

TEST(ShmooSweepTest, SplitsTheDurationEvenlyRowByRow) {
  ShmooSweep sweep({700, 800}, {1000, 2000, 3000}, 6.0);
  ASSERT_EQ(sweep.size(), 6u);
  EXPECT_EQ(sweep.point_at(0), 0u);
  EXPECT_EQ(sweep.point_at(0.99), 0u);
  EXPECT_EQ(sweep.point_at(1.0), 1u);
  EXPECT_EQ(sweep.point_at(3.5), 3u);
  EXPECT_EQ(sweep.point_at(99), 5u);
  EXPECT_DOUBLE_EQ(sweep.voltage_mv(3), 800);
  EXPECT_DOUBLE_EQ(sweep.clock_mhz(3), 1000);
  EXPECT_NEAR(sweep.to_next_point(2.25), 0.75, 1e-12);
  EXPECT_TRUE(std::isinf(sweep.to_next_point(5.5)));
  sweep.mark(0, PointOutcome::fail);
  sweep.mark(0, PointOutcome::pass);  // a failed point stays failed
  sweep.mark(1, PointOutcome::pass);
  sweep.mark(5, PointOutcome::refused);
  EXPECT_EQ(sweep.failures(), 1u);
  EXPECT_EQ(sweep.refused(), 1u);
  EXPECT_EQ(sweep.map_text(),
            "mV\\MHz 1000 2000 3000 | 700 X.? | 800 ?"
            "?-");
}

TEST(PowerControlTest, SquareWaveHighFraction) {
  const PowerControl steady(400, 0, 100);
  EXPECT_DOUBLE_EQ(steady.high_fraction(3.7, 0.1), 1);
  const PowerControl pulsed(400, 1, 100);  // high in [0, 0.5), low in [0.5, 1)
  EXPECT_DOUBLE_EQ(pulsed.high_fraction(0.1, 0.1), 1);
  EXPECT_DOUBLE_EQ(pulsed.high_fraction(0.6, 0.1), 0);
  EXPECT_NEAR(pulsed.high_fraction(0.45, 0.1), 0.5, 1e-9);
  const PowerControl fast(400, 100, 100);  // many periods per tick: the average
  EXPECT_NEAR(fast.high_fraction(0.0, 0.1), 0.5, 1e-9);
}

TEST(PowerControlTest, LoadedTicksMixTheTwoLevelsIntoTheTarget) {
  // A chip drawing 600 W loaded and 100 W idle: 300 W is 40% loaded ticks.
  PowerControl control(300, 0, 100);
  double t = 0;
  double sum = 0;
  const int ticks = 200;
  for (int i = 0; i < ticks; ++i, t += 0.1) {
    const bool loaded = control.next_tick_loaded(t, 0.1);
    const double power = loaded ? 600 : 100;
    control.update(loaded, power);
    sum += power;
  }
  EXPECT_NEAR(control.duty(), 0.4, 1e-9);
  EXPECT_NEAR(sum / ticks, 300, 5);  // the first tick is loaded while the level is unknown
}

TEST(PowerControlTest, PulsedTargetIdlesInTheLowHalf) {
  PowerControl control(600, 1, 100);  // 600 W is full load on this chip
  int loaded_high = 0, loaded_low = 0;
  double t = 0;
  for (int i = 0; i < 100; ++i, t += 0.1) {
    const bool loaded = control.next_tick_loaded(t, 0.1);
    control.update(loaded, loaded ? 600 : 100);
    const bool high = std::fmod(t + 1e-9, 1.0) < 0.5;
    (high ? loaded_high : loaded_low) += loaded ? 1 : 0;
  }
  EXPECT_EQ(loaded_low, 0);
  EXPECT_GE(loaded_high, 49);
}

}  // namespace
}  // namespace kiln::agent
