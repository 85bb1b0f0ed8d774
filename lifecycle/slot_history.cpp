#include "lifecycle/slot_history.hpp"

#include <map>
#include <set>

#include <fmt/format.h>

namespace kiln::lifecycle {

std::optional<SlotFinding> points_at_slot(const std::vector<SlotRun>& history, const std::string& serial) {
  struct Tally {
    int failed = 0;
    int passed = 0;
  };
  std::map<std::pair<std::string, std::uint32_t>, Tally> own;  // this chip, per slot
  for (const SlotRun& r : history) {
    if (r.serial != serial) continue;
    Tally& t = own[{r.rack, r.slot}];
    (r.failed ? t.failed : t.passed) += 1;
  }
  // Somewhere it passes, somewhere it fails: is the failing slot failing others too?
  int passed_elsewhere = 0;
  std::string passed_where;
  for (const auto& [where, t] : own) {
    if (t.passed > 0 && t.failed == 0) {
      passed_elsewhere += t.passed;
      passed_where = fmt::format("{}/{}", where.first, where.second);
    }
  }
  if (passed_elsewhere == 0) return std::nullopt;
  for (const auto& [where, t] : own) {
    if (t.failed == 0) continue;
    std::set<std::string> others;
    for (const SlotRun& r : history) {
      if (r.serial != serial && r.rack == where.first && r.slot == where.second && r.failed) others.insert(r.serial);
    }
    if (others.empty()) continue;
    std::string names;
    for (const auto& o : others) names += (names.empty() ? "" : ", ") + o;
    return SlotFinding{
        where.first, where.second,
        fmt::format("{} failed {} run(s) in {}/{} and passed {} in {}; {}/{} also failed {}", serial, t.failed,
                    where.first, where.second, passed_elsewhere, passed_where, where.first, where.second, names)};
  }
  return std::nullopt;
}

}  // namespace kiln::lifecycle
