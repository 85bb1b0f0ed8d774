#include "bench/ingest/synthetic_agent.hpp"

#include <cmath>
#include <random>
#include <vector>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "agents/registration.hpp"
#include "agents/telemetry_chunker.hpp"
#include "core/clock.hpp"

namespace kiln::bench {
namespace {

std::uint64_t epoch_now() {
  static std::atomic<std::uint64_t> last{0};
  std::uint64_t now = static_cast<std::uint64_t>(unix_ms_now());
  std::uint64_t seen = last.load();
  while (!last.compare_exchange_weak(seen, std::max(now, seen + 1))) {
  }
  return std::max(now, seen + 1);
}

kiln::v1::RegisterRack registration(const SyntheticRack& rack, std::uint64_t epoch) {
  kiln::v1::RegisterRack reg;
  reg.set_rack(rack.rack);
  reg.set_lab("ingest-bench");
  reg.set_backend("sim");
  reg.set_topology("ring");
  reg.set_epoch(epoch);
  reg.set_epoch_key(agent::random_epoch_key());
  reg.set_time_scale(1);
  for (int i = 0; i < rack.chips; ++i) {
    auto* chip = reg.add_chips();
    chip->set_serial(fmt::format("{}-{:03}", rack.rack, i));
    chip->set_slot(static_cast<std::uint32_t>(i));
    chip->set_sku("trn2-sim");
  }
  return reg;
}

// One chip's made-up physics, tick by tick.
struct ChipShape {
  double temp = 30, hbm_temp = 30, ce = 0, crc = 0;
};

constexpr const char* kMetrics[] = {
    "temperature_c", "hbm_temperature_c", "power_w",  "clock_mhz",     "voltage_mv", "utilization",      "tflops",
    "hbm_gbps",      "throttled",         "hbm_ce",   "hbm_ue",        "link0_gbps", "link0_crc_errors", "link0_up",
    "link1_gbps",    "link1_crc_errors",  "link1_up", "memory_errors", "sdc_errors"};
constexpr std::size_t kMetricCount = std::size(kMetrics);

// Gaussian noise cheap enough not to be what the benchmark measures: draws
// from a table of 4,096 standard normal values (made once by
// std::normal_distribution), picked 12 bits at a time of a splitmix64
// stream. The shapes it gives compress as the real draws do; what is timed
// is then the agents' encoding and sending, not a random number generator
// (a chip's sensors cost an agent nothing like a log() per value).
class Noise {
 public:
  explicit Noise(std::uint64_t seed) : state_(seed) {
    static const std::vector<double> table = [] {
      std::mt19937_64 random(12345);
      std::normal_distribution<double> unit(0, 1);
      std::vector<double> out(kTable);
      for (double& v : out) v = unit(random);
      return out;
    }();
    table_ = table.data();
  }
  double unit() {
    if (bits_left_ < 12) {
      bits_ = next();
      bits_left_ = 64;
    }
    const double v = table_[bits_ & (kTable - 1)];
    bits_ >>= 12;
    bits_left_ -= 12;
    return v;
  }
  // True once in `n` draws, on average.
  bool one_in(std::uint64_t n) { return next() % n == 0; }

