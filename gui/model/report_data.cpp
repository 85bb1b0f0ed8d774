#include "gui/model/report_data.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "metrics/catalog.hpp"

namespace kiln::gui {

namespace {

using Json = nlohmann::json;

std::string str(const Json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// Everything in a failure that is neither bookkeeping nor conditions is its location.
std::string location_of(const Json& f) {
  static const char* const kNotLocation[] = {"class",   "step",      "step_index", "step_label", "count", "first_at",
                                             "last_at", "first_t_s", "last_t_s",   "conditions", "detail"};
  std::string out;
  for (const auto& [key, value] : f.items()) {
    bool skip = false;
    for (const char* k : kNotLocation) skip = skip || key == k;
    if (skip) continue;
    if (!out.empty()) out += ' ';
    out += key + "=" + (value.is_string() ? value.get<std::string>() : value.dump());
  }
  return out;
}

std::string conditions_of(const Json& c) {
  std::string out;
  auto add = [&](metrics::MetricName key, int precision) {
    auto it = c.find(key.str());
    if (it == c.end() || !it->is_number()) return;
    if (!out.empty()) out += ", ";
    out += fmt::format("{:.{}f} {}", it->get<double>(), precision, metrics::MetricCatalog::builtin().at(key).unit);
  };
  add(metrics::kTemperatureC, 1);
  add(metrics::kPowerW, 0);
  add(metrics::kClockMhz, 0);
  add(metrics::kVoltageMv, 0);
  return out;
}

}  // namespace

Result<VerdictMatrix> VerdictMatrix::from_report_json(const std::string& text) {
  auto j = Json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.contains("run") || !j.contains("chips")) {
    return make_error(ErrorCode::parse, "the report does not parse");
  }
  VerdictMatrix m;
  m.run_id = j["run"].value("id", std::uint64_t{0});
  m.status = str(j["run"], "status");
  for (const auto& chip : j["chips"]) {
    if (m.steps.empty()) {
      // A step's label tells a repeated name apart ("gemm-bf16 #2"); older reports have none.
      for (const auto& s : chip.value("steps", Json::array())) {
        m.steps.push_back(s.contains("label") ? str(s, "label") : str(s, "name"));
      }
    }
    const std::string serial = str(chip, "serial");
    m.serials.push_back(serial);
    m.racks.push_back(str(chip, "rack"));
    m.chip_verdicts.push_back(str(chip, "verdict"));
    std::vector<std::string> row, why;
    for (const auto& s : chip.value("steps", Json::array())) {
      row.push_back(str(s, "verdict"));
      why.push_back(str(s, "reason"));
    }
    row.resize(m.steps.size());
    why.resize(m.steps.size());
    m.cells.push_back(std::move(row));
    m.reasons.push_back(std::move(why));
    for (const auto& f : chip.value("failures", Json::array())) {
      FailureInfo info;
      info.serial = serial;
      info.cls = str(f, "class");
      info.step = f.contains("step_label") ? str(f, "step_label") : str(f, "step");
      info.count = f.value("count", std::uint64_t{0});
      info.location = location_of(f);
      info.conditions = conditions_of(f.value("conditions", Json::object()));
      info.first_at = str(f, "first_at");
      info.detail = str(f, "detail");
      m.failures.push_back(std::move(info));
    }
  }
  return m;
}

std::vector<FailureInfo> VerdictMatrix::failures_of(const std::string& serial) const {
  std::vector<FailureInfo> out;
  for (const auto& f : failures) {
    if (f.serial == serial) out.push_back(f);
  }
  return out;
}

Result<ChipHistory> ChipHistory::from_chip_json(const std::string& text) {
  auto j = Json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return make_error(ErrorCode::parse, "the chip's history does not parse");
  ChipHistory h;
  h.serial = str(j, "serial");
  h.sku = str(j, "sku");
  h.rack = str(j, "rack");
  for (const auto& r : j.value("runs", Json::array())) {
    HistoryEntry e;
    e.run_id = r.value("run", std::uint64_t{0});
    e.plan = str(r, "plan");
    e.rack = str(r, "rack");
    e.slot = r.value("slot", 0u);
    e.verdict = str(r, "verdict");
    e.status = str(r, "status");
    e.submitted = str(r, "submitted");
    h.runs.push_back(std::move(e));
  }
  return h;
}

}  // namespace kiln::gui
