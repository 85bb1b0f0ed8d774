#pragma once
// What the views show from the daemon's JSON documents: a run's chips ×
// steps verdict matrix and failures (REPORT, DESIGN §6) and one serial's run
// history (CHIP). Qt-free parsing, tested on its own.

#include <cstdint>
#include <string>
#include <vector>

#include "core/result.hpp"

namespace kiln::gui {

struct FailureInfo {
  std::string serial;
  std::string cls;
  std::string step;
  std::uint64_t count = 0;
  std::string location;    // "core=1 pe=[12, 40] bit=22"
  std::string conditions;  // "71.3 °C, 2400 MHz"
  std::string first_at;
  std::string detail;
};

struct VerdictMatrix {
  std::uint64_t run_id = 0;
  std::string status;
  std::vector<std::string> steps;
  std::vector<std::string> serials;
  std::vector<std::string> racks;                 // per serial
  std::vector<std::string> chip_verdicts;         // per serial ("" until decided)
  std::vector<std::vector<std::string>> cells;    // [chip][step] verdict ("" pending)
  std::vector<std::vector<std::string>> reasons;  // [chip][step]
  std::vector<FailureInfo> failures;

  static Result<VerdictMatrix> from_report_json(const std::string& text);
  std::vector<FailureInfo> failures_of(const std::string& serial) const;
};

struct HistoryEntry {
  std::uint64_t run_id = 0;
  std::string plan, rack, verdict, status, submitted;
  std::uint32_t slot = 0;
};

struct ChipHistory {
  std::string serial, sku, rack;
  std::vector<HistoryEntry> runs;
  static Result<ChipHistory> from_chip_json(const std::string& text);
};

}  // namespace kiln::gui
