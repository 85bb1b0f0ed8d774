#include "metrics/catalog.hpp"

#include <algorithm>
#include <charconv>
#include <stdexcept>
#include <utility>

#include <fmt/format.h>

namespace kiln::metrics {
namespace {

struct Builder {
  MetricDef def;
  Builder(MetricName name, std::string label, std::string unit, MetricKind kind, MetricOrigin origin, FailureClass cls,
          double precision) {
    def.name = name.str();
    def.label = std::move(label);
    def.unit = std::move(unit);
    def.kind = kind;
    def.origin = origin;
    def.failure_class = cls;
    def.precision = precision;
  }
  Builder& common() {
    def.common = true;
    return *this;
  }
  Builder& peak(MetricName key, std::string param = {}, std::string fallback = {}) {
    def.peak_key = key.str();
    def.peak_param = std::move(param);
    def.peak_param_default = std::move(fallback);
    return *this;
  }
  Builder& help(std::string text) {
    def.help = std::move(text);
    return *this;
  }
};

using K = MetricKind;
using O = MetricOrigin;
using F = FailureClass;

MetricCatalog make_builtin() {
  MetricCatalog c;
  auto add = [&](Builder& b) { c.add(std::move(b.def)); };
  // Chip telemetry, sampled in every step.
  add(Builder(kTemperatureC, "Temperature", "°C", K::gauge, O::telemetry, F::thermal, 0.01)
          .common()
          .help("die temperature"));
  add(Builder(kHbmTemperatureC, "HBM temperature", "°C", K::gauge, O::telemetry, F::thermal, 0.01)
          .common()
          .help("memory stack temperature"));
  add(Builder(kPowerW, "Power", "W", K::gauge, O::telemetry, F::power, 0.1)
          .common()
          .peak(kTdpPeak)
          .help("board power; `of: peak` is the SKU's TDP"));
  add(Builder(kClockMhz, "Clock", "MHz", K::gauge, O::telemetry, F::underperforming, 1).common().help("core clock"));
  add(Builder(kVoltageMv, "Voltage", "mV", K::gauge, O::telemetry, F::power, 1).common().help("core voltage"));
  add(Builder(kUtilization, "Utilization", "", K::gauge, O::telemetry, F::underperforming, 0.001)
          .common()
          .help("share of the last slice the chip was busy, 0..1"));
  add(Builder(kThrottled, "Throttled", "", K::flag, O::telemetry, F::thermal, 1)
          .common()
          .help("the clock is held down by temperature or power"));
  add(Builder(kHbmCe, "HBM correctable errors", "", K::counter, O::telemetry, F::memory_ce_excess, 1)
          .common()
          .help("correctable ECC errors this run"));
  add(Builder(kHbmUe, "HBM uncorrectable errors", "", K::counter, O::telemetry, F::memory_ue, 1)
          .common()
          .help("uncorrectable ECC errors this run"));
  add(Builder(kHbmGbps, "HBM bandwidth", "GB/s", K::gauge, O::telemetry, F::underperforming, 0.01)
          .peak(kHbmGbps)
          .help("memory traffic over the last slice"));
  add(Builder(kLinkGbpsOf, "Link bandwidth", "GB/s", K::gauge, O::telemetry, F::underperforming, 0.01)
          .help("traffic received on the link"));
  add(Builder(kLinkCrcErrorsOf, "Link CRC errors", "", K::counter, O::telemetry, F::link_errors, 1)
          .help("CRC errors on the link this run"));
  add(Builder(kLinkUpOf, "Link up", "", K::flag, O::telemetry, F::link_down, 1).help("the link is trained and up"));
  add(Builder(kLinkCrcErrors, "Link CRC errors", "", K::counter, O::telemetry, F::link_errors, 1)
          .common()
          .help("CRC errors this run, summed over the chip's links"));
  // Pattern figures.
  add(Builder(kTflops, "Compute", "TFLOPS", K::gauge, O::pattern, F::underperforming, 0.001)
          .peak(kTflops, "dtype", "bf16")
          .help("useful floating-point work; `of: peak` is the SKU's figure for the step's dtype"));
  add(Builder(kSdcErrors, "SDC errors", "", K::counter, O::pattern, F::sdc, 1)
          .help("corrupted output elements found by verification this run"));
  add(Builder(kMemoryErrors, "Memory errors", "", K::counter, O::pattern, F::memory_pattern, 1)
          .help("bits read back wrong by memory patterns this run"));
  add(Builder(kBusbwGbps, "Bus bandwidth", "GB/s", K::gauge, O::pattern, F::underperforming, 0.01)
          .peak(kBusbwGbps, "op", "allreduce")
          .help("nccl-tests busbw at the largest size; `of: peak` is the fabric's figure for the step's op"));
  add(Builder(kAlgbwGbps, "Algorithm bandwidth", "GB/s", K::gauge, O::pattern, F::underperforming, 0.01)
          .peak(kAlgbwGbps, "op", "allreduce")
          .help("nccl-tests algbw at the largest size"));
  add(Builder(kLinkGbps, "Slowest link", "GB/s", K::gauge, O::pattern, F::underperforming, 0.01)
          .peak(kLinkGbps)
          .help("receive bandwidth of the chip's slowest link during the collective"));
  add(Builder(kDataErrors, "Data errors", "", K::counter, O::pattern, F::link_errors, 1)
          .help("corrupted words received in collectives this run"));
  add(Builder(kShmooFailures, "Shmoo failures", "", K::gauge, O::pattern, F::margin, 1)
          .help("operating points of the shmoo grid that failed"));
  // Per-step figures.
  add(Builder(kThrottleFraction, "Throttled share", "", K::gauge, O::step, F::thermal, 0.0001)
          .common()
          .help("share of the step's samples taken while throttled"));
  add(Builder(kLinkDown, "Links down", "", K::gauge, O::step, F::link_down, 1)
          .common()
          .help("links seen down during the step"));
  return c;
}

// "link{}_gbps" → ("link", "_gbps").
std::pair<std::string_view, std::string_view> split_template(std::string_view name) {
  const auto at = name.find("{}");
  return {name.substr(0, at), name.substr(at + 2)};
}

}  // namespace

std::string_view to_string(MetricKind kind) {
  switch (kind) {
    case MetricKind::gauge: return "gauge";
    case MetricKind::counter: return "counter";
    case MetricKind::flag: return "flag";
  }
  return "gauge";
}

std::string link_metric(MetricName per_link, int link) {
  const auto [prefix, suffix] = split_template(per_link.value);
  return fmt::format("{}{}{}", prefix, link, suffix);
}

const MetricCatalog& MetricCatalog::builtin() {
  static const MetricCatalog kBuiltin = make_builtin();
  return kBuiltin;
}

void MetricCatalog::add(MetricDef def) {
  if (def.name.empty()) throw std::logic_error("a metric needs a name");
  if (find(def.name) != nullptr) throw std::logic_error(fmt::format("metric {} is declared twice", def.name));
  if (def.per_link()) {
    const auto [prefix, suffix] = split_template(def.name);
    if (prefix.empty() || suffix.find("{}") != std::string_view::npos) {
      throw std::logic_error(fmt::format("metric template {} must be <prefix>{{}}<suffix>", def.name));
    }
  }
  if (!(def.precision > 0)) throw std::logic_error(fmt::format("metric {} needs a precision above 0", def.name));
  defs_.push_back(std::move(def));
}

MetricRef MetricCatalog::resolve(std::string_view name) const {
  for (const MetricDef& def : defs_) {
    if (!def.per_link()) {
      if (def.name == name) return {&def, std::nullopt};
      continue;
    }
    const auto [prefix, suffix] = split_template(def.name);
    if (name.size() <= prefix.size() + suffix.size() || !name.starts_with(prefix) || !name.ends_with(suffix)) {
      continue;
    }
    const std::string_view digits = name.substr(prefix.size(), name.size() - prefix.size() - suffix.size());
    if (digits.size() > 1 && digits.front() == '0') continue;  // one spelling per link
    int link = 0;
    const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), link);
    if (ec != std::errc{} || end != digits.data() + digits.size() || link < 0) continue;
    return {&def, link};
  }
  return {};
}

