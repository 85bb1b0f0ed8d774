#include "agents/telemetry_values.hpp"

#include <array>
#include <mutex>
#include <optional>
#include <set>
#include <string>

namespace kiln::agent {
namespace {

// The per-link names of the links a SKU can have (device/sku.cpp allows up
// to 1024), made once; a link beyond them gets its names interned.
class LinkNames {
 public:
  static constexpr int kMade = 1024;
  static const LinkNames& get() {
    static const LinkNames names;
    return names;
  }
  std::string_view of(metrics::MetricName per_link, int link) const {
    const std::array<std::string, kMade>* made = per_link.value == metrics::kLinkGbpsOf.value        ? &gbps_
                                                 : per_link.value == metrics::kLinkCrcErrorsOf.value ? &crc_
                                                 : per_link.value == metrics::kLinkUpOf.value        ? &up_
                                                                                                     : nullptr;
    if (made != nullptr && link >= 0 && link < kMade) return (*made)[static_cast<std::size_t>(link)];
    std::lock_guard lock(mutex_);
    return *interned_.insert(metrics::link_metric(per_link, link)).first;  // a set's nodes stay put
  }

 private:
  LinkNames() {
    for (int i = 0; i < kMade; ++i) {
      gbps_[static_cast<std::size_t>(i)] = metrics::link_metric(metrics::kLinkGbpsOf, i);
      crc_[static_cast<std::size_t>(i)] = metrics::link_metric(metrics::kLinkCrcErrorsOf, i);
      up_[static_cast<std::size_t>(i)] = metrics::link_metric(metrics::kLinkUpOf, i);
    }
  }
  std::array<std::string, kMade> gbps_, crc_, up_;
  mutable std::mutex mutex_;
  mutable std::set<std::string, std::less<>> interned_;
};

void put(MetricValues& out, metrics::MetricName name, const std::optional<double>& value) {
  if (value) out.push_back({name.value, *value});
}
// A flag travels as 1 or 0.
void put(MetricValues& out, metrics::MetricName name, const std::optional<bool>& value) {
  if (value) out.push_back({name.value, *value ? 1.0 : 0.0});
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

std::string_view link_metric_name(metrics::MetricName per_link, int link) {
  return LinkNames::get().of(per_link, link);
}

MetricValues telemetry_values(const device::Telemetry& t) {
  MetricValues out;
  telemetry_values(t, out);
  return out;
}

void telemetry_values(const device::Telemetry& t, MetricValues& out) {
  out.clear();
  out.reserve(11 + 3 * t.links.size());
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
  const LinkNames& names = LinkNames::get();
  for (std::size_t i = 0; i < t.links.size(); ++i) {
    const auto& link = t.links[i];
    const int index = static_cast<int>(i);
    if (link.gbps) out.push_back({names.of(metrics::kLinkGbpsOf, index), *link.gbps});
    if (link.crc_errors) out.push_back({names.of(metrics::kLinkCrcErrorsOf, index), *link.crc_errors});
    if (link.up) out.push_back({names.of(metrics::kLinkUpOf, index), *link.up ? 1.0 : 0.0});
  }
  put(out, metrics::kLinkCrcErrors, total_crc_errors(t));
}

MetricValues counter_values(const device::Telemetry& t) {
  MetricValues out;
  put(out, metrics::kHbmCe, t.hbm_ce);
  put(out, metrics::kHbmUe, t.hbm_ue);
  for (std::size_t i = 0; i < t.links.size(); ++i) {
    if (!t.links[i].crc_errors) continue;
    out.push_back({link_metric_name(metrics::kLinkCrcErrorsOf, static_cast<int>(i)), *t.links[i].crc_errors});
  }
  put(out, metrics::kLinkCrcErrors, total_crc_errors(t));
  return out;
}

}  // namespace kiln::agent
