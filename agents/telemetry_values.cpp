#include "agents/telemetry_values.hpp"

#include <array>
#include <optional>
#include <string_view>

#include "metrics/catalog.hpp"

namespace kiln::agent {
namespace {

// Writes values over what `out` held, position by position, so that a name
// already in place costs a copy into its own storage, not an allocation.
class ValueWriter {
 public:
  explicit ValueWriter(MetricValues& out) : out_(out) {}
  ~ValueWriter() { out_.resize(used_); }
  ValueWriter(const ValueWriter&) = delete;
  ValueWriter& operator=(const ValueWriter&) = delete;

  void put(std::string_view name, double value) {
    if (used_ < out_.size()) {
      out_[used_].first.assign(name);
      out_[used_].second = value;
    } else {
      out_.emplace_back(std::string(name), value);
    }
    ++used_;
  }
  void put(metrics::MetricName name, const std::optional<double>& value) {
    if (value) put(name.str(), *value);
  }
  // A flag travels as 1 or 0.
  void put(metrics::MetricName name, const std::optional<bool>& value) {
    if (value) put(name.str(), *value ? 1.0 : 0.0);
  }

 private:
  MetricValues& out_;
  std::size_t used_ = 0;
};

// "link3_gbps" and its kind, made once for the links a chip can have
// rather than formatted every tick.
class LinkNames {
 public:
  static constexpr int kCached = 64;
  LinkNames() {
    for (int i = 0; i < kCached; ++i) {
      gbps_[i] = metrics::link_metric(metrics::kLinkGbpsOf, i);
      crc_[i] = metrics::link_metric(metrics::kLinkCrcErrorsOf, i);
      up_[i] = metrics::link_metric(metrics::kLinkUpOf, i);
    }
  }
  static const LinkNames& get() {
    static const LinkNames names;
    return names;
  }
  std::string_view gbps(int i, std::string& spare) const { return pick(gbps_, metrics::kLinkGbpsOf, i, spare); }
  std::string_view crc(int i, std::string& spare) const { return pick(crc_, metrics::kLinkCrcErrorsOf, i, spare); }
  std::string_view up(int i, std::string& spare) const { return pick(up_, metrics::kLinkUpOf, i, spare); }

 private:
  static std::string_view pick(const std::array<std::string, kCached>& cached, metrics::MetricName per_link, int i,
                               std::string& spare) {
    if (i < kCached) return cached[static_cast<std::size_t>(i)];
    spare = metrics::link_metric(per_link, i);
    return spare;
  }
  std::array<std::string, kCached> gbps_, crc_, up_;
};

void put(MetricValues& out, metrics::MetricName name, const std::optional<double>& value) {
  if (value) out.emplace_back(name.str(), *value);
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
  out.reserve(11 + 3 * t.links.size());
  telemetry_values(t, out);
  return out;
}

void telemetry_values(const device::Telemetry& t, MetricValues& out) {
  ValueWriter w(out);
  w.put(metrics::kTemperatureC, t.temperature_c);
  w.put(metrics::kHbmTemperatureC, t.hbm_temperature_c);
  w.put(metrics::kPowerW, t.power_w);
  w.put(metrics::kClockMhz, t.clock_mhz);
  w.put(metrics::kVoltageMv, t.voltage_mv);
  w.put(metrics::kUtilization, t.utilization);
  w.put(metrics::kThrottled, t.throttled);
  w.put(metrics::kHbmCe, t.hbm_ce);
  w.put(metrics::kHbmUe, t.hbm_ue);
  w.put(metrics::kHbmGbps, t.hbm_gbps);
  const LinkNames& names = LinkNames::get();
  std::string spare;
  for (std::size_t i = 0; i < t.links.size(); ++i) {
    const auto& link = t.links[i];
    const int link_index = static_cast<int>(i);
    if (link.gbps) w.put(names.gbps(link_index, spare), *link.gbps);
    if (link.crc_errors) w.put(names.crc(link_index, spare), *link.crc_errors);
    if (link.up) w.put(names.up(link_index, spare), *link.up ? 1.0 : 0.0);
  }
  w.put(metrics::kLinkCrcErrors, total_crc_errors(t));
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
