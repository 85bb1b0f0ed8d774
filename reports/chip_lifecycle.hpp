#pragma once
// A chip's lifecycle as `kiln chip SERIAL` shows it (docs/lifecycle.md):
// its state, "failed X of Y" retests, its transitions (actor, reason,
// evidence run, plan hash), the slots it sat in and whether the evidence
// points at a slot rather than the chip, and its drift.

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/result.hpp"
#include "lifecycle/slot_history.hpp"
#include "reports/chip_drift.hpp"
#include "schema/store.hpp"

namespace kiln::reports {

// Every judged run of `serial` and every judged run of another chip in a
// slot `serial` sat in, up to run `upto` (0: all).
Result<std::vector<lifecycle::SlotRun>> slot_runs(store::Reader& reader, const std::string& serial,
                                                  std::uint64_t upto = 0);

nlohmann::ordered_json drift_json(const ChipDrift& drift);

// {"state", "set_by_person", "retests": {"run", "failed", "tally"}, "clean_streak",
//  "episode_run", "transitions": [...], "slots": [...], "points_at_slot", "drift"}.
Result<nlohmann::ordered_json> chip_lifecycle_json(store::Reader& reader, const std::string& serial);

}  // namespace kiln::reports
