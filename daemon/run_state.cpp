#include "daemon/run_state.hpp"

#include <algorithm>

namespace kiln::daemon {

void WriteFailure::record(std::string what) {
  std::lock_guard lock(mutex_);
  if (!first_) first_ = std::move(what);
}

std::optional<std::string> WriteFailure::first() const {
  std::lock_guard lock(mutex_);
  return first_;
}

std::vector<const plan::FlatStep*> phase_steps(const Run& run, std::size_t phase_pos) {
  std::vector<const plan::FlatStep*> steps;
  for (const auto& s : run.steps) {
    if (s.phase_index == run.phases[phase_pos]) steps.push_back(&s);
  }
  return steps;
}

double phase_length(const Run& run, std::size_t phase_pos) {
  double length = 0;
  for (const auto* s : phase_steps(run, phase_pos)) length = std::max(length, s->step->duration.count());
  return length;
}

void index_phases(Run& run) {
  run.phases.clear();
  for (const auto& s : run.steps) {
    if (run.phases.empty() || run.phases.back() != s.phase_index) run.phases.push_back(s.phase_index);
  }
  run.total_s = 0;
  for (std::size_t i = 0; i < run.phases.size(); ++i) run.total_s += phase_length(run, i);
}

const plan::FlatStep* find_step(const Run& run, std::uint32_t step_index) {
  for (const auto& s : run.steps) {
    if (s.step_index == step_index) return &s;
  }
  return nullptr;
}

const RunChip* find_chip(const Run& run, const std::string& serial) {
  for (const auto& c : run.chips) {
    if (c.serial == serial) return &c;
  }
  return nullptr;
}

bool has_rack(const Run& run, const std::string& rack) {
  return std::find(run.racks.begin(), run.racks.end(), rack) != run.racks.end();
}

}  // namespace kiln::daemon
