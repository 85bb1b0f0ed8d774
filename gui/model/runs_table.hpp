#pragma once
// Runs as the runs view lists them: the daemon's run list (RUNS query)
// merged with the live feed's progress, with an ETA from the observed pace.
// Qt-free.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/result.hpp"
#include "schema/kiln.pb.h"

namespace kiln::gui {

struct RunRow {
  std::uint64_t id = 0;
  std::string plan;
  std::string lab;
  std::string status;  // queued | running | completed | aborted | error
  std::string reason;
  std::vector<std::string> racks;
  std::string submitted, started, ended;
  // Live, while queued or running:
  std::uint32_t phase = 0, phases = 0;
  std::string step;
  double elapsed_s = 0, total_s = 0;  // simulated seconds
  std::size_t failing = 0;
  std::uint32_t queue_position = 0;  // queued: 1 = next
  std::string waiting;               // queued: why it waits ("waiting for r02: leased by run 14 until 06:10")
  std::optional<double> eta_s;       // wall seconds left, once the pace is known

  double fraction() const { return total_s > 0 ? std::min(1.0, elapsed_s / total_s) : 0.0; }
  bool active() const { return status == "queued" || status == "running"; }
};

class RunsTable {
 public:
  // The RUNS query's JSON. Returns whether anything changed.
  Result<bool> load_runs_json(const std::string& text);
  // One run's live state from the feed. Returns true when a run the list
  // does not know yet appeared or a run ended (time to re-read the list).
  bool apply(const kiln::v1::RunLive& live, std::int64_t local_now_ms);

  const std::vector<RunRow>& rows() const { return rows_; }  // newest first
  const RunRow* find(std::uint64_t id) const;

 private:
  RunRow& row(std::uint64_t id);
  struct Pace {
    std::int64_t first_ms = 0;
    double first_elapsed = 0;
  };
  std::vector<RunRow> rows_;
  std::map<std::uint64_t, Pace> pace_;
};

// "4m 05s", "1h 02m", "12s".
std::string format_seconds(double seconds);

}  // namespace kiln::gui
