#include "lifecycle/circuit_breaker.hpp"

#include <fmt/format.h>

namespace kiln::lifecycle {

BreakerVerdict check_circuit_breaker(std::uint64_t run_id, const std::map<std::string, std::uint32_t>& proposed,
                                     const std::map<std::string, std::uint32_t>& population,
                                     const LifecyclePolicy& policy) {
  BreakerVerdict verdict;
  for (const auto& [sku, count] : proposed) {
    const auto it = population.find(sku);
    const std::uint32_t total = it == population.end() ? count : std::max(it->second, count);
    if (total == 0 || count < policy.breaker_min_chips) continue;
    const double share = static_cast<double>(count) / total;
    if (share <= policy.breaker_max_share) continue;
    verdict.tripped = true;
    verdict.held_skus.push_back(sku);
    verdict.reason += fmt::format(
        "{}run {} would quarantine {} of {} {} chips ({:.0f}% > {:.0f}%): quarantines "
        "held, a broken plan or lab rather than a bad batch",
        verdict.reason.empty() ? "" : "; ", run_id, count, total, sku, share * 100, policy.breaker_max_share * 100);
  }
  return verdict;
}

}  // namespace kiln::lifecycle
