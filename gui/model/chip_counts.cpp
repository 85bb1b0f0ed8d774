#include "gui/model/chip_counts.hpp"

#include <algorithm>
#include <cmath>
#include <set>

#include "metrics/catalog.hpp"

namespace kiln::gui {

namespace {

bool is_link_counter(const std::string& name) {
  return name.size() > 4 && name.rfind("link", 0) == 0 && name != metrics::kLinkCrcErrors &&
         name.find("_crc_errors") != std::string::npos;
}

// Short names for the header, in the order it lists them.
const std::vector<std::pair<std::string, std::string>>& labels() {
  static const std::vector<std::pair<std::string, std::string>> kLabels{
      {metrics::kSdcErrors.str(), "SDC"}, {metrics::kMemoryErrors.str(), "memory"}, {metrics::kHbmUe.str(), "HBM UE"},
      {metrics::kHbmCe.str(), "HBM CE"},  {metrics::kDataErrors.str(), "data"},     {"link_crc", "link CRC"}};
  return kLabels;
}

}  // namespace

ErrorCounts error_counts(const LabState& lab, const ChipState& chip, const ChipSeries* series) {
  std::set<std::string> names(lab.metric_names().begin(), lab.metric_names().end());
  if (series != nullptr) {
    for (auto& name : series->metrics()) names.insert(std::move(name));
  }
  std::vector<std::pair<std::string, double>> by_group;  // group → count
  for (const auto& name : names) {
    // link_crc_errors is the per-link counters' total: counting it too would count them twice.
    if (!metrics::MetricCatalog::builtin().is_counter(name) || name == metrics::kLinkCrcErrors) continue;
    const bool of_series = series != nullptr && series->run_id() == chip.run_id;
    std::optional<double> value = of_series ? series->last_value(name) : std::nullopt;
    const double live = lab.value(chip, name);
    // The charts end at the newest sample; a live one not yet appended may be newer.
    if (!std::isnan(live)) value = value ? std::max(*value, live) : live;
    if (!value) continue;
    const std::string group = is_link_counter(name) ? "link_crc" : name;
    auto it = std::find_if(by_group.begin(), by_group.end(), [&](const auto& g) { return g.first == group; });
    if (it == by_group.end()) {
      by_group.emplace_back(group, *value);
    } else {
      it->second += *value;
    }
  }
  ErrorCounts out;
  if (by_group.empty()) return out;
  out.total = 0;
  for (const auto& [metric, label] : labels()) {
    for (const auto& [group, count] : by_group) {
      if (group == metric) out.counts.push_back(ErrorCount{label, count});
    }
  }
  for (const auto& [group, count] : by_group) {
    const bool labelled =
        std::any_of(labels().begin(), labels().end(), [&](const auto& l) { return l.first == group; });
    if (!labelled) out.counts.push_back(ErrorCount{group, count});
  }
  for (const auto& c : out.counts) out.total += c.count;
  return out;
}

}  // namespace kiln::gui
