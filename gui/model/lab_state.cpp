#include "gui/model/lab_state.hpp"

#include <algorithm>

#include "metrics/catalog.hpp"
#include "schema/enums.hpp"

namespace kiln::gui {

std::uint32_t LabState::intern(const std::string& name) {
  auto [it, inserted] = metric_ids_.try_emplace(name, static_cast<std::uint32_t>(metric_names_.size()));
  if (inserted) {
    metric_names_.push_back(name);
    counter_.push_back(metrics::MetricCatalog::builtin().is_counter(name));
    // The error figure sums the catalog's counters, all but link_crc_errors:
    // it is the per-link counters' total and would count them twice.
    if (metrics::MetricCatalog::builtin().is_counter(name) && name != metrics::kLinkCrcErrors) {
      error_ids_.push_back(it->second);
    }
    const std::uint32_t id = it->second;
    if (name == metrics::kTemperatureC) known_.temperature_c = id;
    if (name == metrics::kPowerW) known_.power_w = id;
    if (name == metrics::kClockMhz) known_.clock_mhz = id;
    if (name == metrics::kTflops) known_.tflops = id;
    if (name == metrics::kThrottled) known_.throttled = id;
    if (name == metrics::kHbmGbps) known_.hbm_gbps = id;
  }
  return it->second;
}

std::optional<std::uint32_t> LabState::metric_id(const std::string& name) const {
  auto it = metric_ids_.find(name);
  if (it == metric_ids_.end()) return std::nullopt;
  return it->second;
}

double LabState::value(const ChipState& chip, const std::string& name) const {
  auto id = metric_id(name);
  return id ? value(chip, *id) : kUnavailable;
}

const ChipState* LabState::find(const std::string& serial) const {
  auto it = by_serial_.find(serial);
  return it == by_serial_.end() ? nullptr : &chips_[it->second];
}

std::optional<std::size_t> LabState::index_of(const std::string& serial) const {
  auto it = by_serial_.find(serial);
  if (it == by_serial_.end()) return std::nullopt;
  return it->second;
}

bool LabState::take_layout_changed() {
  const bool changed = layout_changed_;
  layout_changed_ = false;
  return changed;
}

RackState& LabState::rack(const std::string& name) {
  for (auto& r : racks_) {
    if (r.rack == name) return r;
  }
  racks_.push_back(RackState{name, false, "", {}});
  std::sort(racks_.begin(), racks_.end(), [](const RackState& a, const RackState& b) { return a.rack < b.rack; });
  layout_changed_ = true;
  for (std::size_t r = 0; r < racks_.size(); ++r) {
    for (const std::size_t c : racks_[r].chips) chips_[c].rack_index = r;
  }
  for (auto& r : racks_) {
    if (r.rack == name) return r;
  }
  return racks_.back();  // unreachable: just inserted
}

std::size_t LabState::chip_slot(const std::string& serial) {
  if (next_hint_ < chips_.size() && chips_[next_hint_].serial == serial) return next_hint_++;
  auto [it, inserted] = by_serial_.try_emplace(serial, chips_.size());
  if (inserted) {
    chips_.push_back(ChipState{});
    chips_.back().serial = serial;
    chips_.back().lifecycle = lifecycle_.state_of(serial);
    layout_changed_ = true;
  }
  next_hint_ = it->second + 1;
  return it->second;
}

// Files a chip under its rack, ordered by slot, moving it if its rack changed.
void LabState::place(std::size_t index) {
  const ChipState& chip = chips_[index];
  if (chip.rack.empty()) return;
  for (auto& r : racks_) {
    auto it = std::find(r.chips.begin(), r.chips.end(), index);
    if (it == r.chips.end()) continue;
    if (r.rack == chip.rack) return;
    r.chips.erase(it);
  }
  RackState& r = rack(chip.rack);
  auto pos = std::lower_bound(r.chips.begin(), r.chips.end(), chip.slot,
                              [this](std::size_t i, std::uint32_t slot) { return chips_[i].slot < slot; });
  r.chips.insert(pos, index);
  chips_[index].rack_index = static_cast<std::size_t>(&r - racks_.data());
  layout_changed_ = true;
}

void LabState::clear() {
  chips_.clear();
  by_serial_.clear();
  racks_.clear();
  next_hint_ = 0;
  layout_changed_ = true;
}

std::vector<std::size_t> LabState::apply(const kiln::v1::LiveUpdate& update, std::int64_t local_now_ms) {
  if (update.full() && !in_snapshot_) clear();
  in_snapshot_ = update.full() && update.more();
  if (update.sent_unix_ms() > 0) clock_offset_ms_ = update.sent_unix_ms() - local_now_ms;

  std::vector<std::uint32_t> ids;
  ids.reserve(static_cast<std::size_t>(update.metric_names_size()));
  for (const auto& name : update.metric_names()) ids.push_back(intern(name));

  for (const auto& r : update.racks()) {
    RackState& state = rack(r.rack());
    state.connected = r.connected();
    state.backend = r.backend();
  }

  std::vector<std::size_t> changed;
  changed.reserve(static_cast<std::size_t>(update.chips_size()));
  for (const auto& live : update.chips()) {
    const std::size_t index = chip_slot(live.serial());
    ChipState& chip = chips_[index];
    const bool moved = chip.rack != live.rack() || chip.slot != live.slot();
    const bool new_run = chip.run_id != live.run_id();
    const bool new_step = new_run || chip.step_index != live.step_index();
    // Most fields repeat from one sample to the next: compare before copying.
    auto set = [](std::string& to, const std::string& from) {
      if (to != from) to = from;
    };
    set(chip.rack, live.rack());
    chip.slot = live.slot();
    if (!live.sku().empty()) set(chip.sku, live.sku());
    chip.run_id = live.run_id();
    chip.step_index = live.step_index();
    set(chip.step, live.step());
    set(chip.verdict, std::string(wire::to_string(live.verdict())));
    set(chip.concern, live.concern());
    chip.wall_unix_ms = live.wall_unix_ms();
    chip.t_s = live.t_s();
    if (!live.peaks().empty()) chip.peaks = {live.peaks().begin(), live.peaks().end()};
    // Some metrics are not in every sample (TFLOPS only once a GEMM tick
    // completed): within a step a chip keeps its latest value of each; a new
    // step or run starts from unavailable, so nothing from an earlier step
    // passes for a current figure. Counters are cumulative in the run: a
    // step that does not report one (sdc_errors only comes from verified
    // GEMM steps) still has the run's count, as the chip view's charts do.
    if (new_run) {
      chip.values.assign(metric_names_.size(), kUnavailable);
    } else if (new_step) {
      chip.values.resize(metric_names_.size(), kUnavailable);
      for (std::size_t id = 0; id < chip.values.size(); ++id) {
        if (!counter_[id]) chip.values[id] = kUnavailable;
      }
    } else {
      chip.values.resize(metric_names_.size(), kUnavailable);
    }
    const int n = std::min(live.metric_index_size(), live.metric_value_size());
    for (int i = 0; i < n; ++i) {
      const std::uint32_t k = live.metric_index(i);
      if (k < ids.size()) chip.values[ids[k]] = live.metric_value(i);
    }
    if (moved) place(index);
    changed.push_back(index);
  }
  return changed;
}

std::int64_t LabState::age_ms(const ChipState& chip, std::int64_t local_now_ms) const {
  if (chip.wall_unix_ms <= 0) return -1;
  return std::max<std::int64_t>(0, daemon_now_ms(local_now_ms) - chip.wall_unix_ms);
}

bool LabState::rack_connected(const ChipState& chip) const {
  if (chip.rack_index < racks_.size() && racks_[chip.rack_index].rack == chip.rack)
    return racks_[chip.rack_index].connected;
  return rack_connected(chip.rack);
}

bool LabState::rack_connected(const std::string& name) const {
  for (const auto& r : racks_) {
    if (r.rack == name) return r.connected;
  }
  return false;
}

void LabState::set_tflops_peak_keys(std::uint64_t run_id, std::unordered_map<std::uint32_t, std::string> by_step) {
  tflops_peak_keys_[run_id] = std::move(by_step);
}

const std::string* LabState::tflops_peak_key(const ChipState& chip) const {
  auto run = tflops_peak_keys_.find(chip.run_id);
  if (run == tflops_peak_keys_.end()) return nullptr;
  auto step = run->second.find(chip.step_index);
  return step == run->second.end() ? nullptr : &step->second;
}

Result<bool> LabState::load_lifecycle_json(const std::string& text) {
  KILN_TRY_ASSIGN(const bool changed, lifecycle_.load_chips_json(text));
  if (!changed) return false;
  for (auto& chip : chips_) chip.lifecycle = lifecycle_.state_of(chip.serial);
  return true;
}

ChipFigures figures_of(const LabState& lab, const ChipState& chip) {
  ChipFigures f;
  const auto& k = lab.known();
  auto get = [&](const std::optional<std::uint32_t>& id) { return id ? lab.value(chip, *id) : kUnavailable; };
  f.temperature_c = get(k.temperature_c);
  f.power_w = get(k.power_w);
  f.clock_mhz = get(k.clock_mhz);
  f.tflops = get(k.tflops);
  // Of the peak for the step's own dtype, as the judge scales `of: peak`.
  if (const std::string* key = lab.tflops_peak_key(chip)) {
    f.tflops_peak_key = *key;
    auto peak = chip.peaks.find(*key);
    if (peak != chip.peaks.end() && peak->second > 0 && !std::isnan(f.tflops))
      f.tflops_pct = 100.0 * f.tflops / peak->second;
  }
  f.throttled = get(k.throttled) == 1.0;  // a flag: 1 or 0, NaN when unavailable
  double errors = 0;
  bool any = false;
  for (const std::uint32_t id : lab.error_metric_ids()) {
    const double v = lab.value(chip, id);
    if (std::isnan(v)) continue;
    errors += v;
    any = true;
  }
  if (any) f.errors = errors;
  return f;
}

}  // namespace kiln::gui
