#include "agents/detection_log.hpp"

#include <fmt/format.h>

#include "schema/enums.hpp"

namespace kiln::agent {
namespace {

std::string key_of(Finding what, std::string_view metric, const Location& location) {
  std::string key = fmt::format("{}|{}|{}", metrics::to_string(what.cls), wire::to_string(what.kind), metric);
  for (const auto& [name, value] : location) key += fmt::format("|{}={}", name, value);
  return key;
}

}  // namespace

kiln::v1::Conditions conditions_of(const device::Telemetry& t) {
  kiln::v1::Conditions c;
  if (t.temperature_c) c.set_temperature_c(*t.temperature_c);
  if (t.power_w) c.set_power_w(*t.power_w);
  if (t.clock_mhz) c.set_clock_mhz(*t.clock_mhz);
  if (t.voltage_mv) c.set_voltage_mv(*t.voltage_mv);
  return c;
}

kiln::v1::Detection& DetectionLog::slot(Finding what, std::string_view metric, const Location& location,
                                        const Moment& at, std::string_view detail, bool& created) {
  std::string key = key_of(what, metric, location);
  auto it = by_key_.find(key);
  created = false;
  if (it != by_key_.end()) return it->second;

  kiln::v1::Detection fresh;
  fresh.set_cls(wire::to_proto(what.cls));
  fresh.set_kind(what.kind);
  fresh.set_metric(std::string(metric));
  if (order_.size() >= max_distinct_ && !location.empty()) {
    // Past the cap: count it where the class's unlocated overflow lives.
    key = key_of(what, metric, {}) + "|overflow";
    it = by_key_.find(key);
    if (it != by_key_.end()) return it->second;
    fresh.set_detail(fmt::format("more than {} distinct locations; the rest are counted here", max_distinct_));
  } else {
    for (const auto& [name, value] : location) (*fresh.mutable_location())[name] = value;
    fresh.set_detail(std::string(detail));
  }
  fresh.set_first_t_s(at.t_s);
  fresh.set_first_wall_unix_ms(at.wall_unix_ms);
  if (at.telemetry != nullptr) *fresh.mutable_conditions() = conditions_of(*at.telemetry);
  created = true;
  order_.push_back(key);
  return by_key_.emplace(std::move(key), std::move(fresh)).first->second;
}

void DetectionLog::record(Finding what, std::string_view metric, const Location& location, std::uint64_t count,
                          const Moment& at, std::string_view detail) {
  bool created = false;
  kiln::v1::Detection& d = slot(what, metric, location, at, detail, created);
  d.set_count(d.count() + count);
  d.set_last_t_s(at.t_s);
  d.set_last_wall_unix_ms(at.wall_unix_ms);
}

std::uint64_t DetectionLog::count(metrics::FailureClass cls) const {
  std::uint64_t total = 0;
  for (const auto& [key, d] : by_key_) {
    if (d.cls() == wire::to_proto(cls)) total += d.count();
  }
  return total;
}

void DetectionLog::write_to(kiln::v1::ChipStepResult& result) const {
  for (const std::string& key : order_) *result.add_detections() = by_key_.at(key);
}

}  // namespace kiln::agent
