#pragma once
// The lifecycle policy (docs/lifecycle.md): which evidence moves a chip
// between states. A documented YAML file, read strictly; the shipped default
// is lifecycle/default-policy.yaml (installed as share/kiln/lifecycle-policy.yaml).

#include <cstdint>
#include <set>
#include <string>
#include <string_view>

#include "core/result.hpp"
#include "metrics/failure_class.hpp"

namespace kiln::lifecycle {

struct LifecyclePolicy {
  // A failure of one of these quarantines the chip: a hard fault.
  std::set<metrics::FailureClass> quarantine_on;
  // Any other failure, or a marginal result when suspect_on_marginal, makes it suspect.
  bool suspect_on_marginal = true;
  // Retests of a suspect or quarantined chip: the failing run's own seed
  // again, then new seeds; "failed X of Y" is counted over them.
  std::uint32_t retests_same_seed = 1;
  std::uint32_t retests_new_seeds = 2;
  // A suspect chip returns to healthy after this many clean passes in a row.
  std::uint32_t healthy_after_clean_passes = 3;
  // A quarantined chip whose retests fail this many times goes to rma.
  std::uint32_t rma_after_failed_retests = 2;
  // Automatic quarantines of one run are held (and said loudly) when they
  // would take more than this share of a SKU's chips, and at least
  // breaker_min_chips of them: a broken plan or lab, not a bad batch.
  double breaker_max_share = 0.25;
  std::uint32_t breaker_min_chips = 3;

  std::uint32_t retests() const { return retests_same_seed + retests_new_seeds; }
  static LifecyclePolicy defaults();
};

// Errors are "file:line:col: message", every one of the file at once.
Result<LifecyclePolicy> parse_policy(std::string_view text, const std::string& file_name);
Result<LifecyclePolicy> load_policy(const std::string& path);

}  // namespace kiln::lifecycle
