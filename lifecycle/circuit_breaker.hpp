#pragma once
// The circuit breaker (docs/lifecycle.md): when one run would automatically
// quarantine more than a configured share of a SKU's chips, that is a broken
// plan or a broken lab, not a bad batch — the quarantines are held, the chips
// keep their state, and the reason is said loudly (log, events, digest).

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "lifecycle/policy.hpp"

namespace kiln::lifecycle {

struct BreakerVerdict {
  bool tripped = false;
  std::vector<std::string> held_skus;  // SKUs whose quarantines are held
  std::string reason;                  // "run 14 would quarantine 12 of 16 trn2-sim chips (75% > 25%): held"
};

// `proposed`: SKU → chips the run would quarantine; `population`: SKU → chips of that SKU in the lab.
BreakerVerdict check_circuit_breaker(std::uint64_t run_id, const std::map<std::string, std::uint32_t>& proposed,
                                     const std::map<std::string, std::uint32_t>& population,
                                     const LifecyclePolicy& policy);

}  // namespace kiln::lifecycle
