#pragma once
// The lab as the dashboard knows it: racks in the order the daemon lists
// them, each chip's latest live state (sample, run, step, verdict so far),
// whether its rack's agent is connected. Built only from the daemon's
// LiveUpdates; Qt-free so it can be unit-tested and benchmarked on its own.

#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "gui/model/lifecycle_states.hpp"
#include "schema/kiln.pb.h"

namespace kiln::gui {

inline constexpr double kUnavailable = std::numeric_limits<double>::quiet_NaN();

struct ChipState {
  std::string serial;
  std::string rack;
  std::uint32_t slot = 0;
  std::string sku;
  std::uint64_t run_id = 0;
  std::uint32_t step_index = 0;
  std::string step;
  std::string verdict;  // "" (never in a run), running, over_limit, pass, marginal, inconclusive, error, fail
  std::string concern;  // over_limit or fail while running: the judge's reason
  std::int64_t wall_unix_ms = 0;
  double t_s = 0;
  std::vector<double> values;  // by LabState metric id; NaN: unavailable
  std::size_t rack_index = 0;  // into LabState::racks(), valid once placed
  std::map<std::string, double> peaks;
  std::optional<Lifecycle> lifecycle;  // from the CHIPS query; nullopt until the daemon said
};

struct RackState {
  std::string rack;
  bool connected = false;
  std::string backend;
  std::vector<std::size_t> chips;  // indices into LabState::chips(), by slot
};

class LabState {
 public:
  static constexpr std::int64_t kStaleAfterMs = 5000;

  // Applies one update; returns the indices of chips it changed. A snapshot
  // (full) that starts after a reconnect replaces what was known.
  std::vector<std::size_t> apply(const kiln::v1::LiveUpdate& update, std::int64_t local_now_ms);

  const std::vector<ChipState>& chips() const { return chips_; }
  const std::vector<RackState>& racks() const { return racks_; }
  const ChipState* find(const std::string& serial) const;
  std::optional<std::size_t> index_of(const std::string& serial) const;
  // True when racks or chips were added or removed since the last call.
  bool take_layout_changed();

  // Metric ids are stable for the life of the LabState.
  std::optional<std::uint32_t> metric_id(const std::string& name) const;
  double value(const ChipState& chip, std::uint32_t metric) const {
    return metric < chip.values.size() ? chip.values[metric] : kUnavailable;
  }
  double value(const ChipState& chip, const std::string& name) const;
  const std::vector<std::string>& metric_names() const { return metric_names_; }
  // Ids of the metrics every tile shows, looked up once rather than per chip and paint.
  struct Known {
    std::optional<std::uint32_t> temperature_c, power_w, clock_mhz, tflops, throttled, hbm_gbps;
  };
  const Known& known() const { return known_; }
  // Cumulative error counters (sdc, memory, hbm ue/ce, link crc): summed for the "errors" colouring.
  const std::vector<std::uint32_t>& error_metric_ids() const { return error_ids_; }

  // The daemon's clock now, as well as we can tell (its send time plus the
  // local time since), so a sample's age does not depend on clock skew.
  std::int64_t daemon_now_ms(std::int64_t local_now_ms) const { return local_now_ms + clock_offset_ms_; }
  // Milliseconds since the chip's last sample, or -1 if it never sent one.
  std::int64_t age_ms(const ChipState& chip, std::int64_t local_now_ms) const;
  bool rack_connected(const std::string& rack) const;
  bool rack_connected(const ChipState& chip) const;  // without a search

  // Which peak figure a step's TFLOPS are a percentage of ("tflops.fp8"),
  // by step index, from the run's plan (the catalog's rule with the step's
  // dtype). Until a run's plan is known its chips have no percentage: the
  // default dtype's peak would make an fp8 step read 176 %.
  void set_tflops_peak_keys(std::uint64_t run_id, std::unordered_map<std::uint32_t, std::string> by_step);
  bool knows_plan(std::uint64_t run_id) const { return tflops_peak_keys_.count(run_id) != 0; }
  const std::string* tflops_peak_key(const ChipState& chip) const;

  // Every chip's lifecycle state (the CHIPS query's JSON): stamped on the
  // chips known now and on those the feed adds later. Returns whether any changed.
  Result<bool> load_lifecycle_json(const std::string& text);
  const LifecycleStates& lifecycle() const { return lifecycle_; }

 private:
  std::uint32_t intern(const std::string& name);
  std::size_t chip_slot(const std::string& serial);
  RackState& rack(const std::string& name);
  void place(std::size_t chip_index);
  void clear();

  std::vector<ChipState> chips_;
  std::unordered_map<std::string, std::size_t> by_serial_;
  std::vector<RackState> racks_;
  std::vector<std::string> metric_names_;
  std::unordered_map<std::string, std::uint32_t> metric_ids_;
  std::vector<std::uint32_t> error_ids_;
  std::vector<bool> counter_;  // by metric id: cumulative in the run, so kept across its steps
  std::unordered_map<std::uint64_t, std::unordered_map<std::uint32_t, std::string>> tflops_peak_keys_;
  Known known_;
  LifecycleStates lifecycle_;
  std::int64_t clock_offset_ms_ = 0;
  std::size_t next_hint_ = 0;  // the feed sends chips in a steady order: the next one is usually next
  bool in_snapshot_ = false;
  bool layout_changed_ = false;
};

// Derived figures the views colour and print by.
struct ChipFigures {
  double temperature_c = kUnavailable;
  double power_w = kUnavailable;
  double clock_mhz = kUnavailable;
  double tflops = kUnavailable;
  double tflops_pct = kUnavailable;  // of the SKU's peak for the step's dtype (tflops_peak_key)
  std::string tflops_peak_key;       // "tflops.fp8"; empty while the run's plan is not known
  double errors = kUnavailable;      // sdc + memory + hbm ue/ce + link crc, cumulative in the run
  bool throttled = false;
};
ChipFigures figures_of(const LabState& lab, const ChipState& chip);

}  // namespace kiln::gui
