#include "agents/patterns/pattern_factory.hpp"

#include <stdexcept>

#include "agents/patterns/builtin_patterns.hpp"
#include "testplans/builtin_pattern_names.hpp"

namespace kiln::agent {

const PatternFactory& PatternFactory::builtin() {
  static const PatternFactory factory = [] {
    PatternFactory f;
    register_builtin_agent_patterns(f);
    return f;
  }();
  return factory;
}

void PatternFactory::add(PatternEntry entry) {
  if (find(entry.name) != nullptr) throw std::logic_error("agent pattern registered twice: " + entry.name);
  entries_.push_back(std::move(entry));
}

const PatternEntry* PatternFactory::find(std::string_view name) const {
  for (const auto& e : entries_) {
    if (e.name == name) return &e;
  }
  return nullptr;
}

std::vector<std::string> PatternFactory::names() const {
  std::vector<std::string> out;
  for (const auto& e : entries_) out.push_back(e.name);
  return out;
}

void register_builtin_agent_patterns(PatternFactory& factory) {
  namespace names = plan::pattern_names;
  factory.add({std::string(names::kGemm), make_gemm_pattern, gemm_needs});
  factory.add({std::string(names::kIdle), make_idle_pattern, {}});
  factory.add({std::string(names::kHbm), make_hbm_pattern, {}});
  factory.add({std::string(names::kShmoo), make_shmoo_pattern, {}});
  factory.add({std::string(names::kPower), make_power_pattern, {}});
  factory.add({std::string(names::kCollective), make_collective_pattern,
               [](const plan::ParamSet&) { return PhaseNeeds{.collective = true}; }});
}

}  // namespace kiln::agent
