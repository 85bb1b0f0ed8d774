#include "gui/model/drift_trend.hpp"

#include <cmath>

#include <nlohmann/json.hpp>

namespace kiln::gui {

std::optional<double> DriftFigure::percent_change(std::size_t i) const {
  if (i >= points.size() || points.front().value == 0 || !std::isfinite(points.front().value)) return std::nullopt;
  return (points[i].value - points.front().value) / std::fabs(points.front().value) * 100.0;
}

Result<DriftTrend> DriftTrend::from_chip_json(const std::string& text) {
  const auto chip = nlohmann::json::parse(text, nullptr, false);
  if (!chip.is_object()) return make_error(ErrorCode::parse, "the chip answer is not a JSON object");
  DriftTrend trend;
  if (!chip.contains("lifecycle") || !chip["lifecycle"].is_object()) return trend;
  const auto& drift = chip["lifecycle"].value("drift", nlohmann::json::object());
  if (!drift.is_object()) return trend;
  trend.alarm = drift.value("alarm", false);
  const auto figures = drift.value("figures", nlohmann::json::object());
  if (!figures.is_object()) return make_error(ErrorCode::parse, "lifecycle.drift.figures is not an object");
  for (const auto& [name, f] : figures.items()) {
    DriftFigure figure;
    figure.name = name;
    for (const auto& p : f.value("trend", nlohmann::json::array())) {
      if (!p.is_object() || !p.contains("value") || !p["value"].is_number()) continue;
      figure.points.push_back({p.value("run", std::uint64_t{0}), p["value"].get<double>()});
    }
    const auto history = f.value("history", nlohmann::json::object());
    const auto peers = f.value("peers", nlohmann::json::object());
    const bool by_history = history.value("alarm", false);
    const bool by_peers = peers.value("alarm", false);
    figure.alarm = by_history || by_peers;
    figure.reason = by_peers && !by_history ? peers.value("reason", "") : history.value("reason", "");
    trend.figures.push_back(std::move(figure));
  }
  return trend;
}

}  // namespace kiln::gui
