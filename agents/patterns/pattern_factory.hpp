#pragma once
// Builds a step's Pattern by its name. The testplans PatternRegistry stays
// the one definition of a pattern's name, params (types, defaults, bounds)
// and metrics; this only says how an agent runs it. Entries are added by
// plain function calls (register_builtin_agent_patterns), no static
// initialisers, and tests add toy patterns the same way.

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "agents/patterns/pattern.hpp"
#include "testplans/param_value.hpp"

namespace kiln::agent {

// What a phase must prepare for a step before its chips start.
struct PhaseNeeds {
  bool collective = false;  // a rendezvous of every chip of the rack
  bool vote = false;        // a vote board of the phase's chips
};

struct PatternEntry {
  std::string name;
  // From params that passed plan::check_params() against the registry's
  // spec of the same name; `env` outlives the pattern.
  std::function<std::unique_ptr<Pattern>(PatternEnv& env, const plan::ParamSet& params)> make;
  std::function<PhaseNeeds(const plan::ParamSet& params)> needs;  // may be empty: none
};

class PatternFactory {
 public:
  // gemm, idle, hbm, shmoo, power, collective. Immutable.
  static const PatternFactory& builtin();

  // A second entry of the same name is a programming error: std::logic_error.
  void add(PatternEntry entry);
  const PatternEntry* find(std::string_view name) const;
  std::vector<std::string> names() const;

 private:
  std::vector<PatternEntry> entries_;
};

void register_builtin_agent_patterns(PatternFactory& factory);

}  // namespace kiln::agent