 private:
  static constexpr std::size_t kTable = 4096;
  std::uint64_t next() {
    std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  std::uint64_t state_;
  std::uint64_t bits_ = 0;
  int bits_left_ = 0;
  const double* table_ = nullptr;
};

// The tick's 19 values, in kMetrics order.
void tick(ChipShape& c, Noise& noise, double* out) {
  c.temp += (82 - c.temp) * 0.004 + 0.02 * noise.unit();
  c.hbm_temp += (70 - c.hbm_temp) * 0.003 + 0.01 * noise.unit();
  const bool throttled = c.temp > 81.5;
  c.ce += noise.one_in(500) ? 1 : 0;
  c.crc += noise.one_in(5000) ? 1 : 0;
  const double values[kMetricCount] = {c.temp,
                                       c.hbm_temp,
                                       (throttled ? 620 : 680) + 8 * noise.unit(),
                                       throttled ? 2100.0 : 2400.0,
                                       850,
                                       0.97 + 0.005 * noise.unit(),
                                       610 + 3 * noise.unit(),
                                       2800 + 25 * noise.unit(),
                                       throttled ? 1.0 : 0.0,
                                       c.ce,
                                       0,
                                       90 + 2 * noise.unit(),
                                       c.crc,
                                       1,
                                       90 + 2 * noise.unit(),
                                       0,
                                       1,
                                       0,
                                       0};
  std::copy(std::begin(values), std::end(values), out);
}

}  // namespace

SyntheticAgent::SyntheticAgent(SyntheticRack rack)
    : config_(std::move(rack)),
      outbox_(config_.rack, epoch_now(), agent::OutboxLimits{config_.outbox_memory_bytes, 32}) {
  agent::LinkConfig link;
  link.port = config_.port;
  link.rack = config_.rack;
  link.credential = config_.credential;
  link.tls = config_.tls;
  link.flush_interval = std::chrono::milliseconds(20);
  // The old encoding goes out as Sample messages, as agents sent them before chunks.
  link.send_chunks = config_.encoding == Encoding::chunks;
  link_ = std::make_unique<agent::DaemonLink>(link, registration(config_, outbox_.epoch()), outbox_, *this);
}

SyntheticAgent::~SyntheticAgent() { stop(); }

void SyntheticAgent::start() { link_->start(); }

void SyntheticAgent::stop() {
  outbox_.close();
  if (worker_.joinable()) {
    worker_.request_stop();
    worker_.join();
  }
  link_->stop();
}

void SyntheticAgent::on_fatal(const std::string& reason) { spdlog::error("{}: refused: {}", config_.rack, reason); }

void SyntheticAgent::on_dispatch(const kiln::v1::PhaseDispatch& dispatch) {
  if (started_.exchange(true)) return;  // one phase per benchmark run
  dispatched_at_ = std::chrono::steady_clock::now();
  worker_ = std::jthread([this, dispatch](std::stop_token stop) { generate(dispatch, stop); });
}

void SyntheticAgent::generate(kiln::v1::PhaseDispatch dispatch, std::stop_token stop) {
  const kiln::v1::StepSpec& step = dispatch.steps(0);
  const double hz = dispatch.sample_hz() > 0 ? dispatch.sample_hz() : 10;
  const auto ticks = static_cast<std::int64_t>(std::llround(step.duration_s() * hz));
  const std::size_t chips = static_cast<std::size_t>(dispatch.serials_size());
  Noise noise(std::hash<std::string>{}(config_.rack));
  std::vector<ChipShape> shapes(chips);
  std::vector<agent::TelemetryChunker> chunkers;
  std::vector<std::vector<std::uint32_t>> slots(chips);
  for (std::size_t c = 0; c < chips; ++c) {
    chunkers.emplace_back(dispatch.serials(static_cast<int>(c)), dispatch.run_id(), step.step_index());
    for (const char* name : kMetrics) slots[c].push_back(chunkers[c].metric(name));
  }
  const std::int64_t wall0 = unix_ms_now();
  double values[kMetricCount];
  // Chips advance together in slices of ticks, as a rack's runner threads do.
  constexpr std::int64_t kSlice = 100;
  for (std::int64_t first = 0; first < ticks && !stop.stop_requested(); first += kSlice) {
    outbox_.wait_for_room(stop);
    for (std::size_t c = 0; c < chips; ++c) {
      for (std::int64_t i = first; i < std::min(ticks, first + kSlice); ++i) {
        const double t_s = static_cast<double>(i + 1) / hz;
        const std::int64_t wall = wall0 + static_cast<std::int64_t>(i * 1000 / hz / 60) + (i % 3);
        tick(shapes[c], noise, values);
        if (config_.encoding == Encoding::samples) {
          kiln::v1::Sample sample;
          sample.set_serial(dispatch.serials(static_cast<int>(c)));
          sample.set_run_id(dispatch.run_id());
          sample.set_step_index(step.step_index());
          sample.set_t_s(t_s);
          sample.set_wall_unix_ms(wall);
          for (std::size_t m = 0; m < kMetricCount; ++m) {
            auto* v = sample.add_values();
            v->set_name(kMetrics[m]);
            v->set_value(values[m]);
          }
          outbox_.push_sample(std::move(sample));
        } else {
          for (std::size_t m = 0; m < kMetricCount; ++m) chunkers[c].add(slots[c][m], t_s, wall, values[m]);
          if (chunkers[c].full()) outbox_.push_chunk(chunkers[c].take());
        }
        values_ += kMetricCount;
      }
    }
  }
  for (std::size_t c = 0; c < chips; ++c) {
    if (chunkers[c].values() > 0) outbox_.push_chunk(chunkers[c].take());
    kiln::v1::ChipStepResult result;
    result.set_serial(dispatch.serials(static_cast<int>(c)));
    result.set_run_id(dispatch.run_id());
    result.set_step_index(step.step_index());
    result.set_completed(true);
    result.set_ran_s(step.duration_s());
    outbox_.push_result(std::move(result));
  }
  finished_ = true;
}

}  // namespace kiln::bench
