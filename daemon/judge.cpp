#include "daemon/judge.hpp"

#include <algorithm>
#include <cmath>
#include <optional>
#include <set>
#include <tuple>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "metrics/catalog.hpp"
#include "schema/enums.hpp"
#include "testplans/peak_figure.hpp"

namespace kiln::daemon {
namespace {

using kiln::v1::ChipStepResult;
using kiln::v1::Detection;

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  const std::size_t n = values.size();
  return n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2.0;
}

}  // namespace

// Conditions that fail a chip whatever the plan's limits say (DESIGN §5):
// the health watches, and corruption the chip's own data shows — a located
// SDC, a memory pattern or a collective reading back wrong data is a faulty
// chip in any step, with or without an `sdc_errors` limit.
bool is_health_watch(const Detection& d) {
  switch (d.kind()) {
    case kiln::v1::DETECTION_UNCORRECTABLE:
    case kiln::v1::DETECTION_LINK_DROPPED:
    case kiln::v1::DETECTION_HANG:
    case kiln::v1::DETECTION_CRITICAL_TEMPERATURE:
    case kiln::v1::DETECTION_CORRUPTION: return true;
    default: return false;
  }
}

namespace {

std::string location_json(const Detection& d) {
  nlohmann::ordered_json loc = nlohmann::ordered_json::object();
  const auto& l = d.location();
  auto put = [&](const std::string& key) {
    if (auto it = l.find(key); it != l.end()) loc[key] = it->second;
  };
  put("core");
  if (l.contains("pe_row") && l.contains("pe_col")) loc["pe"] = {l.at("pe_row"), l.at("pe_col")};
  for (std::string_view key :
       {std::string_view("bit"), std::string_view("stack"), std::string_view("channel"), std::string_view("link"),
        std::string_view(metrics::kVoltageMv), std::string_view(metrics::kClockMhz)}) {
    put(std::string(key));
  }
  for (const auto& [key, value] : l) {
    if (!loc.contains(key) && key != "pe_row" && key != "pe_col") loc[key] = value;
  }
  return loc.dump();
}

std::string conditions_json(const Detection& d) {
  nlohmann::ordered_json c = nlohmann::ordered_json::object();
  if (!d.has_conditions()) return c.dump();
  const auto& k = d.conditions();
  if (k.has_temperature_c()) c[metrics::kTemperatureC.str()] = k.temperature_c();
  if (k.has_power_w()) c[metrics::kPowerW.str()] = k.power_w();
  if (k.has_clock_mhz()) c[metrics::kClockMhz.str()] = k.clock_mhz();
  if (k.has_voltage_mv()) c[metrics::kVoltageMv.str()] = k.voltage_mv();
  return c.dump();
}

// Corruption at this many distinct processing elements in one step is not
// a faulty PE: the chip runs past its timing margin at that operating point.
constexpr std::size_t kScatteredPes = 4;

// The step's detections, with SDCs scattered over many PEs folded into one
// margin detection located at the operating point (voltage, clock) where
// the first of them appeared, under that moment's conditions. Corruption at
// one (or a few) PEs stays sdc at those PEs.
std::vector<Detection> with_margin_named(const google::protobuf::RepeatedPtrField<Detection>& all) {
  // (The agent caps the locations it lists at many more than this, so a
  // scattered step always shows enough of them here.)
  std::set<std::tuple<std::int64_t, std::int64_t, std::int64_t>> pes;
  for (const auto& d : all) {
    if (d.cls() != kiln::v1::FAILURE_SDC || d.kind() != kiln::v1::DETECTION_CORRUPTION) continue;
    const auto& l = d.location();
    if (l.contains("pe_row") && l.contains("pe_col")) {
      pes.emplace(l.contains("core") ? l.at("core") : 0, l.at("pe_row"), l.at("pe_col"));
    }
  }
  std::vector<Detection> out;
  if (pes.size() < kScatteredPes) {
    out.assign(all.begin(), all.end());
    return out;
  }
  Detection margin;
  margin.set_cls(kiln::v1::FAILURE_MARGIN);
  margin.set_kind(kiln::v1::DETECTION_CORRUPTION);
  margin.set_metric(metrics::kSdcErrors.str());
  const Detection* first = nullptr;
  double last_t = 0;
  std::int64_t last_ms = 0;
  for (const auto& d : all) {
    if (d.cls() != kiln::v1::FAILURE_SDC || d.kind() != kiln::v1::DETECTION_CORRUPTION) {
      out.push_back(d);
      continue;
    }
    margin.set_count(margin.count() + d.count());
    if (first == nullptr || d.first_t_s() < first->first_t_s()) first = &d;
    last_t = std::max(last_t, d.last_t_s());
    last_ms = std::max(last_ms, d.last_wall_unix_ms());
  }
  margin.set_first_t_s(first->first_t_s());
  margin.set_first_wall_unix_ms(first->first_wall_unix_ms());
  margin.set_last_t_s(last_t);
  margin.set_last_wall_unix_ms(last_ms);
  *margin.mutable_conditions() = first->conditions();
  const auto& c = first->conditions();
  if (c.has_voltage_mv()) (*margin.mutable_location())[metrics::kVoltageMv.str()] = std::llround(c.voltage_mv());
  if (c.has_clock_mhz()) (*margin.mutable_location())[metrics::kClockMhz.str()] = std::llround(c.clock_mhz());
  margin.set_detail(
      fmt::format("corruption at {} processing elements, scattered: out of timing margin at this "
                  "operating point{}",
                  pes.size(), c.has_temperature_c() ? fmt::format(" and {:.1f} °C", c.temperature_c()) : ""));
  out.insert(out.begin(), std::move(margin));
  return out;
}

store::FailureRow failure_from(const Detection& d, const JudgeInput& in, metrics::FailureClass cls,
                               const std::string& detail) {
  store::FailureRow f;
  f.cls = std::string(metrics::to_string(cls));
  f.step_index = in.step_index;
  f.step_name = in.step->name;
  f.count = d.count();
  f.location_json = location_json(d);
  f.conditions_json = conditions_json(d);
  f.first_t_s = d.first_t_s();
  f.last_t_s = d.last_t_s();
  f.first_unix_ms = d.first_wall_unix_ms();
  f.last_unix_ms = d.last_wall_unix_ms();
  f.detail = detail.empty() ? d.detail() : detail;
  return f;
}

struct Bounds {
  std::optional<double> min, max, marginal_min, marginal_max;
  std::string base_text;  // " (0.85 of peak 667)" for messages
};

std::string fmt_num(double v) { return fmt::format("{:.6g}", v); }

// The class a detection names, or `fallback` when it names none.
metrics::FailureClass class_of(const Detection& d, metrics::FailureClass fallback) {
  return wire::from_proto(d.cls()).value_or(fallback);
}

}  // namespace

