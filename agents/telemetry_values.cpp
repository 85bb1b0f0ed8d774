#include "agents/telemetry_values.hpp"

#include <optional>

#include "metrics/catalog.hpp"

namespace kiln::agent {
namespace {

void put(MetricValues& out, metrics::MetricName name, const std::optional<double>& value) {
  if (value) out.emplace_back(name.str(), *value);
}

// A flag travels as 1 or 0.
void put(MetricValues& out, metrics::MetricName name, const std::optional<bool>& value) {
  if (value) out.emplace_back(name.str(), *value ? 1.0 : 0.0);
}

// Sum over the links that report it; unavailable when none does.
std::optional<double> total_crc_errors(const device::Telemetry& t) {
  std::optional<double> total;
  for (const auto& link : t.links) {
    if (link.crc_errors) total = total.value_or(0) + *link.crc_errors;
  }
  return total;
}

}  // namespace

MetricValues telemetry_values(const device::Telemetry& t) {
  MetricValues out;
  out.reserve(10 + 3 * t.links.size());
  put(out, metrics::kTemperatureC, t.temperature_c);
  put(out, metrics::kHbmTemperatureC, t.hbm_temperature_c);
  put(out, metrics::kPowerW, t.power_w);
  put(out, metrics::kClockMhz, t.clock_mhz);
  put(out, metrics::kVoltageMv, t.voltage_mv);
  put(out, metrics::kUtilization, t.utilization);
  put(out, metrics::kThrottled, t.throttled);
  put(out, metrics::kHbmCe, t.hbm_ce);
  put(out, metrics::kHbmUe, t.hbm_ue);
  put(out, metrics::kHbmGbps, t.hbm_gbps);
  for (std::size_t i = 0; i < t.links.size(); ++i) {
    const auto& link = t.links[i];
    const int link_index = static_cast<int>(i);
    if (link.gbps) out.emplace_back(metrics::link_metric(metrics::kLinkGbpsOf, link_index), *link.gbps);
    if (link.crc_errors)
      out.emplace_back(metrics::link_metric(metrics::kLinkCrcErrorsOf, link_index), *link.crc_errors);
    if (link.up) out.emplace_back(metrics::link_metric(metrics::kLinkUpOf, link_index), *link.up ? 1.0 : 0.0);
  }
  put(out, metrics::kLinkCrcErrors, total_crc_errors(t));
  return out;
}

MetricValues counter_values(const device::Telemetry& t) {
  MetricValues out;
  put(out, metrics::kHbmCe, t.hbm_ce);
  put(out, metrics::kHbmUe, t.hbm_ue);
  for (std::size_t i = 0; i < t.links.size(); ++i) {
    if (!t.links[i].crc_errors) continue;
    out.emplace_back(metrics::link_metric(metrics::kLinkCrcErrorsOf, static_cast<int>(i)), *t.links[i].crc_errors);
  }
  put(out, metrics::kLinkCrcErrors, total_crc_errors(t));
  return out;
}

}  // namespace kiln::agent
