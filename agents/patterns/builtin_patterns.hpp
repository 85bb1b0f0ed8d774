#pragma once
// The built-in patterns' makers (one file each under agents/patterns/),
// for register_builtin_agent_patterns().

#include <memory>

#include "agents/patterns/pattern_factory.hpp"

namespace kiln::agent {

std::unique_ptr<Pattern> make_gemm_pattern(PatternEnv& env, const plan::ParamSet& params);
PhaseNeeds gemm_needs(const plan::ParamSet& params);  // verify: vote needs a board
std::unique_ptr<Pattern> make_idle_pattern(PatternEnv& env, const plan::ParamSet& params);
std::unique_ptr<Pattern> make_hbm_pattern(PatternEnv& env, const plan::ParamSet& params);
std::unique_ptr<Pattern> make_shmoo_pattern(PatternEnv& env, const plan::ParamSet& params);
std::unique_ptr<Pattern> make_power_pattern(PatternEnv& env, const plan::ParamSet& params);
std::unique_ptr<Pattern> make_collective_pattern(PatternEnv& env, const plan::ParamSet& params);

}  // namespace kiln::agent