metrics::FailureClass failure_class_for(const std::string& metric, const metrics::MetricCatalog& catalog) {
  const metrics::MetricDef* def = catalog.find(metric);
  // The plan loader only accepts catalogued metrics; anything else is a bug
  // upstream, and a performance failure is the least surprising name for it.
  return def != nullptr ? def->failure_class : metrics::FailureClass::underperforming;
}

PeerReference peer_reference(const std::vector<const ChipStepResult*>& results) {
  PeerReference ref;
  std::map<std::string, std::vector<double>> avgs, maxes;
  for (const auto* r : results) {
    if (r == nullptr || !r->completed()) continue;
    ++ref.chips;
    for (const auto& [metric, s] : r->metrics()) {
      if (s.count() == 0) continue;
      avgs[metric].push_back(s.avg());
      maxes[metric].push_back(s.max());
    }
  }
  for (auto& [metric, values] : avgs) ref.median_avg[metric] = median(values);
  for (auto& [metric, values] : maxes) ref.median_max[metric] = median(values);
  return ref;
}

Judgement judge(const JudgeInput& in) {
  if (in.result == nullptr) return Judgement{in.missing_verdict, in.missing_reason, {}};
  const ChipStepResult& r = *in.result;
  if (r.unsupported()) {
    return Judgement{Verdict::inconclusive, fmt::format("not run: {}", r.note()), {}};
  }

  const metrics::MetricCatalog& catalog = in.catalog != nullptr ? *in.catalog : metrics::MetricCatalog::builtin();
  Judgement j;
  std::vector<std::pair<Verdict, std::string>> reasons;
  auto raise = [&](Verdict v, std::string why) {
    j.verdict = worst(j.verdict, v);
    reasons.emplace_back(v, std::move(why));
  };

  const std::vector<Detection> detections = with_margin_named(r.detections());
  bool health_watch_failed = false;
  std::vector<std::pair<std::size_t, std::string>> watched;  // j.failures index → the detection's metric
  for (const auto& d : detections) {
    if (!is_health_watch(d)) continue;
    health_watch_failed = true;
    const metrics::FailureClass cls = class_of(d, metrics::FailureClass::hang);
    watched.emplace_back(j.failures.size(), d.metric());
    j.failures.push_back(failure_from(d, in, cls, ""));
    raise(Verdict::fail, fmt::format("{}{}", metrics::to_string(cls), d.detail().empty() ? "" : ": " + d.detail()));
  }
  if (!r.completed() && !in.so_far) {
    raise(Verdict::inconclusive, fmt::format("step cut short{}", r.note().empty() ? "" : ": " + r.note()));
  }

  for (const plan::Limit& limit : in.step->limits) {
    if (in.so_far && (limit.of == plan::LimitBase::peers || (!limit.max && !limit.marginal_max))) continue;
    auto summary = r.metrics().find(limit.metric);
    if (summary == r.metrics().end() || summary->second.count() == 0) {
      if (!in.so_far) {
        raise(Verdict::inconclusive, fmt::format("{}: unavailable on this chip, limit not judged", limit.metric));
      }
      continue;
    }
    double base = 1.0, base_max = 1.0;
    std::string base_text;
    switch (limit.of) {
      case plan::LimitBase::absolute: break;
      case plan::LimitBase::peak: {
        auto peak = in.peaks ? plan::peak_figure(limit.metric, *in.step, *in.peaks, catalog) : std::nullopt;
        if (!peak) {
          if (!in.so_far) {
            raise(Verdict::inconclusive,
                  fmt::format("{}: no peak figure for this SKU, limit not judged", limit.metric));
          }
          continue;
        }
        base = base_max = *peak;
        base_text = fmt::format(" of peak {}", fmt_num(*peak));
        break;
      }
      case plan::LimitBase::peers: {
        constexpr std::size_t kMinPeers = 3;  // a median of one or two chips says nothing
        if (in.peers == nullptr || in.peers->chips < kMinPeers || !in.peers->median_avg.contains(limit.metric)) {
          raise(Verdict::inconclusive,
                fmt::format("{}: fewer than {} peers of the same SKU, limit not judged", limit.metric, kMinPeers));
          continue;
        }
        base = in.peers->median_avg.at(limit.metric);
        base_max = in.peers->median_max.at(limit.metric);
        base_text = fmt::format(" of peer median {}", fmt_num(base));
        break;
      }
      case plan::LimitBase::baseline: {
        const BaselineReference* b = in.baseline;
        if (b == nullptr || !b->avg.contains(limit.metric) || !b->max.contains(limit.metric)) {
          // The chip's first run of the plan: what it measures now becomes its
          // baseline (if it passes), so this limit is recorded, not judged.
          if (!in.so_far) {
            raise(Verdict::pass, fmt::format("{}: baseline established (no earlier passing run of this plan on this "
                                             "chip to compare with)",
                                             limit.metric));
          }
          continue;
        }
        base = b->avg.at(limit.metric);
        base_max = b->max.at(limit.metric);
        base_text = fmt::format(" of baseline {} (run {})", fmt_num(base), b->run_id);
        break;
      }
    }
    // Counters are cumulative within a run (DESIGN §7) and an agent's summary
    // of one starts at its value when the step began, so the step's own
    // count is max − min: errors seen in an earlier step do not fail this one again.
    const bool counter = catalog.is_counter(limit.metric);
    const double avg = summary->second.avg();
    const double max = counter ? summary->second.max() - summary->second.min() : summary->second.max();
    std::optional<std::string> violation;
    if (limit.min && !in.so_far && avg < *limit.min * base) {
      violation = fmt::format("{} avg {} < min {}{}", limit.metric, fmt_num(avg), fmt_num(*limit.min * base),
                              base_text.empty() ? "" : fmt::format(" ({}{})", fmt_num(*limit.min), base_text));
    } else if (limit.max && max > *limit.max * base_max) {
      violation = fmt::format("{} max {} > max {}{}", limit.metric, fmt_num(max), fmt_num(*limit.max * base_max),
                              base_text.empty() ? "" : fmt::format(" ({}{})", fmt_num(*limit.max), base_text));
    }
    if (violation) {
      const metrics::FailureClass cls = failure_class_for(limit.metric, catalog);
      bool located = false;
      for (const auto& d : detections) {
        if (d.metric() != limit.metric) continue;
        located = true;
        if (is_health_watch(d)) continue;  // failed already, above: listed once
        // A detection that knows better names the class (a busbw shortfall
        // located at a link trained narrow is link_degraded).
        j.failures.push_back(failure_from(d, in, class_of(d, cls), *violation));
      }
      // The health watches' failures of this metric say which limit it broke too.
      for (const auto& [index, metric] : watched) {
        if (metric == limit.metric && j.failures[index].detail.empty()) j.failures[index].detail = *violation;
      }
      if (!located) {
        store::FailureRow f;
        f.cls = std::string(metrics::to_string(cls));
        f.step_index = in.step_index;
        f.step_name = in.step->name;
        f.count = counter ? static_cast<std::uint64_t>(max) : 1;
        f.location_json = "{}";
        f.conditions_json = "{}";
        f.detail = *violation;
        j.failures.push_back(std::move(f));
      }
      raise(Verdict::fail, *violation);
      continue;
    }
    if (limit.marginal_min && !in.so_far && avg < *limit.marginal_min * base) {
      raise(Verdict::marginal, fmt::format("{} avg {} below marginal {}", limit.metric, fmt_num(avg),
                                           fmt_num(*limit.marginal_min * base)));
    } else if (limit.marginal_max && max > *limit.marginal_max * base_max) {
      raise(Verdict::marginal, fmt::format("{} max {} above marginal {}", limit.metric, fmt_num(max),
                                           fmt_num(*limit.marginal_max * base_max)));
    }
  }

  // A pass says nothing unless it established a baseline.
  if (j.verdict != Verdict::pass) {
    std::erase_if(reasons, [](const auto& r) { return r.first == Verdict::pass; });
  }
  // The reason names what decided the verdict first, then the rest.
  std::stable_sort(reasons.begin(), reasons.end(),
                   [](const auto& a, const auto& b) { return static_cast<int>(a.first) > static_cast<int>(b.first); });
  for (const auto& [verdict, why] : reasons) j.reason += (j.reason.empty() ? "" : "; ") + why;
  j.health_watch_failed = health_watch_failed;
  return j;
}

SoFar judge_so_far(JudgeInput input) {
  input.so_far = true;
  const Judgement j = judge(input);
  if (j.verdict != Verdict::fail) return {};
  return SoFar{j.health_watch_failed ? SoFar::State::failed : SoFar::State::over_limit, j.reason};
}

}  // namespace kiln::daemon
