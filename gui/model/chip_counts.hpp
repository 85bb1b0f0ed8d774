#pragma once
// A chip's error counts in its run, as the chip view's header prints them:
// the same figures its charts end at. Counters are cumulative in the run,
// so the latest point of the stored-and-live series is the count; a live
// value is used where the series has none yet. Qt-free.

#include <string>
#include <vector>

#include "gui/model/chip_series.hpp"
#include "gui/model/lab_state.hpp"

namespace kiln::gui {

struct ErrorCount {
  std::string label;  // "SDC", "memory", "HBM UE", "link CRC" (the per-link counters summed)
  double count = 0;
};

struct ErrorCounts {
  double total = kUnavailable;     // NaN: the chip reported no counter yet
  std::vector<ErrorCount> counts;  // the counters seen, in the catalog's order
};

// series may be null (no run loaded yet).
ErrorCounts error_counts(const LabState& lab, const ChipState& chip, const ChipSeries* series);

}  // namespace kiln::gui
