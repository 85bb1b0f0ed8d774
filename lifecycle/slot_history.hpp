#pragma once
// Chip or slot? A chip whose retest in another slot passes while its old
// slot keeps failing — with it and with the chip put there next — points at
// the slot (its socket, cable or power), not the chip (docs/lifecycle.md).

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace kiln::lifecycle {

struct SlotRun {
  std::uint64_t run_id = 0;
  std::string serial;
  std::string rack;
  std::uint32_t slot = 0;
  bool failed = false;  // failed or marginal; runs that could not judge are left out
};

struct SlotFinding {
  std::string rack;
  std::uint32_t slot = 0;
  std::string reason;  // "TRN-0205 failed 3 runs in r01/5 and passed 2 in r02/1; r01/5 also failed TRN-0301"
};

// From every recorded run of `serial` and of the slots it sat in.
std::optional<SlotFinding> points_at_slot(const std::vector<SlotRun>& history, const std::string& serial);

}  // namespace kiln::lifecycle
