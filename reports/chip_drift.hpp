#pragma once
// Drift by serial (docs/lifecycle.md, "Drift"): the figures that age, read
// from each run's step results, and what lifecycle/drift.hpp finds in them
// against the chip's own history and its SKU's peers. kilnd's lifecycle
// keeper and `kiln chip SERIAL --drift` both use this, so they agree.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/result.hpp"
#include "lifecycle/drift.hpp"
#include "schema/store.hpp"

namespace kiln::reports {

// One figure of one chip in one run.
struct FigureValue {
  std::uint64_t run_id = 0;
  double value = 0;
};

// The figures one run measured on each of its chips: serial → figure → value.
// A figure is named with what keeps it comparable between runs:
//   gemm_tflops[bf16]       mean TFLOPS of the run's gemm steps of that dtype
//   hbm_gbps                mean HBM bandwidth of its hbm steps
//   c_per_w[bf16]           mean temperature / mean power in those gemm steps
//   hbm_ce_per_hour         correctable errors per hour over the whole run
// Chips whose run verdict is error or inconclusive, or missing, are left out.
Result<std::map<std::string, std::map<std::string, double>>> run_figures(store::Reader& reader, std::uint64_t run_id);

// Which way is better for a figure named as above.
lifecycle::Better better_for(const std::string& figure);

struct ChipDrift {
  // figure → the chip's values, oldest run first.
  std::map<std::string, std::vector<FigureValue>> trend;
  // One finding per figure against its own history, one against its peers.
  std::vector<lifecycle::DriftFinding> history;
  std::vector<lifecycle::DriftFinding> peers;
  bool alarm() const;
};

// Caches each run's figures across calls (one keeper or one query).
class DriftReader {
 public:
  explicit DriftReader(store::Reader& reader) : reader_(reader) {}
  // The chip's trend and findings up to and including run `upto` (0: all
  // runs), over its latest kMaxRuns judged runs. Peers: the latest judged
  // run's value of every other chip of the same SKU, up to `upto`. Each
  // run's figures, the inventory and each chip's history are read once per
  // DriftReader (one lives for one pass over a run's chips: judging every
  // chip of a 1,024-chip lab against its peers must not read every peer's
  // history again for every chip).
  static constexpr std::size_t kMaxRuns = 50;
  Result<ChipDrift> chip(const std::string& serial, std::uint64_t upto = 0);

 private:
  using Trend = std::map<std::string, std::vector<FigureValue>>;
  Result<const std::map<std::string, std::map<std::string, double>>*> figures(std::uint64_t run_id);
  Result<const std::vector<store::HistoryRow>*> history(const std::string& serial);
  // The figures of `who` over its latest `max_runs` judged runs up to `upto`.
  Result<Trend> trend(const std::string& who, std::size_t max_runs, std::uint64_t upto);
  store::Reader& reader_;
  std::map<std::uint64_t, std::map<std::string, std::map<std::string, double>>> cache_;
  std::optional<std::vector<store::ChipRow>> chips_;
  std::map<std::string, std::vector<store::HistoryRow>> histories_;
  std::map<std::pair<std::string, std::uint64_t>, Trend> latest_;  // (serial, upto) → its latest run's figures
};

}  // namespace kiln::reports
