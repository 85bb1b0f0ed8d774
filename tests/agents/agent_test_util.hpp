#pragma once
// Builders for dispatches and a drain for the outbox, shared by agent tests.

#include <cmath>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "agents/outbox.hpp"
#include "schema/kiln.pb.h"
#include "schema/telemetry_chunk.hpp"
#include "testplans/param_value.hpp"
#include "testplans/param_wire.hpp"
#include "testplans/pattern_registry.hpp"

namespace kiln::agent::testing {

// Params are spelled as canonical text and sent typed as the built-in
// registry declares them, exactly as given (no defaults added, no bounds
// checked): tests play a peer that may send anything. Text that is not of
// the param's type, or a param the registry does not know, goes as a choice.
inline kiln::v1::ParamValue typed_param(const std::string& pattern, const std::string& name, const std::string& text) {
  const auto* declared = plan::PatternRegistry::builtin().find(pattern);
  const auto* spec = declared != nullptr ? declared->find_param(name) : nullptr;
  const auto value = spec != nullptr ? plan::parse_param_text(*spec, text) : std::nullopt;
  return plan::to_proto(value ? *value : plan::ParamValue(plan::ChoiceValue{text}));
}

inline kiln::v1::StepSpec step(std::uint32_t index, const std::string& pattern, double duration_s,
                               const std::map<std::string, std::string>& params = {}) {
  kiln::v1::StepSpec s;
  s.set_step_index(index);
  s.set_name(pattern + "-" + std::to_string(index));
  s.set_pattern(pattern);
  s.set_duration_s(duration_s);
  for (const auto& [k, v] : params) (*s.mutable_params())[k] = typed_param(pattern, k, v);
  return s;
}

inline std::map<std::string, std::string> gemm_params(const std::string& verify = "abft",
                                                      const std::string& dtype = "bf16") {
  return {{"dtype", dtype}, {"m", "4096"}, {"n", "4096"}, {"k", "4096"}, {"verify", verify}, {"data", "random"}};
}

inline kiln::v1::PhaseDispatch phase(std::uint64_t run_id, const std::vector<kiln::v1::StepSpec>& steps,
                                     const std::vector<std::string>& serials, double sample_hz = 10,
                                     std::uint32_t phase_index = 0) {
  kiln::v1::PhaseDispatch d;
  d.set_run_id(run_id);
  d.set_phase_index(phase_index);
  d.set_seed(1000 + run_id);
  d.set_sample_hz(sample_hz);
  for (const auto& s : steps) *d.add_steps() = s;
  for (const auto& s : serials) d.add_serials(s);
  return d;
}

struct Drained {
  std::vector<kiln::v1::Sample> samples;
  std::vector<kiln::v1::ChipStepResult> results;

  const kiln::v1::ChipStepResult* result(std::uint32_t step_index, const std::string& serial = {}) const {
    for (const auto& r : results) {
      if (r.step_index() == step_index && (serial.empty() || r.serial() == serial)) return &r;
    }
    return nullptr;
  }
  std::vector<kiln::v1::Sample> samples_of(std::uint32_t step_index) const {
    std::vector<kiln::v1::Sample> out;
    for (const auto& s : samples) {
      if (s.step_index() == step_index) out.push_back(s);
    }
    return out;
  }
};

// A chunk's values as the samples they were: one per point time, its values
// in the order of the chunk's metrics (values at their stored precision).
inline std::vector<kiln::v1::Sample> samples_of_chunk(const kiln::v1::TelemetryChunk& chunk) {
  auto series = store::chunk::decode(chunk.data());
  if (!series) throw std::runtime_error("undecodable chunk: " + series.error().message);
  std::map<std::int64_t, kiln::v1::Sample> by_t;
  for (const auto& s : *series) {
    for (const auto& p : s.points) {
      kiln::v1::Sample& sample = by_t[p.t_us];
      sample.set_serial(chunk.serial());
      sample.set_run_id(chunk.run_id());
      sample.set_step_index(chunk.step_index());
      sample.set_t_s(static_cast<double>(p.t_us) / 1e6);
      sample.set_wall_unix_ms(p.wall_unix_ms);
      auto* v = sample.add_values();
      v->set_name(chunk.metrics(static_cast<int>(s.metric_id)));
      v->set_value(p.value);
    }
  }
  std::vector<kiln::v1::Sample> out;
  for (auto& [t, sample] : by_t) out.push_back(std::move(sample));
  return out;
}

inline Drained drain(Outbox& outbox) {
  Drained d;
  while (auto batch = outbox.take_batch()) {
    for (const auto& s : batch->samples()) d.samples.push_back(s);
    for (const auto& c : batch->chunks()) {
      for (auto& s : samples_of_chunk(c)) d.samples.push_back(std::move(s));
    }
    for (const auto& r : batch->results()) d.results.push_back(r);
    (void)outbox.ack(batch->epoch(), batch->seq());
  }
  return d;
}

inline std::optional<double> value_of(const kiln::v1::Sample& sample, const std::string& name) {
  for (const auto& v : sample.values()) {
    if (v.name() == name) return v.value();
  }
  return std::nullopt;
}

}  // namespace kiln::agent::testing
