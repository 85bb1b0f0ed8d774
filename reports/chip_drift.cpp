#include "reports/chip_drift.hpp"

#include <algorithm>
#include <cmath>

#include <nlohmann/json.hpp>

#include "metrics/catalog.hpp"

namespace kiln::reports {
namespace {

struct Sum {
  double total = 0;
  int count = 0;
  void add(double v) {
    if (std::isfinite(v)) {
      total += v;
      ++count;
    }
  }
  double mean() const { return count ? total / count : 0; }
};

const store::MetricRow* find_metric(const store::ChipStepRow& cs, std::string_view name) {
  for (const auto& m : cs.metrics) {
    if (m.metric == name && m.count > 0) return &m;
  }
  return nullptr;
}

std::string dtype_of(const store::StepRow& step) {
  const auto params = nlohmann::json::parse(step.params_json, nullptr, false);
  if (params.is_object() && params.contains("dtype") && params["dtype"].is_string()) {
    return params["dtype"].get<std::string>();
  }
  return "default";
}

bool judged(const std::string& verdict) { return verdict == "pass" || verdict == "marginal" || verdict == "fail"; }

}  // namespace

lifecycle::Better better_for(const std::string& figure) {
  return figure.starts_with("gemm_tflops") || figure.starts_with("hbm_gbps") ? lifecycle::Better::higher
                                                                             : lifecycle::Better::lower;
}

bool ChipDrift::alarm() const {
  auto any = [](const std::vector<lifecycle::DriftFinding>& f) {
    return std::any_of(f.begin(), f.end(), [](const auto& d) { return d.alarm; });
  };
  return any(history) || any(peers);
}

Result<std::map<std::string, std::map<std::string, double>>> run_figures(store::Reader& reader, std::uint64_t run_id) {
  KILN_TRY_ASSIGN(auto steps, reader.steps(run_id));
  KILN_TRY_ASSIGN(auto chips, reader.run_chips(run_id));
  KILN_TRY_ASSIGN(auto chip_steps, reader.chip_steps(run_id));
  std::map<std::uint32_t, const store::StepRow*> by_index;
  for (const auto& s : steps) by_index[s.step_index] = &s;
  std::map<std::string, bool> counted;
  for (const auto& c : chips) counted[c.serial] = judged(c.verdict);

  struct Acc {
    std::map<std::string, Sum> tflops, temp, power;
    Sum hbm;
    double ce = 0, ran_s = 0;
  };
  std::map<std::string, Acc> acc;
  for (const auto& cs : chip_steps) {
    if (!counted[cs.serial] || !cs.completed) continue;
    const auto it = by_index.find(cs.step_index);
    if (it == by_index.end()) continue;
    const store::StepRow& step = *it->second;
    Acc& a = acc[cs.serial];
    a.ran_s += cs.ran_s;
    if (const auto* m = find_metric(cs, metrics::kHbmCe)) a.ce += std::isfinite(m->max) ? m->max : 0;
    if (step.pattern == "gemm") {
      const std::string dtype = dtype_of(step);
      if (const auto* m = find_metric(cs, metrics::kTflops)) a.tflops[dtype].add(m->avg);
      if (const auto* m = find_metric(cs, metrics::kTemperatureC)) a.temp[dtype].add(m->avg);
      if (const auto* m = find_metric(cs, metrics::kPowerW)) a.power[dtype].add(m->avg);
    } else if (step.pattern == "hbm") {
      if (const auto* m = find_metric(cs, metrics::kHbmGbps)) a.hbm.add(m->avg);
    }
  }
  std::map<std::string, std::map<std::string, double>> out;
  for (const auto& [serial, a] : acc) {
    auto& f = out[serial];
    for (const auto& [dtype, s] : a.tflops) {
      if (s.count) f["gemm_tflops[" + dtype + "]"] = s.mean();
    }
    for (const auto& [dtype, t] : a.temp) {
      const auto p = a.power.find(dtype);
      if (t.count && p != a.power.end() && p->second.mean() > 0)
        f["c_per_w[" + dtype + "]"] = t.mean() / p->second.mean();
    }
    if (a.hbm.count) f["hbm_gbps"] = a.hbm.mean();
    if (a.ran_s > 0) f["hbm_ce_per_hour"] = a.ce / a.ran_s * 3600.0;
  }
  return out;
}

Result<const std::map<std::string, std::map<std::string, double>>*> DriftReader::figures(std::uint64_t run_id) {
  auto it = cache_.find(run_id);
  if (it == cache_.end()) {
    KILN_TRY_ASSIGN(auto f, run_figures(reader_, run_id));
    it = cache_.emplace(run_id, std::move(f)).first;
  }
  return &it->second;
}

Result<const std::vector<store::HistoryRow>*> DriftReader::history(const std::string& serial) {
  auto it = histories_.find(serial);
  if (it == histories_.end()) {
    KILN_TRY_ASSIGN(auto rows, reader_.chip_history(serial));
    it = histories_.emplace(serial, std::move(rows)).first;
  }
  return &it->second;
}

Result<DriftReader::Trend> DriftReader::trend(const std::string& who, std::size_t max_runs, std::uint64_t upto) {
  KILN_TRY_ASSIGN(const auto* rows, history(who));
  std::vector<const store::HistoryRow*> kept;  // newest first, at most max_runs
  for (auto it = rows->rbegin(); it != rows->rend() && kept.size() < max_runs; ++it) {
    if ((upto == 0 || it->run_id <= upto) && judged(it->verdict)) kept.push_back(&*it);
  }
  Trend out;
  for (auto it = kept.rbegin(); it != kept.rend(); ++it) {
    const store::HistoryRow& h = **it;
    KILN_TRY_ASSIGN(const auto* figures_of_run, figures(h.run_id));
    const auto mine = figures_of_run->find(who);
    if (mine == figures_of_run->end()) continue;
    for (const auto& [figure, value] : mine->second) out[figure].push_back({h.run_id, value});
  }
  return out;
}

Result<ChipDrift> DriftReader::chip(const std::string& serial, std::uint64_t upto) {
  if (!chips_) {
    KILN_TRY_ASSIGN(auto rows, reader_.chips());
    chips_ = std::move(rows);
  }
  std::string sku;
  for (const auto& c : *chips_) sku = c.serial == serial ? c.sku : sku;
  ChipDrift drift;
  KILN_TRY_ASSIGN(drift.trend, trend(serial, kMaxRuns, upto));
  std::map<std::string, std::vector<double>> peer_latest;
  for (const auto& c : *chips_) {
    if (c.serial == serial || c.sku != sku) continue;
    auto latest = latest_.find({c.serial, upto});
    if (latest == latest_.end()) {
      KILN_TRY_ASSIGN(auto theirs, trend(c.serial, 1, upto));
      latest = latest_.emplace(std::pair{c.serial, upto}, std::move(theirs)).first;
    }
    for (const auto& [figure, values] : latest->second) peer_latest[figure].push_back(values.back().value);
  }
  for (const auto& [figure, values] : drift.trend) {
    std::vector<lifecycle::DriftPoint> points;
    for (const auto& v : values) points.push_back({v.run_id, v.value});
    drift.history.push_back(lifecycle::drift_against_history(figure, better_for(figure), points));
    drift.peers.push_back(
        lifecycle::drift_against_peers(figure, better_for(figure), values.back().value, peer_latest[figure]));
  }
  return drift;
}

}  // namespace kiln::reports
