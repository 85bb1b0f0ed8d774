#include "agents/telemetry_values.hpp"

#include <optional>

#include <fmt/format.h>

namespace kiln::agent {
namespace {

void put(MetricValues& out, const char* name, const std::optional<double>& value) {
  if (value) out.emplace_back(name, *value);
}

// A flag travels as 1 or 0.
void put(MetricValues& out, const char* name, const std::optional<bool>& value) {
  if (value) out.emplace_back(name, *value ? 1.0 : 0.0);
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
  put(out, "temperature_c", t.temperature_c);
  put(out, "hbm_temperature_c", t.hbm_temperature_c);
  put(out, "power_w", t.power_w);
  put(out, "clock_mhz", t.clock_mhz);
  put(out, "voltage_mv", t.voltage_mv);
  put(out, "utilization", t.utilization);
  put(out, "throttled", t.throttled);
  put(out, "hbm_ce", t.hbm_ce);
  put(out, "hbm_ue", t.hbm_ue);
  put(out, "hbm_gbps", t.hbm_gbps);
  for (std::size_t i = 0; i < t.links.size(); ++i) {
    const auto& link = t.links[i];
    if (link.gbps) out.emplace_back(fmt::format("link{}_gbps", i), *link.gbps);
    if (link.crc_errors) out.emplace_back(fmt::format("link{}_crc_errors", i), *link.crc_errors);
    if (link.up) out.emplace_back(fmt::format("link{}_up", i), *link.up ? 1.0 : 0.0);
  }
  put(out, "link_crc_errors", total_crc_errors(t));
  return out;
}

MetricValues counter_values(const device::Telemetry& t) {
  MetricValues out;
  put(out, "hbm_ce", t.hbm_ce);
  put(out, "hbm_ue", t.hbm_ue);
  for (std::size_t i = 0; i < t.links.size(); ++i) {
    if (t.links[i].crc_errors) out.emplace_back(fmt::format("link{}_crc_errors", i), *t.links[i].crc_errors);
  }
  put(out, "link_crc_errors", total_crc_errors(t));
  return out;
}

}  // namespace kiln::agent
