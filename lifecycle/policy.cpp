#include "lifecycle/policy.hpp"

#include "yaml/config_file.hpp"
#include "yaml/fields.hpp"
#include "yaml/strict_yaml.hpp"

namespace kiln::lifecycle {
namespace {

constexpr std::string_view kWhat = "lifecycle policy";

void read_classes(const yaml::Node& node, yaml::Diagnostics& diagnostics, std::set<metrics::FailureClass>& out) {
  if (!node.is_sequence()) {
    diagnostics.error(node.mark(), "quarantine_on: expected a list of failure classes, e.g. [sdc, hang]");
    return;
  }
  for (const yaml::Node& item : node.items()) {
    const auto name = yaml::as_string(item, diagnostics, "quarantine_on[]");
    if (!name) continue;
    const auto cls = metrics::parse_failure_class(*name);
    if (!cls) {
      std::string known;
      for (const auto c : metrics::all_failure_classes())
        known += (known.empty() ? "" : ", ") + std::string(to_string(c));
      diagnostics.error(item.mark(),
                        fmt::format("quarantine_on: unknown failure class \"{}\" (known: {})", *name, known));
      continue;
    }
    if (!out.insert(*cls).second) diagnostics.error(item.mark(), fmt::format("quarantine_on: \"{}\" twice", *name));
  }
}

std::uint32_t read_count(yaml::MapReader& reader, yaml::Diagnostics& diagnostics, std::string_view what,
                         std::string_view key, std::uint32_t fallback, double lo, double hi) {
  const auto value = yaml::read_integer(reader, diagnostics, what, key, yaml::Bounds{lo, hi}, false);
  return value ? static_cast<std::uint32_t>(*value) : fallback;
}

}  // namespace

LifecyclePolicy LifecyclePolicy::defaults() {
  LifecyclePolicy policy;
  using metrics::FailureClass;
  policy.quarantine_on = {FailureClass::sdc,       FailureClass::memory_ue, FailureClass::memory_pattern,
                          FailureClass::link_down, FailureClass::hang,      FailureClass::margin};
  return policy;
}

Result<LifecyclePolicy> parse_policy(std::string_view text, const std::string& file_name) {
  yaml::Diagnostics diagnostics(file_name);
  const auto root = yaml::parse(text, diagnostics);
  if (!root) return make_error(ErrorCode::parse, "{}", diagnostics.to_string());
  LifecyclePolicy policy = LifecyclePolicy::defaults();
  yaml::MapReader reader(*root, diagnostics, std::string(kWhat));
  if (reader.valid()) {
    if (const yaml::Node* classes = reader.get("quarantine_on", true)) {
      policy.quarantine_on.clear();
      read_classes(*classes, diagnostics, policy.quarantine_on);
    }
    if (const auto marginal = reader.boolean("suspect_on_marginal")) policy.suspect_on_marginal = *marginal;
    if (const yaml::Node* retest = reader.get("retest")) {
      yaml::MapReader r(*retest, diagnostics, "retest");
      if (r.valid()) {
        policy.retests_same_seed = read_count(r, diagnostics, "retest", "same_seed", policy.retests_same_seed, 0, 20);
        policy.retests_new_seeds = read_count(r, diagnostics, "retest", "new_seeds", policy.retests_new_seeds, 0, 20);
        r.finish();
      }
    }
    policy.healthy_after_clean_passes =
        read_count(reader, diagnostics, kWhat, "healthy_after_clean_passes", policy.healthy_after_clean_passes, 1, 100);
    policy.rma_after_failed_retests =
        read_count(reader, diagnostics, kWhat, "rma_after_failed_retests", policy.rma_after_failed_retests, 1, 40);
    if (const yaml::Node* breaker = reader.get("circuit_breaker")) {
      yaml::MapReader b(*breaker, diagnostics, "circuit_breaker");
      if (b.valid()) {
        if (const auto share =
                yaml::read_number(b, diagnostics, "circuit_breaker", "max_share", yaml::Bounds{0, 1, true}, false)) {
          policy.breaker_max_share = *share;
        }
        policy.breaker_min_chips =
            read_count(b, diagnostics, "circuit_breaker", "min_chips", policy.breaker_min_chips, 1, 100000);
        b.finish();
      }
    }
    reader.finish();
  }
  if (policy.rma_after_failed_retests > policy.retests() && policy.retests() > 0) {
    diagnostics.error(root->mark(), fmt::format("rma_after_failed_retests ({}) is more than the retests run ({}): a "
                                                "quarantined chip could never reach rma",
                                                policy.rma_after_failed_retests, policy.retests()));
  }
  if (!diagnostics.empty()) return make_error(ErrorCode::parse, "{}", diagnostics.to_string());
  return policy;
}

Result<LifecyclePolicy> load_policy(const std::string& path) {
  KILN_TRY_ASSIGN(const std::string text, yaml::read_config_file(path));
  return parse_policy(text, path);
}

}  // namespace kiln::lifecycle