const MetricDef* MetricCatalog::find(std::string_view name) const { return resolve(name).def; }

const MetricDef& MetricCatalog::at(MetricName name) const {
  const MetricDef* def = find(name.value);
  if (def == nullptr) throw std::logic_error(fmt::format("metric {} is not in the catalog", name.value));
  return *def;
}

std::string MetricCatalog::peak_key_for(std::string_view name, const ParamLookup& param) const {
  const MetricDef* def = find(name);
  if (def == nullptr || def->peak_key.empty()) return {};
  if (def->peak_param.empty()) return def->peak_key;
  const std::optional<std::string> value = param ? param(def->peak_param) : std::nullopt;
  return def->peak_key + "." + value.value_or(def->peak_param_default);
}

bool MetricCatalog::is_counter(std::string_view name) const {
  const MetricDef* def = find(name);
  return def != nullptr && def->kind == MetricKind::counter;
}

bool MetricCatalog::is_flag(std::string_view name) const {
  const MetricDef* def = find(name);
  return def != nullptr && def->kind == MetricKind::flag;
}

std::vector<std::string> MetricCatalog::common_names() const {
  std::vector<std::string> out;
  for (const MetricDef& def : defs_) {
    if (def.common) out.push_back(def.name);
  }
  return out;
}

}  // namespace kiln::metrics
