#pragma once
// Where a queued or running run stands, as RunManager knows it: what the
// live feed shows and `kiln run show` merges into the stored run.

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace kiln::daemon {

struct RunProgress {
  enum class State { queued, running };
  State state = State::queued;
  std::uint32_t queue_position = 0;  // queued: 1 = next
  std::string waiting;               // queued: why it waits (docs/scheduling.md)
  std::uint32_t phase = 0;           // running: 1-based
  std::uint32_t phases = 0;
  std::string step;      // the phase's step names joined by " + "
  double elapsed_s = 0;  // chip seconds of the plan done
  double total_s = 0;
  // Chips the judge's rules already decide (judge_so_far): failed by a
  // health watch or a judged step, or over a limit so far in a step still
  // running. Sorted by serial.
  struct Concern {
    std::string serial;
    bool failed = false;  // false: over a limit so far
    std::string reason;
  };
  std::vector<Concern> concerns;
  std::vector<std::string> lost_racks;

  std::vector<std::string> failing() const;     // the failed ones' serials
  std::vector<std::string> over_limit() const;  // the others'
};

// The `progress` object of `kiln run show --json` (docs/cli.md).
nlohmann::ordered_json progress_json(const RunProgress& progress);

}  // namespace kiln::daemon
